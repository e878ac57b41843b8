"""A resident's inbox (消息) and staff's announcements (通知公告) through the API (API.md
"Community"): ``GET /me/inbox``, marking messages read, and announcing to a community, grid or
building."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import CacheControlHeader
from litestar.params import JSONBody
from litestar.types import ControllerRouterHandler
from msgspec import Meta

from mall.notify import announcements, inbox
from web.api.callers import RESIDENT, STAFF, allow
from web.api.fields import MAX_ID, NO_CONTROL, Before, Limit, Slug
from web.deps import Caller, Db
from web.messages import words
from web.session import client_ip


class InboxMessage(msgspec.Struct):
    id: int
    at: datetime
    kind: str
    """``announcement``, ``points_received``, ``points_reversed``, ``reservation_ready``,
    ``reservation_lapsing``, ``reservation_lapsed``, ``submission_accepted``,
    ``submission_resolved``, ``submission_rejected``, ``objection_upheld``,
    ``objection_dismissed``, ``points_expiring`` or ``activity_cancelled``."""
    title: str
    body: str
    read: bool


class Inbox(msgspec.Struct):
    messages: list[InboxMessage]
    unread: int
    next: int | None
    """Pass as `before` for older messages; null on the last page."""


class MarkRead(msgspec.Struct):
    ids: Annotated[list[Annotated[int, Meta(ge=1, le=2**53)]], Meta(max_length=200)] | None = None
    """The messages to mark read; leave out to mark every message read."""


class Unread(msgspec.Struct):
    marked: int
    unread: int


class NewAnnouncement(msgspec.Struct):
    title: Annotated[str, Meta(max_length=announcements.TITLE_MAX, pattern=NO_CONTROL)]
    body: Annotated[str, Meta(max_length=announcements.BODY_MAX)]
    """Several lines allowed; shown as written (never as HTML)."""
    grid: Annotated[str, Meta(max_length=40, pattern=NO_CONTROL)] | None = None
    """A grid's code: only its residents get it."""
    building: Annotated[str, Meta(max_length=20, pattern=NO_CONTROL)] | None = None
    """A building as residents' records name it: only its residents get it."""


class Announcement(msgspec.Struct):
    id: int
    title: str
    body: str
    grid: str | None
    building: str | None
    created_at: datetime
    created_by: str | None
    recipients: int


class AnnouncementList(msgspec.Struct):
    announcements: list[Announcement]


class InboxController(Controller):
    tags = ["community"]
    cache_control = CacheControlHeader(no_store=True)

    @get(
        "/me/inbox",
        dependencies=allow(*RESIDENT),
        summary="My inbox",
        description=(
            "The signed-in resident's messages, newest first: announcements, points received "
            "or reversed, reservations ready or lapsing, decisions on their submissions and "
            "objections, points about to expire. `title` and `body` are in the request's "
            "language (an announcement's are staff's words, as written); `unread` counts all."
        ),
    )
    async def show(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        limit: Limit = inbox.PAGE,
        before: Before = None,
    ) -> Inbox:
        got = await inbox.page(db, p, limit=limit + 1, before=before)
        found = got.messages
        page = found[:limit]
        return Inbox(
            messages=[
                InboxMessage(id=m.id, at=m.at, kind=m.kind, title=w[0], body=w[1], read=m.read)
                for m in page
                for w in [words(m)]
            ],
            unread=got.unread,
            next=page[-1].id if len(found) > limit and page[-1].id <= MAX_ID else None,
        )

    @post(
        "/me/inbox/read",
        dependencies=allow(*RESIDENT),
        status_code=200,
        summary="Mark messages read",
        description=(
            "`ids`: the signed-in resident's messages to mark read (anyone else's are left "
            "alone); leave out to mark every message read. Answers how many were marked and "
            "how many are still unread."
        ),
    )
    async def mark(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, data: JSONBody[MarkRead]
    ) -> Unread:
        marked = await inbox.mark_read(db, p, data.ids)
        return Unread(marked=marked, unread=await inbox.unread(db, p))

    @post(
        "/communities/{slug:str}/announcements",
        dependencies=allow(*STAFF),
        summary="Announce to residents",
        description=(
            "Staff of the community and administrators. Every resident of the community, or "
            "only of `grid` (its code) or `building`, finds it in their inbox at once; "
            "`recipients` says how many. An unknown grid is `validation_error`."
        ),
    )
    async def announce(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        slug: Slug,
        data: JSONBody[NewAnnouncement],
    ) -> Announcement:
        made = await announcements.publish(
            db,
            p,
            slug,
            data.title,
            data.body,
            grid=data.grid,
            building=data.building,
            ip=client_ip(request),
        )
        return msgspec.convert(made, Announcement, from_attributes=True)

    @get(
        "/communities/{slug:str}/announcements",
        dependencies=allow(*STAFF),
        summary="A community's announcements",
        description="Staff of the community and administrators: newest first.",
    )
    async def index(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, slug: Slug
    ) -> AnnouncementList:
        found = await announcements.community_announcements(db, p, slug)
        return AnnouncementList(
            announcements=[msgspec.convert(a, Announcement, from_attributes=True) for a in found]
        )


ROUTES: list[ControllerRouterHandler] = [InboxController]
