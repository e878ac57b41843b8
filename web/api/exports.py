"""Exports through the API (API.md "v1.1 additions — Transparency"): a community's tables as
XLSX or CSV for a range of days, and the partners' settlement."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import PathParameter, QueryParameter
from litestar.response import Stream
from litestar.types import ControllerRouterHandler

from mall.reports import exports
from web.api.callers import STAFF, allow
from web.api.fields import Slug
from web.deps import Caller, Db
from web.downloads import download

From = Annotated[
    date | None,
    QueryParameter(
        name="from", description="first day (China time); default the 1st of `to`'s month"
    ),
]
To = Annotated[
    date | None,
    QueryParameter(name="to", description="last day, included (China time); default today"),
]
TABLE_NAMES = ", ".join(f"`{name}`" for name in exports.TABLES)


class ExportController(Controller):
    tags = ["transparency"]

    @get(
        "/communities/{slug:str}/exports/{name:str}",
        dependencies=allow(*STAFF),
        summary="Export a table as XLSX or CSV",
        description=(
            f"`name` is a table ({TABLE_NAMES}) then `.xlsx` or `.csv`: "
            "`/communities/maple/exports/awards.xlsx`. Staff of the community and "
            "administrators. One header row (Chinese), then one row per record, dates in China "
            "time (`YYYY-MM-DD HH:MM`), amounts as numbers; a text cell that would start with "
            "`=`, `+`, `-`, `@`, tab or CR starts with `'` instead. `from`/`to` (China time, `to` "
            "included) default to the current month; backwards or more than "
            f"{exports.MAX_DAYS} days is `validation_error`, an unknown table or format "
            "`not_found`. CSV is UTF-8 with a byte-order mark. The answer streams."
        ),
    )
    async def export(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        slug: Slug,
        name: Annotated[str, PathParameter(max_length=64)],
        start: From = None,
        end: To = None,
    ) -> Stream:
        return await download(db, p, slug, name, start=start, end=end)


ROUTES: list[ControllerRouterHandler] = [ExportController]
