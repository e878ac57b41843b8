"""Recruitment calls (招募令): staff publish an activity with its capacity, time and points;
everyone reads what is open, staff with every sign-up, a resident with their own place. Signing up
and cancelling are in ``signups``, check-in and settlement in ``checkin``.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import msgspec

import ledger
from mall import access, text
from mall import query as q
from mall import tables as t
from mall.access import MAX_ID, STAFF_ROLES, Principal, audit
from mall.db import Database
from mall.earning import hours
from mall.earning.values import Activity, SignupStatus
from mall.errors import (
    N_,
    Invalid,
    NotFound,
)
from mall.org import policy
from mall.org.points import PATHS

MAX_POINTS = 10_000

MAX_CAPACITY = 10_000

MAX_DAYS = 31

OPEN: Literal["open"] = "open"
SETTLED: Literal["settled"] = "settled"
CANCELLED: Literal["cancelled"] = "cancelled"
CONFIRMED: Literal["confirmed"] = "confirmed"
WAITING: Literal["waiting"] = "waiting"

# Hand-written: the journal and the three counts are correlated subqueries on the activity's
# row, which the builder cannot write; every read of an activity selects them (``_shape``).
_COLUMNS = (
    "a.id, a.community, a.title, a.description, a.path, a.points, a.capacity, a.starts_at, "
    "a.ends_at, a.place, a.status, a.hours_tenths, a.cancel_reason, "
    "COALESCE(a.journal_id, (SELECT w.journal_id FROM mall_award w WHERE w.id = a.award)) "
    "AS journal_id, a.settled_at, c.slug, c.book"
)

_COUNTS = (
    "(SELECT COUNT(*) FROM mall_signup s WHERE s.activity = a.id AND s.status = 'confirmed') "
    "AS confirmed, "
    "(SELECT COUNT(*) FROM mall_signup s WHERE s.activity = a.id AND s.status = 'waiting') "
    "AS waiting, "
    "(SELECT COUNT(*) FROM mall_signup s WHERE s.activity = a.id AND s.checked_in_at IS NOT NULL) "
    "AS checked_in"
)


class Signup(msgspec.Struct, frozen=True, kw_only=True):
    """One resident on an activity's list, as staff see it."""

    resident_id: int
    name: str
    status: SignupStatus
    position: int | None
    """Place on the waiting list (1 = next), if waiting."""
    signed_up_at: datetime
    checked_in_at: datetime | None
    checked_in_by: str | None
    """The staff member who checked the resident in; ``None`` when they scanned themselves."""
    hours_tenths: int | None = None
    """Their volunteer hours in tenths: corrected by staff, or written at settlement."""

    @property
    def hours(self) -> float | None:
        return None if self.hours_tenths is None else self.hours_tenths / 10


class ActivityForStaff(Activity, frozen=True, kw_only=True):
    """An activity with every sign-up and check-in."""

    signups: list[Signup]


class ActivityForResident(Activity, frozen=True, kw_only=True):
    """An activity with the signed-in resident's own place on it."""

    my_status: SignupStatus | None
    my_position: int | None
    my_checked_in_at: datetime | None


class MyActivities(msgspec.Struct, frozen=True, kw_only=True):
    """What a resident's activities page lists."""

    upcoming: list[ActivityForResident]
    """Open and not over yet, soonest first."""
    mine: list[ActivityForResident]
    """Every activity they signed up for or attended, latest first."""


class PublishedActivity(msgspec.Struct, frozen=True, kw_only=True):
    """A recruitment call just published."""

    id: int
    title: str
    community: str


def now() -> datetime:
    return datetime.now(UTC)


async def _row(
    conn: ledger.Connection,
    p: Principal,
    activity_id: int,
    roles: tuple[str, ...],
    *,
    lock: bool = False,
) -> Activity:
    """The activity, if ``p`` has one of ``roles`` in its community; locked when asked."""
    access.require(p, roles)
    if not isinstance(activity_id, int) or not 0 < activity_id <= MAX_ID:
        raise NotFound()
    if lock and conn.dialect == "postgres":
        # Lock first, count after: a statement that waited for the lock would otherwise count
        # sign-ups as they were before the transaction it waited for.
        act = t.Activity
        await q.fetchval(conn, act.select(act.id).where(act.id == activity_id).lock_rows())
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS}, {_COUNTS} FROM mall_activity a "
        "JOIN mall_community c ON c.id = a.community WHERE a.id = ?",
        activity_id,
    )
    if row is None or (not p.is_admin and row["community"] != p.community_id):
        raise NotFound()
    return _shape(row)


def _shape(row: ledger.Row) -> Activity:
    confirmed = int(row["confirmed"])
    return Activity(
        id=row["id"],
        community=row["slug"],
        community_id=row["community"],
        book=row["book"],
        title=row["title"],
        description=row["description"],
        path=row["path"],
        points=row["points"],
        capacity=row["capacity"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        place=row["place"],
        status=row["status"],
        hours_tenths=int(row["hours_tenths"]),
        journal_id=row["journal_id"],
        settled_at=row["settled_at"],
        confirmed=confirmed,
        waiting=int(row["waiting"]),
        checked_in=int(row["checked_in"]),
        places_left=max(0, row["capacity"] - confirmed),
        cancel_reason=row["cancel_reason"],
    )


async def _waiting_position(conn: ledger.Connection, activity_id: int, signup: Any) -> int | None:
    if signup is None or signup["status"] != WAITING:
        return None
    s = t.Signup
    at = signup["created_at"]
    ahead = await q.fetchval(
        conn,
        s.count().where(
            (s.activity == activity_id)
            & (s.status == WAITING)
            & ((s.created_at < at) | ((s.created_at == at) & (s.id < signup["id"])))
        ),
    )
    return int(ahead) + 1


async def _signup(conn: ledger.Connection, activity_id: int, resident_id: int) -> Any:
    s = t.Signup
    return await q.fetchrow(
        conn,
        s.select(s.id, s.status, s.created_at, s.checked_in_at).where(
            (s.activity == activity_id) & (s.resident == resident_id)
        ),
    )


async def _mine(conn: ledger.Connection, found: Activity, resident_id: int) -> ActivityForResident:
    """The resident's own place on the list: status, waiting position, check-in time."""
    signup = await _signup(conn, found.id, resident_id)
    return ActivityForResident(
        **msgspec.structs.asdict(found),
        my_status=signup["status"] if signup else None,
        my_position=await _waiting_position(conn, found.id, signup),
        my_checked_in_at=signup["checked_in_at"] if signup else None,
    )


async def get_activity(
    db: Database, p: Principal, activity_id: int
) -> ActivityForStaff | ActivityForResident:
    """One activity. Staff also get the list of sign-ups; a resident gets their own place."""
    access.require(p, STAFF_ROLES + ("resident",))
    if p.role == "resident":
        return await activity_for_resident(db, p, activity_id)
    return await activity_for_staff(db, p, activity_id)


async def activity_for_staff(db: Database, p: Principal, activity_id: int) -> ActivityForStaff:
    """One activity with every sign-up and check-in (staff of its community)."""
    async with db.connection() as conn:
        found = await _row(conn, p, activity_id, STAFF_ROLES)
        signups = await _list_of(conn, activity_id)
    return ActivityForStaff(**msgspec.structs.asdict(found), signups=signups)


async def activity_for_resident(
    db: Database, p: Principal, activity_id: int
) -> ActivityForResident:
    """One activity with the signed-in resident's own place (a resident of its community)."""
    async with db.connection() as conn:
        p = access.resident_self(p)
        found = await _row(conn, p, activity_id, ("resident",))
        return await _mine(conn, found, p.resident_id)


async def _list_of(conn: ledger.Connection, activity_id: int) -> list[Signup]:
    s = t.Signup
    rows = await q.fetch(
        conn,
        s.select(
            s.resident,
            s.resident.name.as_alias("name"),
            s.status,
            s.created_at,
            s.checked_in_at,
            s.checked_in_by.username.as_alias("username"),
            s.hours_tenths,
        )
        .where(s.activity == activity_id)
        .order_by(s.created_at, s.id),
    )
    position = 0
    found = []
    for r in rows:
        if r["status"] == WAITING:
            position += 1
        found.append(
            Signup(
                resident_id=r["resident"],
                name=r["name"],
                status=r["status"],
                position=position if r["status"] == WAITING else None,
                signed_up_at=r["created_at"],
                checked_in_at=r["checked_in_at"],
                checked_in_by=r["username"],
                hours_tenths=r["hours_tenths"],
            )
        )
    return found


async def community_activities(
    db: Database, p: Principal, slug: str, *, limit: int = 100
) -> list[Activity]:
    """A community's activities, the latest start first (its staff and its residents)."""
    async with db.connection() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES + ("resident",))
        rows = await conn.fetch(
            f"SELECT {_COLUMNS}, {_COUNTS} FROM mall_activity a "
            "JOIN mall_community c ON c.id = a.community WHERE a.community = ? "
            "ORDER BY a.starts_at DESC, a.id DESC LIMIT ?",
            community["id"],
            max(1, min(limit, 200)),
        )
    return [_shape(r) for r in rows]


async def my_activities(db: Database, p: Principal) -> MyActivities:
    """For the signed-in resident: ``upcoming`` (open, not over, soonest first) and ``mine``
    (every activity they signed up for or attended, latest first), each with their own place."""
    p = access.resident_self(p)
    async with db.connection() as conn:
        upcoming = await conn.fetch(
            f"SELECT {_COLUMNS}, {_COUNTS} FROM mall_activity a "
            "JOIN mall_community c ON c.id = a.community "
            "WHERE a.community = ? AND a.status = 'open' AND a.ends_at > ? "
            "ORDER BY a.starts_at, a.id LIMIT 100",
            p.community_id,
            now(),
        )
        mine = await conn.fetch(
            f"SELECT {_COLUMNS}, {_COUNTS} FROM mall_activity a "
            "JOIN mall_community c ON c.id = a.community "
            "JOIN mall_signup m ON m.activity = a.id AND m.resident = ? "
            "WHERE m.status <> 'cancelled' ORDER BY a.starts_at DESC, a.id DESC LIMIT 100",
            p.resident_id,
        )
        return MyActivities(
            upcoming=[await _mine(conn, _shape(r), p.resident_id) for r in upcoming],
            mine=[await _mine(conn, _shape(r), p.resident_id) for r in mine],
        )


def _description(value: str | None) -> str:
    """Several lines are fine; other control characters are not."""
    found = (value or "").replace("\r\n", "\n").strip()
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") and ch != "\n" for ch in found):
        raise Invalid(N_("Please use ordinary letters, digits and punctuation only."))
    if len(found) > 2000:
        raise Invalid(N_("The description is at most {n} characters."), n=2000)
    return found


def _whole(value: Any, top: int, message: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= top:
        raise Invalid(message, n=top)
    return value


def _moment(value: Any) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise Invalid(N_("Times need a time zone, such as 2026-12-01T09:00:00+08:00."))
    return value.astimezone(UTC)


async def create_activity(
    db: Database,
    p: Principal,
    slug: str,
    *,
    title: str,
    path: str,
    points: int,
    capacity: int,
    starts_at: datetime,
    ends_at: datetime,
    place: str,
    description: str = "",
    hours_tenths: int = 0,
    ip: str = "",
) -> PublishedActivity:
    """Publish a recruitment call (staff of the community); ``hours_tenths`` is the volunteer
    hours each attendee earns, in tenths of an hour (``mall.earning.hours``)."""
    access.require(p, STAFF_ROLES)
    title = text.plain(
        title, max_length=100, empty=N_("Please enter a title of at most {n} characters.")
    )
    place = text.plain(
        place, max_length=200, empty=N_("Please enter the place (at most {n} characters).")
    )
    description = _description(description)
    if path not in PATHS:
        raise Invalid(N_("Please choose one of the three paths."))
    points = _whole(points, MAX_POINTS, N_("Points must be a whole number from 1 to {n}."))
    capacity = _whole(capacity, MAX_CAPACITY, N_("Places must be a whole number from 1 to {n}."))
    hours_tenths = hours.check(hours_tenths)
    starts_at, ends_at = _moment(starts_at), _moment(ends_at)
    if ends_at <= starts_at:
        raise Invalid(N_("The end must be after the start."))
    if ends_at - starts_at > timedelta(days=MAX_DAYS):
        raise Invalid(N_("An activity lasts at most {n} days."), n=MAX_DAYS)
    async with db.transaction() as conn:
        p = access.staff(p)
        community = await access.community(conn, p, slug, STAFF_ROLES)
        await check_most_a_head(conn, community["id"], points)
        new = t.Activity(
            community=community["id"],
            title=title,
            description=description,
            path=path,
            points=points,
            capacity=capacity,
            starts_at=starts_at,
            ends_at=ends_at,
            place=place,
            status=OPEN,
            hours_tenths=hours_tenths,
            created_by=p.user_id,
            created_at=now(),
        )
        activity_id = await q.fetchval(conn, t.Activity.insert(new).returning(t.Activity.id))
        await audit.record(
            conn,
            p,
            "activity.create",
            community_id=community["id"],
            target=f"activity:{activity_id}",
            ip=ip,
            title=title,
            points=points,
            capacity=capacity,
            hours_tenths=hours_tenths,
        )
    return PublishedActivity(id=int(activity_id), title=title, community=slug)


async def check_most_a_head(conn: ledger.Connection, community_id: int, each: int) -> None:
    """``validation_error`` when an activity would pay more a head than the policy allows."""
    most = (await policy.policy_of(conn, community_id)).activity_max_points
    if each > most:
        raise Invalid(
            N_("An activity in this community pays each person at most {n} points."), n=most
        )
