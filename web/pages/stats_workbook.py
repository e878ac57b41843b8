"""The monthly workbook (月报, XLSX): the street's for administrators (every community and the
street's total) and a community's own for its staff. Chinese headers whatever the page's
language; one sheet per figure of the statistics pages, after a sheet saying which days it
covers and when it was made (China time). Written to a temporary file, streamed, then closed
(``web.downloads``, as the exports).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromQuery
from litestar.response import Stream
from litestar.types import ControllerRouterHandler

from mall import days
from mall.access import STAFF_ROLES
from mall.errors import Invalid
from mall.reports import stats, workbook
from mall.reports.workbook import Sheet
from mall.xlsx import Cell
from web.deps import Db
from web.downloads import xlsx_download
from web.i18n import DEFAULT, set_language
from web.i18n import gettext as _
from web.pages.common import EXCEPTION_HANDLERS, user
from web.pages.staff import community_of
from web.pages.stats_sections import FIGURE_WORDS, figure_values, sections


def sheets(reports: list[tuple[str, stats.Report]], start: Any, end: Any) -> list[Sheet]:
    """The workbook's sheets: what it covers, the figures of each report (a row each), then one
    sheet per figure with the rows of every report, each named by its community."""
    made = datetime.now(UTC).astimezone(days.CALENDAR)
    about = Sheet(
        name=_("About"),
        header=[_("Item"), _("Value")],
        rows=[
            [_("First day"), f"{start:%Y-%m-%d}"],
            [_("Last day"), f"{end:%Y-%m-%d}"],
            [_("Made at (China time)"), f"{made:%Y-%m-%d %H:%M}"],
        ],
    )
    community = _("Community")
    overview = Sheet(
        name=_("Figures"),
        header=[community, *(_(w) for w in FIGURE_WORDS.values())],
        rows=[[who, *figure_values(r.figures)] for who, r in reports],
    )
    found = [about, overview]
    laid_out = [(who, sections(r)) for who, r in reports]
    for i, first in enumerate(laid_out[0][1] if laid_out else []):
        rows: list[list[Cell]] = [
            [who, label, *values] for who, parts in laid_out for label, values in parts[i].rows
        ]
        found.append(Sheet(name=first.title, header=[community, *first.columns], rows=rows))
    return found


async def _send(sheet_list: list[Sheet], filename: str) -> Stream:
    return xlsx_download(await workbook.written(sheet_list), filename)


class WorkbookPages(Controller):
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/admin/reports/monthly.xlsx")
    async def street(
        self, request: Request[Any, Any, Any], db: Db, month: FromQuery[str] = ""
    ) -> Stream:
        p = await user(request, db, ("admin",))
        start, end = days.month(month)
        found = await stats.street_report(db, p, start=start, end=end)
        set_language(DEFAULT)  # the street's report is in Chinese, whoever downloads it
        reports = [(r.name, r) for r in found.communities] + [(_("Whole street"), found.total)]
        return await _send(sheets(reports, start, end), f"street-{start:%Y-%m}.xlsx")

    @get("/staff/reports/monthly.xlsx")
    async def community(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        month: FromQuery[str] = "",
        community: FromQuery[str] = "",
    ) -> Stream:
        p = await user(request, db, STAFF_ROLES)
        slug = community_of(p, community)
        if not slug:
            raise Invalid()
        start, end = days.month(month)
        report = await stats.community_report(db, p, slug, start=start, end=end)
        set_language(DEFAULT)
        return await _send(
            sheets([(report.name, report)], start, end), f"{report.slug}-{start:%Y-%m}.xlsx"
        )


ROUTES: list[ControllerRouterHandler] = [WorkbookPages]
