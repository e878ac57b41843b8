"""Recruitment calls (招募令): staff publish an activity with its capacity, time and points; residents
sign up (with a waiting list) or cancel; everyone reads what is open. Check-in and settlement are
in ``checkin``.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

import ledger
from mall import access, text
from mall.access import MAX_ID, STAFF_ROLES, Principal, audit
from mall.db import Database
from mall.errors import (
    N_,
    AlreadyExists,
    Invalid,
    NotFound,
)
from mall.org.points import PATHS

#: Seconds one check-in code is shown before the next; a code is accepted in its own window and
#: the next one (a scan at the edge still works), so a photographed code dies within a minute.


MAX_POINTS = 10_000

MAX_CAPACITY = 10_000

MAX_DAYS = 31

OPEN, SETTLED, CANCELLED = "open", "settled", "cancelled"

CONFIRMED, WAITING = "confirmed", "waiting"

_COLUMNS = (
    "a.id, a.community, a.title, a.description, a.path, a.points, a.capacity, a.starts_at, "
    "a.ends_at, a.place, a.status, a.journal_id, a.settled_at, c.slug, c.book"
)

_COUNTS = (
    "(SELECT COUNT(*) FROM mall_signup s WHERE s.activity = a.id AND s.status = 'confirmed') "
    "AS confirmed, "
    "(SELECT COUNT(*) FROM mall_signup s WHERE s.activity = a.id AND s.status = 'waiting') "
    "AS waiting, "
    "(SELECT COUNT(*) FROM mall_signup s WHERE s.activity = a.id AND s.checked_in_at IS NOT NULL) "
    "AS checked_in"
)


def now() -> datetime:
    return datetime.now(UTC)


async def _row(
    conn: ledger.Connection,
    p: Principal,
    activity_id: int,
    roles: tuple[str, ...],
    *,
    lock: bool = False,
) -> dict[str, Any]:
    """The activity, if ``p`` has one of ``roles`` in its community; locked when asked."""
    access.require(p, roles)
    if not isinstance(activity_id, int) or not 0 < activity_id <= MAX_ID:
        raise NotFound()
    if lock and conn.dialect == "postgres":
        # Lock first, count after: a statement that waited for the lock would otherwise count
        # sign-ups as they were before the transaction it waited for.
        await conn.fetchval("SELECT id FROM mall_activity WHERE id = ? FOR UPDATE", activity_id)
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS}, {_COUNTS} FROM mall_activity a "
        "JOIN mall_community c ON c.id = a.community WHERE a.id = ?",
        activity_id,
    )
    if row is None or (not p.is_admin and row["community"] != p.community_id):
        raise NotFound()
    return _shape(row)


def _shape(row: Any) -> dict[str, Any]:
    found = {
        key: row[key]
        for key in (
            "id",
            "title",
            "description",
            "path",
            "points",
            "capacity",
            "starts_at",
            "ends_at",
            "place",
            "status",
            "journal_id",
            "settled_at",
            "confirmed",
            "waiting",
            "checked_in",
        )
    }
    found.update(community=row["slug"], community_id=row["community"], book=row["book"])
    for key in ("confirmed", "waiting", "checked_in"):
        found[key] = int(found[key])
    found["places_left"] = max(0, found["capacity"] - found["confirmed"])
    return found


async def _waiting_position(conn: ledger.Connection, activity_id: int, signup: Any) -> int | None:
    if signup is None or signup["status"] != WAITING:
        return None
    ahead = await conn.fetchval(
        "SELECT COUNT(*) FROM mall_signup WHERE activity = ? AND status = 'waiting' "
        "AND (created_at < ? OR (created_at = ? AND id < ?))",
        activity_id,
        signup["created_at"],
        signup["created_at"],
        signup["id"],
    )
    return int(ahead) + 1


async def _signup(conn: ledger.Connection, activity_id: int, resident_id: int) -> Any:
    return await conn.fetchrow(
        "SELECT id, status, created_at, checked_in_at FROM mall_signup "
        "WHERE activity = ? AND resident = ?",
        activity_id,
        resident_id,
    )


async def _mine(conn: ledger.Connection, found: dict[str, Any], resident_id: int) -> dict[str, Any]:
    """The resident's own place on the list: status, waiting position, check-in time."""
    signup = await _signup(conn, found["id"], resident_id)
    found["my_status"] = signup["status"] if signup else None
    found["my_position"] = await _waiting_position(conn, found["id"], signup)
    found["my_checked_in_at"] = signup["checked_in_at"] if signup else None
    return found


async def get_activity(db: Database, p: Principal, activity_id: int) -> dict[str, Any]:
    """One activity. Staff also get the list of sign-ups; a resident gets their own place."""
    async with db.connection() as conn:
        found = await _row(conn, p, activity_id, STAFF_ROLES + ("resident",))
        if p.role == "resident":
            return await _mine(conn, found, p.own_resident)
        found["signups"] = await _list_of(conn, activity_id)
    return found


async def _list_of(conn: ledger.Connection, activity_id: int) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT s.resident, r.name, s.status, s.created_at, s.checked_in_at, u.username "
        "FROM mall_signup s JOIN mall_resident r ON r.id = s.resident "
        "LEFT JOIN mall_user u ON u.id = s.checked_in_by "
        "WHERE s.activity = ? ORDER BY s.created_at, s.id",
        activity_id,
    )
    position = 0
    found = []
    for r in rows:
        if r["status"] == WAITING:
            position += 1
        found.append(
            {
                "resident_id": r["resident"],
                "name": r["name"],
                "status": r["status"],
                "position": position if r["status"] == WAITING else None,
                "signed_up_at": r["created_at"],
                "checked_in_at": r["checked_in_at"],
                "checked_in_by": r["username"],
            }
        )
    return found


async def community_activities(
    db: Database, p: Principal, slug: str, *, limit: int = 100
) -> list[dict[str, Any]]:
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


async def my_activities(db: Database, p: Principal) -> dict[str, Any]:
    """For the signed-in resident: ``upcoming`` (open, not over, soonest first) and ``mine``
    (every activity they signed up for or attended, latest first), each with their own place."""
    access.require(p, ["resident"])
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
        return {
            "upcoming": [await _mine(conn, _shape(r), p.own_resident) for r in upcoming],
            "mine": [await _mine(conn, _shape(r), p.own_resident) for r in mine],
        }


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
    ip: str = "",
) -> dict[str, Any]:
    """Publish a recruitment call (staff of the community)."""
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
    starts_at, ends_at = _moment(starts_at), _moment(ends_at)
    if ends_at <= starts_at:
        raise Invalid(N_("The end must be after the start."))
    if ends_at - starts_at > timedelta(days=MAX_DAYS):
        raise Invalid(N_("An activity lasts at most {n} days."), n=MAX_DAYS)
    async with db.transaction() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES)
        activity_id = await conn.fetchval(
            "INSERT INTO mall_activity (community, title, description, path, points, capacity, "
            "starts_at, ends_at, place, status, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            community["id"],
            title,
            description,
            path,
            points,
            capacity,
            starts_at,
            ends_at,
            place,
            OPEN,
            p.user_id,
            now(),
        )
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
        )
    return {"id": int(activity_id), "title": title, "community": slug}


def _taking_signups(found: dict[str, Any]) -> None:
    if found["status"] != OPEN:
        raise Invalid(N_("This activity is closed."))
    if found["ends_at"] <= now():
        raise Invalid(N_("This activity is over."))


async def sign_up(db: Database, p: Principal, activity_id: int) -> dict[str, Any]:
    """Put the signed-in resident on the list: ``confirmed`` while places are left, else
    ``waiting`` (first come, first served). Twice is ``already_exists``."""
    access.require(p, ["resident"])
    async with db.transaction() as conn:
        found = await _row(conn, p, activity_id, ("resident",), lock=True)
        _taking_signups(found)
        signup = await _signup(conn, activity_id, p.own_resident)
        if signup is not None and signup["status"] != CANCELLED:
            raise AlreadyExists(N_("You have already signed up for this activity."))
        status = CONFIRMED if found["confirmed"] < found["capacity"] else WAITING
        if signup is None:
            await conn.execute(
                "INSERT INTO mall_signup (activity, resident, status, created_at) "
                "VALUES (?, ?, ?, ?)",
                activity_id,
                p.resident_id,
                status,
                now(),
            )
        else:  # signed up again after cancelling: to the end of the queue
            await conn.execute(
                "UPDATE mall_signup SET status = ?, created_at = ? WHERE id = ?",
                status,
                now(),
                signup["id"],
            )
        position = await _waiting_position(
            conn, activity_id, await _signup(conn, activity_id, p.own_resident)
        )
    return {"activity_id": activity_id, "status": status, "position": position}


async def cancel_sign_up(db: Database, p: Principal, activity_id: int) -> dict[str, Any]:
    """Take the resident off the list; the first on the waiting list gets the place."""
    access.require(p, ["resident"])
    async with db.transaction() as conn:
        found = await _row(conn, p, activity_id, ("resident",), lock=True)
        signup = await _signup(conn, activity_id, p.own_resident)
        if signup is None or signup["status"] == CANCELLED:
            raise NotFound(N_("You are not signed up for this activity."))
        if signup["checked_in_at"] is not None:
            raise Invalid(N_("You have already checked in, so this cannot be cancelled."))
        _taking_signups(found)
        await conn.execute("UPDATE mall_signup SET status = 'cancelled' WHERE id = ?", signup["id"])
        if signup["status"] == CONFIRMED and found["confirmed"] - 1 < found["capacity"]:
            first = await conn.fetchval(
                "SELECT id FROM mall_signup WHERE activity = ? AND status = 'waiting' "
                "ORDER BY created_at, id LIMIT 1",
                activity_id,
            )
            if first is not None:
                await conn.execute(
                    "UPDATE mall_signup SET status = 'confirmed' WHERE id = ?", first
                )
    return {"activity_id": activity_id, "status": CANCELLED}
