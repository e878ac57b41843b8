"""Statistics pages (统计): a community's for its staff (``/staff/stats``; an administrator names
the community) and the street's for administrators (``/admin/stats``): a month picker or two
dates, then each figure as a server-drawn chart beside its table, and a warning in words when
the shelves hold fewer points of goods than residents hold. Works without JavaScript.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromQuery
from litestar.types import ControllerRouterHandler
from markupsafe import Markup

from mall import days
from mall.access import STAFF_ROLES
from mall.errors import N_, Invalid, MallError
from mall.reports import stats
from web import charts
from web.deps import Db
from web.i18n import gettext as _
from web.pages.common import EXCEPTION_HANDLERS, message, no_store, user
from web.pages.staff import community_of
from web.pages.stats_sections import Section, coverage_text, sections
from web.render import render

ADMIN = ("admin",)


def _day(value: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise Invalid(N_("Please give dates as YYYY-MM-DD.")) from exc


def asked_range(month: str, start: str, end: str) -> tuple[date, date]:
    """The days asked for: a month (``YYYY-MM``) wins over two dates; neither is this month."""
    if month.strip():
        return days.month(month)
    return stats.window(_day(start), _day(end))


def drawn(section: Section) -> dict[str, Any]:
    """The section with its chart (when it has rows to draw)."""
    chart: Markup | None = None
    if section.charted and section.rows:
        chart = charts.bar(
            section.title,
            [label for label, _ in section.rows],
            [int(values[0] or 0) for _, values in section.rows],
        )
    return {"section": section, "chart": chart}


def _form(month: str, start: str, end: str) -> tuple[date, date, str | None]:
    """The range asked for, or this month and the reason it was refused."""
    try:
        first, last = asked_range(month, start, end)
        return first, last, None
    except MallError as exc:
        first, last = stats.window(None, None)
        return first, last, message(exc)


def _dates(request: Request[Any, Any, Any]) -> tuple[str, str]:
    return request.query_params.get("from", ""), request.query_params.get("to", "")


class StatsPages(Controller):
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/staff/stats")
    async def community_page(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        community: FromQuery[str] = "",
        month: FromQuery[str] = "",
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        slug = community_of(p, community)
        first, last, error = _form(month, *_dates(request))
        context: dict[str, Any] = {"me": p, "slug": slug, "error": error}
        if slug:
            report = await stats.community_report(db, p, slug, start=first, end=last)
            context |= {
                "report": report,
                "parts": [drawn(s) for s in sections(report)],
                "coverage": coverage_text(report.figures.coverage),
            }
        context |= {"first": first, "last": last, "month": f"{first:%Y-%m}"}
        return no_store(
            render(request, "stats/community.html", status_code=400 if error else 200, **context)
        )

    @get("/admin/stats")
    async def street_page(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        month: FromQuery[str] = "",
    ) -> Response[Any]:
        p = await user(request, db, ADMIN)
        first, last, error = _form(month, *_dates(request))
        street = await stats.street_report(db, p, start=first, end=last)
        issued = charts.bar(
            _("Points issued by community"),
            [c.name for c in street.communities],
            [c.figures.issued for c in street.communities],
        )
        return no_store(
            render(
                request,
                "stats/street.html",
                status_code=400 if error else 200,
                me=p,
                here="stats",
                error=error,
                street=street,
                issued_chart=issued if street.communities else None,
                parts=[drawn(s) for s in sections(street.total)],
                coverage=coverage_text(street.total.figures.coverage),
                coverage_of=coverage_text,
                first=first,
                last=last,
                month=f"{first:%Y-%m}",
            )
        )


ROUTES: list[ControllerRouterHandler] = [StatsPages]
