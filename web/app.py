"""``create_app()``: the Litestar application, its database, templates, static files and errors."""

from __future__ import annotations

from pathlib import Path

from litestar import Litestar, MediaType, Request, get
from litestar.datastructures import State
from litestar.logging import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from mall.db import open_database
from mall.settings import get_settings
from web.headers import add_security_headers
from web.problems import EXCEPTION_HANDLERS

ROOT = Path(__file__).resolve().parent.parent


@get("/healthz", media_type=MediaType.JSON, include_in_schema=False, cache=False)
async def healthz() -> dict[str, str]:
    """Liveness: answers without touching the database, so it is also the benchmarks' floor."""
    return {"status": "ok"}


@get("/", media_type=MediaType.HTML, include_in_schema=False)
async def home(request: Request) -> Template:
    return Template(template_name="home.html")


async def _close_db(app: Litestar) -> None:
    await app.state.db.close()


def create_app(database_url: str | None = None) -> Litestar:
    """The web app and API on ``database_url`` (default: ``MALL_DATABASE_URL``)."""

    async def open_db(app: Litestar) -> None:
        app.state.db = open_database(database_url or get_settings().database_url)

    return Litestar(
        route_handlers=[
            healthz,
            home,
            create_static_files_router(
                path="/static",
                directories=[ROOT / "static"],
                include_in_schema=False,
                cache_control=None,
            ),
        ],
        template_config=TemplateConfig(
            directory=ROOT / "web" / "templates", engine=JinjaTemplateEngine
        ),
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        before_send=[add_security_headers],
        on_startup=[open_db],
        on_shutdown=[_close_db],
        state=State({}),
        openapi_config=OpenAPIConfig(
            title="邻里积分超市 Community Points Mall API", version="1", path="/schema"
        ),
        logging_config=LoggingConfig(log_exceptions="always", disable_stack_trace={404, 401, 403}),
    )
