"""The printed passbook (积分存折): an A5 page in large type for residents who keep paper, with
their name (it is their own paper), community, balance, the latest entries (China time, earning
path, points) and what expires within a month. The resident prints their own at
``/me/passbook/print``; staff print a resident's of their community from the resident's page
(another community's is 404, a volunteer 403, as for every resident page)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromPath

from mall.access import STAFF_ROLES, Principal
from mall.db import Database
from mall.earning import expiry
from mall.people import passbooks, residents
from web.deps import Db
from web.i18n import gettext as _
from web.pages.common import EXCEPTION_HANDLERS, no_store, passbook_rows, resident, user
from web.pages.rules import PATH_WORDS
from web.render import render
from web.session import own_resident_id

#: entries on the printed page: an A5 sheet holds about this many in large type
PRINTED_ENTRIES = 24


async def printed(
    request: Request[Any, Any, Any], db: Database, p: Principal, resident_id: int, back: str
) -> Response[Any]:
    found = await residents.get_resident(db, p, resident_id)
    statement = await passbooks.passbook(db, p, resident_id, limit=PRINTED_ENTRIES)
    rows = passbook_rows(statement.entries)
    for row, entry in zip(rows, statement.entries, strict=True):
        row["path"] = _(PATH_WORDS[entry.path]) if entry.path in PATH_WORDS else ""
    return no_store(
        render(
            request,
            "resident/passbook_print.html",
            resident=found,
            rows=rows,
            expiring=await expiry.resident_expiring(db, p, resident_id),
            back=back,
        )
    )


class PassbookPrintController(Controller):
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/me/passbook/print")
    async def own(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        p = await resident(request, db)
        return await printed(request, db, p, own_resident_id(p), "/me/passbook")

    @get("/staff/residents/{resident_id:int}/passbook/print")
    async def for_staff(
        self, request: Request[Any, Any, Any], db: Db, resident_id: FromPath[int]
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        return await printed(request, db, p, resident_id, f"/staff/residents/{resident_id}")
