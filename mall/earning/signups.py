"""Signing up for a recruitment call (报名) and cancelling: a place while any are left, else the
waiting list, first come, first served; a cancelled place goes to the first on the waiting list.
"""

from __future__ import annotations

import msgspec

from mall import access
from mall.access import Principal
from mall.db import Database
from mall.earning.activities import (
    CANCELLED,
    CONFIRMED,
    OPEN,
    WAITING,
    _row,
    _signup,
    _waiting_position,
    now,
)
from mall.earning.values import Activity, SignupStatus
from mall.errors import N_, AlreadyExists, Invalid, NotFound


class SignedUp(msgspec.Struct, frozen=True, kw_only=True):
    """A resident's place after signing up or cancelling."""

    activity_id: int
    status: SignupStatus
    position: int | None = None
    """Place on the waiting list, if waiting."""


def _taking_signups(found: Activity) -> None:
    if found.status != OPEN:
        raise Invalid(N_("This activity is closed."))
    if found.ends_at <= now():
        raise Invalid(N_("This activity is over."))


async def sign_up(db: Database, p: Principal, activity_id: int) -> SignedUp:
    """Put the signed-in resident on the list: ``confirmed`` while places are left, else
    ``waiting`` (first come, first served). Twice is ``already_exists``."""
    p = access.resident_self(p)
    async with db.transaction() as conn:
        found = await _row(conn, p, activity_id, ("resident",), lock=True)
        _taking_signups(found)
        signup = await _signup(conn, activity_id, p.resident_id)
        if signup is not None and signup["status"] != CANCELLED:
            raise AlreadyExists(N_("You have already signed up for this activity."))
        status: SignupStatus = CONFIRMED if found.confirmed < found.capacity else WAITING
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
            conn, activity_id, await _signup(conn, activity_id, p.resident_id)
        )
    return SignedUp(activity_id=activity_id, status=status, position=position)


async def cancel_sign_up(db: Database, p: Principal, activity_id: int) -> SignedUp:
    """Take the resident off the list; the first on the waiting list gets the place."""
    p = access.resident_self(p)
    async with db.transaction() as conn:
        found = await _row(conn, p, activity_id, ("resident",), lock=True)
        signup = await _signup(conn, activity_id, p.resident_id)
        if signup is None or signup["status"] == CANCELLED:
            raise NotFound(N_("You are not signed up for this activity."))
        if signup["checked_in_at"] is not None:
            raise Invalid(N_("You have already checked in, so this cannot be cancelled."))
        _taking_signups(found)
        await conn.execute("UPDATE mall_signup SET status = 'cancelled' WHERE id = ?", signup["id"])
        if signup["status"] == CONFIRMED and found.confirmed - 1 < found.capacity:
            first = await conn.fetchval(
                "SELECT id FROM mall_signup WHERE activity = ? AND status = 'waiting' "
                "ORDER BY created_at, id LIMIT 1",
                activity_id,
            )
            if first is not None:
                await conn.execute(
                    "UPDATE mall_signup SET status = 'confirmed' WHERE id = ?", first
                )
    return SignedUp(activity_id=activity_id, status=CANCELLED)
