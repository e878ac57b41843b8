"""Objections as pages: staff's list (open ones first, with the date to answer by) and the page
where they uphold or dismiss one with a reply (large buttons, CSRF, no JavaScript); a resident's
own objections with staff's replies on ``/me/objections``. The rules live in
``mall.reports.objections``.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from mall.access import STAFF_ROLES, Principal
from mall.db import Database
from mall.errors import N_, MallError
from mall.reports import objections
from web.deps import Db
from web.pages.common import (
    EXCEPTION_HANDLERS,
    form_status,
    message,
    no_store,
    resident,
    see_other,
    user,
    when,
)
from web.pages.notice import STATUS_WORDS as ENTRY_WORDS
from web.pages.rules import PATH_WORDS
from web.pages.staff import community_of
from web.render import render
from web.session import client_ip

#: an objection's status → what staff and residents read
STATUS_WORDS = {
    objections.OPEN: N_("Waiting for an answer"),
    objections.UPHELD: N_("Upheld: the points were taken back"),
    objections.DISMISSED: N_("Dismissed"),
}


def _words() -> dict[str, Any]:
    return {
        "statuses": STATUS_WORDS,
        "entry_words": ENTRY_WORDS,
        "paths": PATH_WORDS,
        "when": when,
    }


class ObjectionPages(Controller):
    path = "/staff/objections"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/")
    async def index(
        self, request: Request[Any, Any, Any], db: Db, community: FromQuery[str] = ""
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        slug = community_of(p, community)
        found = await objections.community_objections(db, p, slug) if slug else []
        return no_store(
            render(request, "notice/objections.html", me=p, slug=slug, objections=found, **_words())
        )

    async def _page(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        p: Principal,
        objection_id: int,
        *,
        reply: str = "",
        error: str | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        found = await objections.one(db, p, objection_id)
        return no_store(
            render(
                request,
                "notice/objection.html",
                status_code=status_code,
                me=p,
                objection=found,
                reply=reply,
                error=error,
                max_reply=objections.MAX_REPLY,
                **_words(),
            )
        )

    @get("/{objection_id:int}")
    async def show(
        self, request: Request[Any, Any, Any], db: Db, objection_id: FromPath[int]
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        return await self._page(request, db, p, objection_id)

    @post("/{objection_id:int}/decision")
    async def decide(
        self, request: Request[Any, Any, Any], db: Db, objection_id: FromPath[int]
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        form = await request.form()
        decision, reply = str(form.get("decision", "")), str(form.get("reply", ""))
        try:
            await objections.decide(db, p, objection_id, decision, reply, ip=client_ip(request))
        except MallError as exc:
            return await self._page(
                request,
                db,
                p,
                objection_id,
                reply=reply,
                error=message(exc),
                status_code=form_status(exc) if exc.status != 409 else 409,
            )
        return see_other(f"/staff/objections/{objection_id}")


class MyObjectionPages(Controller):
    path = "/me/objections"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/")
    async def mine(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        me = await resident(request, db)
        found = await objections.mine(db, me)
        return no_store(
            render(
                request,
                "notice/mine.html",
                me=me,
                slug=me.community_slug,
                objections=found,
                **_words(),
            )
        )


ROUTES = [ObjectionPages, MyObjectionPages]
