"""The donors' thank-you page (爱心榜) of a community, for anyone (no sign-in), linked from the
public notice board: donor units and merchants by name and what they gave. Never a resident."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromPath

from mall.reports import donors
from web.deps import Db
from web.pages.common import EXCEPTION_HANDLERS
from web.pages.goods import DONOR_KINDS
from web.render import render

#: seconds a browser or the proxy may keep the page (it changes when goods are donated)
CACHE_FOR = 300


class DonorController(Controller):
    path = "/c"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/{slug:str}/donors")
    async def board(
        self, request: Request[Any, Any, Any], db: Db, slug: FromPath[str]
    ) -> Response[Any]:
        found = await donors.donor_board(db, slug)
        response = render(request, "notice/donors.html", board=found, kinds=DONOR_KINDS)
        response.headers["Cache-Control"] = f"public, max-age={CACHE_FOR}"
        return response
