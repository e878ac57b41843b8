"""The public notice board (公示) as pages: the community's page anyone may open (no sign-in,
briefly cacheable, no JavaScript needed), its printable A4 version with a QR code back to the
page, and a resident's objection form. The rules live in ``mall.reports``.

The public page is the same for everyone (an "Object" link on each open entry leads to the
resident's own form), so it holds nothing personal and a browser may keep it for a minute.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from mall.errors import N_, Invalid, MallError
from mall.reports import notice, objections
from mall.settings import get_settings
from web import qr
from web.deps import Db
from web.pages.common import (
    EXCEPTION_HANDLERS,
    form_status,
    message,
    no_store,
    resident,
    see_other,
    when,
)
from web.pages.rules import PATH_WORDS
from web.render import render
from web.session import client_ip

#: seconds a browser may keep the public page
CACHE_FOR = 60

STATUS_WORDS = {"posted": N_("Issued"), "reversed": N_("Reversed")}


def public_url(slug: str) -> str:
    """The public page's full address, for QR codes."""
    return f"{get_settings().base_url}/c/{slug}/notice"


def _day(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise Invalid(N_("Please give dates as YYYY-MM-DD.")) from exc


def _rows(board: notice.Notice) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [
        {
            "entry": e,
            "when": when(e.at),
            "until": when(e.objection_until),
            "open": e.status == "posted" and now <= e.objection_until,
        }
        for e in board.entries
    ]


class NoticeController(Controller):
    path = "/c"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    async def _board(
        self, request: Request[Any, Any, Any], db: Db, slug: str, template: str, **extra: Any
    ) -> Response[Any]:
        start = _day(request.query_params.get("from", ""))
        end = _day(request.query_params.get("to", ""))
        board = await notice.notice_board(db, slug, start=start, end=end)
        response = render(
            request,
            template,
            board=board,
            rows=_rows(board),
            paths=PATH_WORDS,
            statuses=STATUS_WORDS,
            **extra,
        )
        response.headers["Cache-Control"] = f"private, max-age={CACHE_FOR}"
        return response

    @get("/{slug:str}/notice")
    async def board(
        self, request: Request[Any, Any, Any], db: Db, slug: FromPath[str]
    ) -> Response[Any]:
        return await self._board(request, db, slug, "notice/board.html")

    @get("/{slug:str}/notice/print")
    async def printable(
        self, request: Request[Any, Any, Any], db: Db, slug: FromPath[str]
    ) -> Response[Any]:
        url = public_url(slug)
        return await self._board(
            request, db, slug, "notice/print.html", url=url, qr=await qr.render(url, cache=True)
        )

    async def _object_page(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        slug: str,
        entry_id: int,
        *,
        reason: str = "",
        error: str | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        entry = await notice.find_entry(db, slug, entry_id)
        return no_store(
            render(
                request,
                "notice/object.html",
                status_code=status_code,
                slug=slug,
                entry=entry,
                reason=reason,
                error=error,
                max_reason=objections.MAX_REASON,
                paths=PATH_WORDS,
                when=when,
            )
        )

    @get("/{slug:str}/notice/{entry_id:int}/object")
    async def object_form(
        self, request: Request[Any, Any, Any], db: Db, slug: FromPath[str], entry_id: FromPath[int]
    ) -> Response[Any]:
        me = await resident(request, db)
        if me.community_slug != slug:
            return see_other(f"/c/{me.community_slug}/notice")
        return await self._object_page(request, db, slug, entry_id)

    @post("/{slug:str}/notice/{entry_id:int}/object")
    async def object(
        self, request: Request[Any, Any, Any], db: Db, slug: FromPath[str], entry_id: FromPath[int]
    ) -> Response[Any]:
        me = await resident(request, db)
        form = await request.form()
        reason = str(form.get("reason", ""))
        try:
            if me.community_slug != slug:
                raise Invalid(N_("You can object only to your own community's notice."))
            await objections.file(db, me, entry_id, reason, ip=client_ip(request))
        except MallError as exc:
            return await self._object_page(
                request,
                db,
                slug,
                entry_id,
                reason=reason,
                error=message(exc),
                status_code=form_status(exc) if exc.status != 409 else 409,
            )
        return see_other("/me/objections")
