"""Recruitment calls (招募令) in the JSON API: publish, sign up, and settlement; checking in is in
web/api/checkins.py. The rules are in ``mall.earning.activities``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.datastructures import CacheControlHeader
from litestar.params import JSONBody
from litestar.types import ControllerRouterHandler
from msgspec import Meta

from mall.earning import activities, checkin, hours, signups
from web.api.callers import RESIDENT, STAFF, allow
from web.api.fields import Id, Name, Slug
from web.deps import Caller, Db
from web.session import client_ip

Description = Annotated[str, Meta(max_length=2000)]


class NewActivity(msgspec.Struct):
    title: Name
    path: Name
    """`timely_help`, `adding_to_good` or `settling_disputes`."""
    points: int
    """Awarded to each attendee at settlement (1 to the policy's `activity_max_points`)."""
    capacity: int
    """Places; sign-ups beyond it go on the waiting list."""
    starts_at: datetime
    """With a time zone, e.g. `2026-12-01T09:00:00+08:00`."""
    ends_at: datetime
    place: Name
    description: Description = ""
    hours: float = 0
    """Volunteer hours each attendee earns (0 to 200, at most one decimal, e.g. `2.5`)."""


class Created(msgspec.Struct):
    id: int
    title: str
    community: str


class Activity(msgspec.Struct):
    id: int
    community: str
    title: str
    description: str
    path: str
    points: int
    capacity: int
    starts_at: datetime
    ends_at: datetime
    place: str
    status: str
    """`open`, `settled` or `cancelled`."""
    hours: float
    """Volunteer hours each attendee earns (kept in tenths of an hour)."""
    confirmed: int
    waiting: int
    checked_in: int
    places_left: int
    cancel_reason: str | None
    """Why staff cancelled it (`status` `cancelled`); null otherwise."""


class Signup(msgspec.Struct):
    resident_id: int
    name: str
    status: str
    """`confirmed`, `waiting` or `cancelled`."""
    position: int | None
    """Place on the waiting list (1 = next), if waiting."""
    signed_up_at: datetime
    checked_in_at: datetime | None
    checked_in_by: str | None
    """The staff member who checked the resident in; null when they scanned themselves."""
    hours: float | None = None
    """Their volunteer hours: as corrected by staff, or written at settlement; null before."""


class ActivityForStaff(Activity):
    signups: list[Signup]


class ActivityForMe(Activity):
    my_status: str | None
    """`confirmed`, `waiting`, `cancelled`, or null when not signed up."""
    my_position: int | None
    my_checked_in_at: datetime | None


class ActivityList(msgspec.Struct):
    activities: list[Activity]


class MyActivities(msgspec.Struct):
    upcoming: list[ActivityForMe]
    """Open and not over yet, soonest first."""
    mine: list[ActivityForMe]
    """Everything I signed up for or attended, latest first."""


class SignedUp(msgspec.Struct):
    activity_id: int
    status: str
    """`confirmed`, or `waiting` when the places are taken; `cancelled` after a cancel."""
    position: int | None = None


class Settled(msgspec.Struct):
    activity_id: int
    awarded: int
    """Attendees awarded."""
    points: int
    """Points awarded in all (`awarded` × `points_each`)."""
    points_each: int
    journal_id: int | None
    """The award's one ledger journal; null when nobody attended or it waits for approval."""
    award_id: int | None
    """The award the settlement made (`/awards/{award_id}`); null when nobody attended."""
    status: str
    """The award's status: `posted`, or `pending_approval` until a different staff member
    calls `POST /awards/{award_id}/approve`."""


S = TypeVar("S", bound=msgspec.Struct)


def shape(cls: type[S], found: msgspec.Struct) -> S:
    """The API's view of what ``mall.earning`` returned."""
    return msgspec.convert(found, cls, from_attributes=True)


class ActivityController(Controller):
    tags = ["earning"]
    cache_control = CacheControlHeader(no_store=True)

    @post(
        "/communities/{slug:str}/activities",
        dependencies=allow(*STAFF),
        summary="Publish a recruitment call",
        description=(
            "Staff of the community and administrators. `ends_at` after `starts_at`, both with a "
            "time zone, at most 31 days apart; `capacity` ≥ 1; `points` from 1 to the "
            "community policy's `activity_max_points` (default 200, at most 10,000); `hours` "
            "each attendee earns, 0 to 200 with at most one decimal (default 0)."
        ),
    )
    async def create(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        slug: Slug,
        data: JSONBody[NewActivity],
    ) -> Created:
        made = await activities.create_activity(
            db,
            p,
            slug,
            title=data.title,
            path=data.path,
            points=data.points,
            capacity=data.capacity,
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            place=data.place,
            description=data.description,
            hours_tenths=hours.tenths(data.hours),
            ip=client_ip(request),
        )
        return shape(Created, made)

    @get(
        "/communities/{slug:str}/activities",
        dependencies=allow(*STAFF, *RESIDENT),
        summary="A community's recruitment calls",
        description="Its staff, administrators and its residents; the latest start first.",
    )
    async def index(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, slug: Slug
    ) -> ActivityList:
        found = await activities.community_activities(db, p, slug)
        return ActivityList(activities=[shape(Activity, a) for a in found])

    @get(
        "/activities/{activity_id:int}",
        dependencies=allow(*STAFF, *RESIDENT),
        summary="A recruitment call",
        description=(
            "Staff see every sign-up and check-in; a resident of the community sees the counts "
            "and their own place (`my_status`, `my_position` on the waiting list)."
        ),
    )
    async def show(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, activity_id: Id
    ) -> ActivityForStaff | ActivityForMe:
        found = await activities.get_activity(db, p, activity_id)
        if p.role == "resident":
            return shape(ActivityForMe, found)
        return shape(ActivityForStaff, found)

    @get(
        "/me/activities",
        dependencies=allow(*RESIDENT),
        summary="My recruitment calls",
        description="Upcoming calls of my community, and the ones I signed up for or attended.",
    )
    async def mine(self, request: Request[Any, Any, Any], db: Db, p: Caller) -> MyActivities:
        found = await activities.my_activities(db, p)
        return MyActivities(
            upcoming=[shape(ActivityForMe, a) for a in found.upcoming],
            mine=[shape(ActivityForMe, a) for a in found.mine],
        )

    @post(
        "/activities/{activity_id:int}/signup",
        dependencies=allow(*RESIDENT),
        summary="Sign up",
        description=(
            "A resident of the community: `confirmed` while places are left, else `waiting` "
            "(first come, first served). Twice is `already_exists`; after the end or "
            "settlement it is refused."
        ),
    )
    async def sign_up(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, activity_id: Id
    ) -> SignedUp:
        made = await signups.sign_up(db, p, activity_id)
        return shape(SignedUp, made)

    @delete(
        "/activities/{activity_id:int}/signup",
        dependencies=allow(*RESIDENT),
        status_code=200,
        summary="Cancel my sign-up",
        description=(
            "The first resident on the waiting list gets the place. Not after checking in."
        ),
    )
    async def cancel(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, activity_id: Id
    ) -> SignedUp:
        made = await signups.cancel_sign_up(db, p, activity_id)
        return shape(SignedUp, made)

    @post(
        "/activities/{activity_id:int}/settle",
        dependencies=allow(*STAFF),
        status_code=200,
        summary="Settle: award every attendee",
        description=(
            "One award from the budget to every attendee's wallet, with the call's title as "
            "the memo, through the same budget, threshold and approval queue as `POST /awards`: "
            "over the community's daily threshold it is `pending_approval` until a different "
            "staff member approves it. Idempotent by itself: settling again answers the same "
            "and writes nothing (no `Idempotency-Key` needed). `budget_exhausted` changes "
            "nothing; a settler who attended is `self_dealing`; an activity paying more a head "
            "than the policy's `activity_max_points` is `validation_error`."
        ),
    )
    async def settle(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, activity_id: Id
    ) -> Settled:
        made = await checkin.settle(db, p, activity_id, ip=client_ip(request))
        return shape(Settled, made)


ROUTES: list[ControllerRouterHandler] = [ActivityController]
