"""Changing a recruitment call after it was published (staff of its community): editing it,
cancelling it (its residents then read 活动已取消 on their list), and removing a check-in made by
mistake. All before settlement, each in the audit log; settlement itself is in ``checkin``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import msgspec

from mall import access, text
from mall import query as q
from mall import tables as t
from mall.access import STAFF_ROLES, Principal, audit
from mall.db import Database
from mall.earning.activities import (
    CANCELLED,
    CONFIRMED,
    MAX_CAPACITY,
    MAX_DAYS,
    MAX_POINTS,
    OPEN,
    SETTLED,
    WAITING,
    _description,
    _moment,
    _row,
    _signup,
    _whole,
    check_most_a_head,
)
from mall.earning.values import Activity
from mall.errors import N_, Invalid, NotFound
from mall.notify import inbox, kinds
from mall.org.points import PATHS


class ActivityEdit(msgspec.Struct, frozen=True, kw_only=True):
    """What staff change; a field left ``None`` keeps its value."""

    title: str | None = None
    path: str | None = None
    points: int | None = None
    capacity: int | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    place: str | None = None
    description: str | None = None


def _still_open(found: Activity) -> None:
    if found.status == SETTLED:
        raise Invalid(N_("This activity is settled; it can no longer be changed."))
    if found.status != OPEN:
        raise Invalid(N_("This activity is closed."))


def _cleaned(found: Activity, edit: ActivityEdit) -> dict[str, Any]:
    """The fields to write, checked as when the activity was published."""
    values: dict[str, Any] = {}
    if edit.title is not None:
        values["title"] = text.plain(
            edit.title, max_length=100, empty=N_("Please enter a title of at most {n} characters.")
        )
    if edit.place is not None:
        values["place"] = text.plain(
            edit.place, max_length=200, empty=N_("Please enter the place (at most {n} characters).")
        )
    if edit.description is not None:
        values["description"] = _description(edit.description)
    if edit.path is not None:
        if edit.path not in PATHS:
            raise Invalid(N_("Please choose one of the three paths."))
        values["path"] = edit.path
    if edit.points is not None:
        values["points"] = _whole(
            edit.points, MAX_POINTS, N_("Points must be a whole number from 1 to {n}.")
        )
    if edit.capacity is not None:
        values["capacity"] = _whole(
            edit.capacity, MAX_CAPACITY, N_("Places must be a whole number from 1 to {n}.")
        )
    starts = _moment(edit.starts_at) if edit.starts_at is not None else found.starts_at
    ends = _moment(edit.ends_at) if edit.ends_at is not None else found.ends_at
    if ends <= starts:
        raise Invalid(N_("The end must be after the start."))
    if ends - starts > timedelta(days=MAX_DAYS):
        raise Invalid(N_("An activity lasts at most {n} days."), n=MAX_DAYS)
    if edit.starts_at is not None:
        values["starts_at"] = starts
    if edit.ends_at is not None:
        values["ends_at"] = ends
    return values


async def edit_activity(
    db: Database, p: Principal, activity_id: int, edit: ActivityEdit, *, ip: str = ""
) -> Activity:
    """Change what staff got wrong or what changed, until settlement. More places go to the
    waiting list first come, first served; fewer places than residents already have are refused."""
    access.require(p, STAFF_ROLES)
    async with db.transaction() as conn:
        found = await _row(conn, p, activity_id, STAFF_ROLES, lock=True)
        _still_open(found)
        values = _cleaned(found, edit)
        if "points" in values:
            await check_most_a_head(conn, found.community_id, values["points"])
        capacity = values.get("capacity", found.capacity)
        if capacity < found.confirmed:
            raise Invalid(
                N_("{n} residents already have a place; keep at least that many places."),
                n=found.confirmed,
            )
        changed = {k: v for k, v in values.items() if getattr(found, k) != v}
        if changed:
            a = t.Activity
            columns = {getattr(a, k): v for k, v in changed.items()}
            await q.execute(conn, a.update(columns).where(a.id == activity_id))
            await _fill_places(conn, activity_id, capacity - found.confirmed)
            await audit.record(
                conn,
                p,
                "activity.edit",
                community_id=found.community_id,
                target=f"activity:{activity_id}",
                ip=ip,
                **{k: changed[k] for k in sorted(changed)},
            )
        return await _row(conn, p, activity_id, STAFF_ROLES)


async def _fill_places(conn: Any, activity_id: int, free: int) -> None:
    """Give up to ``free`` new places to the waiting list, first come first served."""
    if free <= 0:
        return
    s = t.Signup
    first = await q.fetch(
        conn,
        s.select(s.id)
        .where((s.activity == activity_id) & (s.status == WAITING))
        .order_by(s.created_at, s.id)
        .limit(free),
    )
    if first:
        ids = [int(r["id"]) for r in first]
        await q.execute(conn, s.update({s.status: CONFIRMED}).where(s.id.is_in(ids)))


async def cancel_activity(
    db: Database, p: Principal, activity_id: int, *, reason: str, ip: str = ""
) -> Activity:
    """Call the activity off, before settlement: nobody can sign up or check in any more; the
    reason is kept on it, and each resident signed up (or waiting) reads 活动已取消 and the
    reason on their list, on its page and in their inbox. Twice changes nothing more."""
    reason = text.plain(
        reason, max_length=200, empty=N_("Please say why (at most {n} characters).")
    )
    async with db.transaction() as conn:
        found = await _row(conn, p, activity_id, STAFF_ROLES, lock=True)
        if found.status == CANCELLED:
            return found
        _still_open(found)
        a = t.Activity
        await q.execute(
            conn,
            a.update({a.status: CANCELLED, a.cancel_reason: reason}).where(a.id == activity_id),
        )
        s = t.Signup
        listed = await q.fetch(
            conn,
            s.select(s.resident)
            .where((s.activity == activity_id) & s.status.is_in([CONFIRMED, WAITING]))
            .order_by(s.resident),
        )
        for signup in listed:
            await inbox.post(
                conn,
                community_id=found.community_id,
                resident_id=int(signup["resident"]),
                kind=kinds.ACTIVITY_CANCELLED,
                key=f"activity_cancelled:{activity_id}",
                title=found.title,
                on=inbox.moment(found.starts_at),
                reason=reason,
            )
        await audit.record(
            conn,
            p,
            "activity.cancel",
            community_id=found.community_id,
            target=f"activity:{activity_id}",
            ip=ip,
            reason=reason,
            signed_up=found.confirmed + found.waiting,
        )
        return await _row(conn, p, activity_id, STAFF_ROLES)


async def remove_checkin(
    db: Database, p: Principal, activity_id: int, resident_id: int, *, reason: str, ip: str = ""
) -> None:
    """Take back a check-in made by mistake, before settlement. A resident who signed up keeps
    their place; one who only walked in (signed up by the check-in itself) is off the list.
    The reason, if given, goes to the audit log with the act."""
    reason = text.plain(
        reason, max_length=200, required=False, empty=N_("Please say why (at most {n} characters).")
    )
    if not isinstance(resident_id, int) or not 0 < resident_id <= access.MAX_ID:
        raise NotFound()
    async with db.transaction() as conn:
        found = await _row(conn, p, activity_id, STAFF_ROLES, lock=True)
        if found.status == SETTLED:
            raise Invalid(N_("This activity is settled; its check-ins can no longer be removed."))
        _still_open(found)
        signup = await _signup(conn, activity_id, resident_id)
        if signup is None or signup["checked_in_at"] is None:
            raise NotFound(N_("This resident is not checked in."))
        walked_in = signup["created_at"] == signup["checked_in_at"]
        s = t.Signup
        undone: dict[Any, Any] = {s.checked_in_at: None, s.checked_in_by: None}
        if walked_in:
            undone[s.status] = CANCELLED
        await q.execute(conn, s.update(undone).where(s.id == signup["id"]))
        await audit.record(
            conn,
            p,
            "activity.checkin_removed",
            community_id=found.community_id,
            target=f"activity:{activity_id}",
            ip=ip,
            resident=resident_id,
            reason=reason,
        )
