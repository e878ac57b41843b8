"""The resident's inbox (消息) on their phone, and staff's announcements (通知公告): staff write
one to the whole community, a grid or a building, and see what they sent; residents read their
messages and mark them read. Every text is escaped where it is shown (autoescape; never
``|safe``), an announcement's staff-written words above all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery
from litestar.types import ControllerRouterHandler

from mall.access import STAFF_ROLES, Principal
from mall.db import Database
from mall.errors import MallError
from mall.notify import announcements, inbox
from web.deps import Db
from web.messages import words
from web.pages.common import (
    EXCEPTION_HANDLERS,
    FORM,
    form_status,
    message,
    no_store,
    resident,
    see_other,
    user,
    when,
)
from web.pages.staff import community_of
from web.render import render
from web.session import client_ip


@dataclass
class AnnouncementForm:
    title: str = ""
    body: str = ""
    to: str = "all"
    """``all``, ``grid`` or ``building``: whom it goes to."""
    grid: str = ""
    building: str = ""
    community: str = ""


@dataclass
class ReadForm:
    id: str = ""
    """One message to mark read; empty: all of them."""


class InboxPages(Controller):
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/me/inbox")
    async def show(
        self, request: Request[Any, Any, Any], db: Db, before: FromQuery[int | None] = None
    ) -> Response[Any]:
        p = await resident(request, db)
        got = await inbox.page(db, p, limit=inbox.PAGE + 1, before=before)
        found = got.messages
        page = found[: inbox.PAGE]
        return no_store(
            render(
                request,
                "resident/inbox.html",
                messages=[(m, *words(m)) for m in page],
                unread=got.unread,
                next=page[-1].id if len(found) > inbox.PAGE else None,
                when=when,
            )
        )

    @post("/me/inbox/read")
    async def mark_read(
        self, request: Request[Any, Any, Any], db: Db, data: Annotated[ReadForm, FORM]
    ) -> Response[Any]:
        p = await resident(request, db)
        one = data.id.strip()
        if not one:
            await inbox.mark_read(db, p)
        elif one.isdigit() and len(one) < 16:
            await inbox.mark_read(db, p, [int(one)])
        return see_other("/me/inbox")

    @get("/staff/announcements")
    async def staff_list(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        community: FromQuery[str] = "",
        sent: FromQuery[int | None] = None,
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        slug = community_of(p, community)
        return await self._page(request, db, p, slug, AnnouncementForm(), None, 200, sent)

    async def _page(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        p: Principal,
        slug: str,
        form: AnnouncementForm,
        error: str | None,
        status: int,
        sent: int | None = None,
    ) -> Response[Any]:
        found = await announcements.community_announcements(db, p, slug) if slug else []
        return no_store(
            render(
                request,
                "staff/announcements.html",
                status_code=status,
                me=p,
                slug=slug,
                form=form,
                error=error,
                found=found,
                sent=sent,
                when=when,
            )
        )

    @post("/staff/announcements")
    async def publish(
        self, request: Request[Any, Any, Any], db: Db, data: Annotated[AnnouncementForm, FORM]
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        slug = community_of(p, data.community)
        try:
            made = await announcements.publish(
                db,
                p,
                slug,
                data.title,
                data.body,
                grid=data.grid if data.to == "grid" else None,
                building=data.building if data.to == "building" else None,
                ip=client_ip(request),
            )
        except MallError as exc:
            return await self._page(request, db, p, slug, data, message(exc), form_status(exc))
        query = f"?community={slug}&" if not p.community_slug else "?"
        return see_other(f"/staff/announcements{query}sent={made.recipients}")


ROUTES: list[ControllerRouterHandler] = [InboxPages]
