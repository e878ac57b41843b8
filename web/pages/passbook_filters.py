"""The resident's passbook by month and earning path (积分存折按月查看), with the month's totals:
earned, spent, net. The statement is ``mall.people.statements``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromQuery

from mall import days
from mall.org.points import PATHS
from mall.people import statements
from web.deps import Db
from web.i18n import gettext as _
from web.pages.common import EXCEPTION_HANDLERS, no_store, passbook_rows, resident
from web.pages.rules import PATH_WORDS
from web.render import render
from web.session import own_resident_id


def _months_back(first: date, n: int) -> list[str]:
    found, y, m = [], first.year, first.month
    for _i in range(n):
        found.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return found


class PassbookFilterController(Controller):
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/me/passbook/months")
    async def by_month(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        month: FromQuery[str] = "",
        path: FromQuery[str] = "",
    ) -> Response[Any]:
        p = await resident(request, db)
        found = await statements.month_statement(
            db, p, own_resident_id(p), month=month or None, path=path or None
        )
        return no_store(
            render(
                request,
                "resident/passbook_months.html",
                s=found,
                rows=passbook_rows(found.entries),
                month=f"{found.month:%Y-%m}",
                months=_months_back(days.today().replace(day=1), 12),
                path=path,
                paths=[(code, _(PATH_WORDS[code])) for code in PATHS],
            )
        )
