"""Signing up for a recruitment call (报名) and cancelling: a place while any are left, else the
waiting list, first come, first served; a cancelled place goes to the first on the waiting list.
"""

from __future__ import annotations

import msgspec

from mall import access
from mall import query as q
from mall import tables as t
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
        s = t.Signup
        if signup is None:
            new = s(activity=activity_id, resident=p.resident_id, status=status, created_at=now())
            await q.execute(conn, s.insert(new))
        else:  # signed up again after cancelling: to the end of the queue
            await q.execute(
                conn,
                s.update({s.status: status, s.created_at: now()}).where(s.id == signup["id"]),
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
        s = t.Signup
        await q.execute(conn, s.update({s.status: CANCELLED}).where(s.id == signup["id"]))
        if signup["status"] == CONFIRMED and found.confirmed - 1 < found.capacity:
            first = await q.fetchval(
                conn,
                s.select(s.id)
                .where((s.activity == activity_id) & (s.status == WAITING))
                .order_by(s.created_at, s.id)
                .first(),
            )
            if first is not None:
                await q.execute(conn, s.update({s.status: CONFIRMED}).where(s.id == first))
    return SignedUp(activity_id=activity_id, status=CANCELLED)
