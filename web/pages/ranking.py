"""The community's ranking page (积分榜), for anyone (no sign-in), linked from the public notice
board: residents who opted in, by points earned this year or by volunteer hours, with their star
level. Names masked as on the notice board; never a resident who has not opted in."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromPath, FromQuery

from mall.reports import ranking
from web.deps import Db
from web.pages.common import EXCEPTION_HANDLERS
from web.render import render


class RankingController(Controller):
    path = "/c"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/{slug:str}/ranking")
    async def board(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        slug: FromPath[str],
        by: FromQuery[str] = "points",
    ) -> Response[Any]:
        found = await ranking.ranking(db, slug, by)
        response = render(request, "notice/ranking.html", board=found)
        # not kept by a browser or a proxy: a resident who opts out is gone at once
        response.headers["Cache-Control"] = "no-cache"
        return response
