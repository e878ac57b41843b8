"""Exports and the partners' settlement as staff pages: pick a table, the days and a format, and
download (the same streamed files as the API); a month of each partner merchant's points, with
the same download. No JavaScript: plain GET forms, not boosted (a download is not a page)."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromQuery
from litestar.response import Stream

from mall.access import STAFF_ROLES
from mall.errors import N_, Invalid
from mall.reports import exports, settlement
from web.deps import Db
from web.downloads import download
from web.pages.common import EXCEPTION_HANDLERS, form_status, message, no_store, user
from web.pages.staff import community_of
from web.render import render

#: each table as staff choose it
TABLE_WORDS = {
    "awards": N_("Points issued (one row per resident of each award)"),
    "orders": N_("Orders at the counter"),
    "residents": N_("Residents (the roster at the last day)"),
    "stock-movements": N_("Stock in and out"),
    "passbook": N_("Every resident's passbook"),
    "partner-settlement": N_("Partner merchants' settlement"),
}
FORMAT_WORDS = {"xlsx": N_("Excel (.xlsx)"), "csv": N_("CSV (opens in Excel and WPS)")}


def _day(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise Invalid(N_("Please give dates as YYYY-MM-DD.")) from exc


class ExportPages(Controller):
    path = "/staff"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    async def _form(
        self,
        request: Request[Any, Any, Any],
        p: Any,
        slug: str,
        *,
        chosen: dict[str, str] | None = None,
        error: str | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        start, end = exports.month_window(None, None)
        entered = {"table": "awards", "format": "xlsx", "from": str(start), "to": str(end)}
        return no_store(
            render(
                request,
                "staff/exports.html",
                status_code=status_code,
                me=p,
                slug=slug,
                entered={**entered, **(chosen or {})},
                tables=TABLE_WORDS,
                formats=FORMAT_WORDS,
                error=error,
            )
        )

    @get("/exports")
    async def form(
        self, request: Request[Any, Any, Any], db: Db, community: FromQuery[str] = ""
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        return await self._form(request, p, community_of(p, community))

    @get("/exports/download")
    async def download(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        community: FromQuery[str] = "",
        table: FromQuery[str] = "",
        format: FromQuery[str] = "xlsx",
    ) -> Stream | Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        slug = community_of(p, community)
        start_text = request.query_params.get("from", "")
        end_text = request.query_params.get("to", "")
        chosen = {"table": table, "format": format, "from": start_text, "to": end_text}
        try:
            return await download(
                db,
                p,
                slug,
                f"{table}.{format}",
                start=_day(start_text),
                end=_day(end_text),
            )
        except Invalid as exc:
            return await self._form(
                request, p, slug, chosen=chosen, error=message(exc), status_code=form_status(exc)
            )

    @get("/partners")
    async def partners(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        community: FromQuery[str] = "",
        month: FromQuery[str] = "",
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        slug = community_of(p, community)
        context: dict[str, Any] = {"me": p, "slug": slug, "month": month, "error": None}
        status = 200
        if slug:
            try:
                context["found"] = await settlement.monthly(db, p, slug, month or None)
            except Invalid as exc:
                context["error"], status = message(exc), form_status(exc)
                context["found"] = await settlement.monthly(db, p, slug, None)
            context["month"] = context["found"].month
        return no_store(render(request, "staff/partners.html", status_code=status, **context))
