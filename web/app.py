"""``create_app()``: the Litestar application, its database, templates, static files and errors."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from litestar import Litestar, MediaType, Request, get
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.exceptions import ImproperlyConfiguredException
from litestar.logging import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from mall.counter import housekeeping
from mall.db import dialect_of, open_database
from mall.people import auth
from mall.settings import get_settings
from web import i18n
from web.api import api_router
from web.api.strict import StrictRequest
from web.assets import WEB, static_dir
from web.deps import dependencies
from web.headers import security_headers
from web.logs import configure
from web.metrics import metrics, readyz
from web.observe import Observed
from web.pages import PAGE_ROUTES
from web.problems import EXCEPTION_HANDLERS, answered_errors
from web.pwa import PWA_ROUTES


def _check_callers_are_taken(app: Litestar) -> None:
    """Refuse to start when a route says who may call it (``dependencies=allow(...)``, as ``p``)
    but its handler does not take ``p``: Litestar resolves a dependency only for a handler that
    declares it, so that route would check nobody."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if (
                handler.http_methods != {"OPTIONS"}  # Litestar's own OPTIONS answer takes nothing
                and "p" in handler.resolve_dependencies()
                and "p" not in handler.parsed_fn_signature.parameters
            ):
                raise ImproperlyConfiguredException(
                    f"{handler.handler_name} ({route.path}) is given the caller p but never takes it"
                )


@get("/healthz", media_type=MediaType.JSON, include_in_schema=False, cache=False)
async def healthz() -> dict[str, str]:
    """Liveness: answers without touching the database, so it is also the benchmarks' floor."""
    return {"status": "ok"}


@get("/", media_type=MediaType.HTML, include_in_schema=False)
async def home(request: Request[Any, Any, Any]) -> Template:
    return Template(template_name="home.html")


@get("/lang/{language:str}", include_in_schema=False)
async def switch_language(request: Request[Any, Any, Any], language: FromPath[str]) -> Redirect:
    """Remember the chosen language and go back where the user was (same site only)."""
    back = request.query_params.get("next", "/")
    if not back.startswith("/") or back.startswith("//"):
        back = "/"
    response = Redirect(path=back, status_code=303)
    if language in i18n.LANGUAGES:
        response.set_cookie("lang", language, max_age=400 * 86400, httponly=True, samesite="lax")
    return response


def _template_globals(engine: JinjaTemplateEngine) -> None:
    engine.engine.globals.update(
        _=i18n.gettext, ngettext=i18n.ngettext, html_lang=i18n.html_lang, language=i18n.current
    )


def _database(url: str, pool_size: int) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """The app's lifespan: the database on ``app.state.db`` (handlers get it injected as ``db``,
    ``web.deps``) and the housekeeping that lapses overdue reservations and purges old pay codes
    every few minutes; both end with the app."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        pool = {"max_size": pool_size} if dialect_of(url) == "postgres" else {}
        app.state.db = db = open_database(url, **pool)
        chores = asyncio.create_task(housekeeping.housekeeping_loop(db))
        try:
            yield
        finally:
            chores.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await chores
            await db.close()

    return lifespan


def create_app(database_url: str | None = None) -> Litestar:
    """The web app and API on ``database_url`` (default: ``MALL_DATABASE_URL``)."""
    settings = get_settings()
    state = State({"db": None})  # not empty: Litestar replaces an empty (falsy) State with its own

    if auth.FAST_HASH:
        logging.getLogger("mall.web").warning(
            "MALL_PASSWORD_HASH=fast: passwords are hashed with test-only argon2 parameters"
        )

    app = Litestar(
        request_class=StrictRequest,
        route_handlers=[
            healthz,
            readyz,
            metrics,
            home,
            switch_language,
            api_router,
            *PAGE_ROUTES,
            *PWA_ROUTES,
            create_static_files_router(
                path="/static",
                directories=[static_dir()],
                include_in_schema=False,
            ),
        ],
        template_config=TemplateConfig(
            directory=WEB / "templates",
            engine=JinjaTemplateEngine,
            engine_callback=_template_globals,
        ),
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_name="csrftoken",
            header_name="x-csrftoken",
            cookie_secure=settings.secure,
            cookie_samesite="lax",
            exclude=["/api/", "/healthz", "/static/", "/schema"],
        ),
        plugins=[HTMXPlugin()],
        # pages and htmx shrink to a third on a slow phone connection; small JSON is left alone
        compression_config=CompressionConfig(
            backend="gzip", minimum_size=1024, gzip_compress_level=6
        ),
        exception_handlers=EXCEPTION_HANDLERS,
        before_send=[security_headers(settings.secure)],
        middleware=[Observed],
        lifespan=[_database(database_url or settings.database_url, settings.db_pool_size)],
        dependencies=dependencies(state),
        state=state,
        openapi_config=OpenAPIConfig(
            title="邻里积分超市 Community Points Mall API",
            version="1",
            path="/schema",
            use_handler_docstrings=True,
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="POST /api/v1/auth/token or /api/v1/activate",
                    ),
                }
            ),
            security=[{"BearerToken": []}],
        ),
        logging_config=LoggingConfig(
            log_exceptions="never",
            configure_root_logger=False,  # web/logs.py configures it (structlog)  # web/problems.py logs what went wrong on our side, once
            # a user's mistake is answered, not logged with a stack trace
            disable_stack_trace={
                400,
                401,
                403,
                404,
                405,
                409,
                410,
                422,
                429,
                *answered_errors(),
            },
        ),
    )
    _check_callers_are_taken(app)
    return app


def create_served_app() -> Litestar:
    """The app as ``mall serve`` runs it: ``create_app()``, and once started, everything built so
    far is frozen out of the garbage collector.

    The app, its routes, templates, OpenAPI schema and libraries live as long as the process, yet
    each of the collector's full passes walked them all, stopping every request for 20-90 ms
    (worst 92 ms, in the counter's p99); with them frozen a pass takes under 6 ms
    (bench/checkout.py, docs/performance.md). Tests, which build an app per test, leave it alone.
    """
    configure(json=get_settings().log_format == "json")
    app = create_app()

    def freeze_startup_objects(_: Litestar) -> None:
        gc.collect()  # what is garbage now is collected, not frozen for good
        gc.freeze()

    app.on_startup.append(freeze_startup_objects)
    return app
