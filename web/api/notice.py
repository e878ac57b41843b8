"""The public notice (公示) and objections through the API (API.md "v1.1 additions —
Transparency"): the notice anyone may read, a resident's objection, staff's list and decision."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import CacheControlHeader
from litestar.params import JSONBody, QueryParameter
from litestar.types import ControllerRouterHandler
from msgspec import Meta

from mall.reports import notice, objections
from web.api.callers import RESIDENT, STAFF, allow
from web.api.fields import Id, Slug
from web.deps import Caller, Db
from web.session import client_ip

From = Annotated[
    date | None,
    QueryParameter(name="from", description="first day (China time); default 6 days before `to`"),
]
To = Annotated[
    date | None,
    QueryParameter(name="to", description="last day, included (China time); default today"),
]
Status = Annotated[
    Literal["open", "upheld", "dismissed"] | None,
    QueryParameter(description="only objections with this status"),
]


class Entry(msgspec.Struct):
    id: int
    """The entry's id, to object to it."""
    at: datetime
    name: str
    """Masked: the surname, then ``*`` (张晓明 → 张**)."""
    path: str
    rule: str
    points: int
    objection_until: datetime
    objections: int
    status: str
    """``posted``, or ``reversed`` once the award was taken back."""


class Notice(msgspec.Struct):
    community: str
    start: date
    end: date
    entries: list[Entry]


class NewObjection(msgspec.Struct):
    reason: Annotated[str, Meta(max_length=objections.MAX_REASON)]
    """Why the entry looks wrong; staff read it, and it becomes the reversal's reason."""


class Filed(msgspec.Struct):
    id: int
    due_at: datetime
    """When staff should have answered by."""


class Objection(msgspec.Struct):
    id: int
    entry_id: int
    reason: str
    status: str
    """``open``, ``upheld`` (the award reversed) or ``dismissed``."""
    award_id: int
    created_at: datetime
    due_at: datetime
    reply: str
    decided_at: datetime | None
    objector_id: int | None
    """The resident who objected (staff only)."""
    objector: str
    entry: Entry
    """The entry as the public notice shows it."""


class ObjectionList(msgspec.Struct):
    objections: list[Objection]


class DecisionRequest(msgspec.Struct):
    decision: Literal["uphold", "dismiss"]
    reply: Annotated[str, Meta(max_length=objections.MAX_REPLY)]
    """What the resident who objected reads; required."""


class Decided(msgspec.Struct):
    id: int
    status: str


class NoticeController(Controller):
    tags = ["transparency"]

    @get(
        "/communities/{slug:str}/notice",
        summary="A community's public notice (公示)",
        cache_control=CacheControlHeader(max_age=60, public=True),
        description=(
            "No sign-in. Every posted or reversed award between `from` and `to` (China time, "
            "`to` included; by default the last 7 days), one entry per resident, newest first, "
            f"at most {notice.MAX_ENTRIES}. `name` is masked (surname kept, the rest `*`); no "
            "full name, phone or resident id appears. Waiting and rejected awards are not "
            f"shown. `from` after `to`, or more than {notice.MAX_DAYS} days, is "
            "`validation_error`; an unknown community is `not_found`."
        ),
    )
    async def show(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        slug: Slug,
        start: From = None,
        end: To = None,
    ) -> Notice:
        found = await notice.notice_board(db, slug, start=start, end=end)
        return msgspec.convert(found, Notice, from_attributes=True)

    @post(
        "/notice/{entry_id:int}/objections",
        dependencies=allow(*RESIDENT),
        summary="Object to a notice entry",
        description=(
            "A signed-in resident of the entry's community (users are `forbidden`). After "
            "`objection_until` it is `objection_closed`; an entry already reversed is "
            "`already_reversed`; a second objection to the same entry by the same resident is "
            f"`already_exists`; more than {objections.DAILY_LIMIT} a day are `rate_limited`; "
            "another community's entry is `not_found`; a reason empty or over "
            f"{objections.MAX_REASON} characters is `validation_error`."
        ),
    )
    async def object(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        entry_id: Id,
        data: JSONBody[NewObjection],
    ) -> Filed:
        made = await objections.file(db, p, entry_id, data.reason, ip=client_ip(request))
        return Filed(id=made.id, due_at=made.due_at)

    @get(
        "/communities/{slug:str}/objections",
        dependencies=allow(*STAFF),
        summary="A community's objections",
        cache_control=CacheControlHeader(no_store=True),
        description=(
            "Staff of the community and administrators: open ones first, by the date staff "
            "should answer by, with who objected."
        ),
    )
    async def index(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        slug: Slug,
        status: Status = None,
    ) -> ObjectionList:
        found = await objections.community_objections(db, p, slug, status=status)
        return ObjectionList(
            objections=[msgspec.convert(o, Objection, from_attributes=True) for o in found]
        )

    @get(
        "/me/objections",
        dependencies=allow(*RESIDENT),
        summary="My objections and staff's replies",
        cache_control=CacheControlHeader(no_store=True),
        description="The signed-in resident's own objections, open ones first, with replies.",
    )
    async def mine(self, request: Request[Any, Any, Any], db: Db, p: Caller) -> ObjectionList:
        found = await objections.mine(db, p)
        return ObjectionList(
            objections=[msgspec.convert(o, Objection, from_attributes=True) for o in found]
        )

    @post(
        "/objections/{objection_id:int}/decision",
        dependencies=allow(*STAFF),
        status_code=200,
        summary="Uphold or dismiss an objection",
        description=(
            "Staff of the community and administrators; `reply` is required and the resident "
            "reads it. `uphold` reverses the whole award (as `/awards/{id}/reverse`, with the "
            "objection as the reason), so `insufficient_points`, `already_reversed` and "
            "`self_dealing` apply and then nothing changes. A second decision is "
            "`already_exists`; another community's objection is `not_found`."
        ),
    )
    async def decide(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        objection_id: Id,
        data: JSONBody[DecisionRequest],
    ) -> Decided:
        done = await objections.decide(
            db, p, objection_id, data.decision, data.reply, ip=client_ip(request)
        )
        return Decided(id=done.id, status=done.status)


ROUTES: list[ControllerRouterHandler] = [NoticeController]
