"""Recruitment calls (招募令) in the JSON API: publish, sign up, the rotating check-in code,
check-in by the resident or by staff, and settlement. The rules are in ``mall.earning.activities``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.datastructures import CacheControlHeader
from litestar.params import JSONBody
from litestar.types import ControllerRouterHandler
from msgspec import Meta

from mall.earning import activities, checkin, hours, sheet, signups
from web.api.callers import RESIDENT, STAFF, allow
from web.api.fields import NO_CONTROL, Code, Id, Name, Slug
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


class CheckinCode(msgspec.Struct):
    code: str
    url: str
    """Show it as a QR code; a phone's own camera opens it."""
    expires_at: datetime
    """The code is accepted until then (its own window and the next)."""
    refreshes_at: datetime
    """When the next code is due."""


class CheckinBody(msgspec.Struct):
    code: Annotated[str, Meta(max_length=100, pattern=NO_CONTROL)]


class CheckedIn(msgspec.Struct):
    activity_id: int
    resident_id: int
    checked_in_at: datetime


class AttendanceBody(msgspec.Struct):
    code: Code
    """The resident's pay code (digits) or printed card code."""
    pin: Code | None = None
    """The card's PIN; not needed for a pay code."""


class Attended(CheckedIn):
    name: str


class SheetBody(msgspec.Struct):
    resident_ids: Annotated[list[int], Meta(min_length=1, max_length=200)]
    """Residents of the activity's community, ticked off the paper sign-in sheet."""


class AttendedByName(msgspec.Struct):
    resident_id: int
    name: str
    checked_in_at: datetime


class SheetRecorded(msgspec.Struct):
    activity_id: int
    checked_in: list[AttendedByName]
    """Checked in now."""
    already: list[int]
    """Checked in before (left as they were)."""


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

    @get(
        "/activities/{activity_id:int}/checkin-code",
        dependencies=allow(*STAFF),
        summary="The current check-in code",
        description=(
            f"Staff: a code signed by the server that changes every {checkin.WINDOW} seconds "
            "and is accepted in its own window and the next. Show `url` as a QR code."
        ),
    )
    async def checkin_code(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, activity_id: Id
    ) -> CheckinCode:
        made = await checkin.checkin_code(db, p, activity_id)
        return shape(CheckinCode, made)

    @post(
        "/activities/{activity_id:int}/checkin",
        dependencies=allow(*RESIDENT),
        summary="Check in with the scanned code",
        description=(
            "A resident, once (`already_checked_in`), from 60 minutes before the start until 60 "
            "minutes after the end, while the call is open. An old code is `code_expired`; "
            "another call's or a forged one `code_invalid`. Residents who did not sign up, "
            "or wait on the list, are checked in too."
        ),
    )
    async def check_in(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        activity_id: Id,
        data: JSONBody[CheckinBody],
    ) -> CheckedIn:
        made = await checkin.check_in(db, p, activity_id, data.code)
        return shape(CheckedIn, made)

    @post(
        "/activities/{activity_id:int}/attendance",
        dependencies=allow(*STAFF),
        summary="Check in a resident by their code",
        description=(
            "Staff check in a resident without a phone: a pay code, or a card code with its "
            "PIN. Once (`already_checked_in`); allowed after the end too, until settlement."
        ),
    )
    async def attendance(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        activity_id: Id,
        data: JSONBody[AttendanceBody],
    ) -> Attended:
        made = await checkin.record_attendance(
            db,
            p,
            activity_id,
            data.code,
            data.pin,
            ip=client_ip(request),
        )
        return shape(Attended, made)

    @post(
        "/activities/{activity_id:int}/attendance/by-name",
        dependencies=allow(*STAFF),
        status_code=200,
        summary="Check in residents by name, from the paper sign-in sheet",
        description=(
            "Staff of the community tick residents of the community (`resident_ids`, 1 to 200) "
            "who signed the paper sheet; those already checked in are left as they were "
            "(`already`). Allowed after the end too, until settlement, which awards them like "
            "any award (the daily threshold, four eyes). Another community's resident is "
            "`not_found`; the caller's own resident record is `self_dealing`; nothing is "
            "checked in then."
        ),
    )
    async def attendance_by_name(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        activity_id: Id,
        data: JSONBody[SheetBody],
    ) -> SheetRecorded:
        made = await sheet.record_attendance_by_name(
            db, p, activity_id, data.resident_ids, ip=client_ip(request)
        )
        return shape(SheetRecorded, made)

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
