"""The paper sign-in sheet (签到表): staff tick residents of the community by name after an
activity, for those who signed on paper instead of scanning, and correct one attendee's volunteer
hours before settlement. It only checks them in; what they earn is decided at settlement
(``mall.earning.checkin.settle``), an award like any other.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from mall import access
from mall import query as q
from mall import tables as t
from mall.access import MAX_ID, STAFF_ROLES, Principal, audit
from mall.db import Database
from mall.earning import hours
from mall.earning.activities import OPEN, _row, _signup, now
from mall.earning.checkin import CHECKIN_OPENS, Attended, _mark
from mall.errors import N_, Invalid, NotFound

#: Residents ticked off a paper sign-in sheet at once.
MAX_TICKS = 200


class HoursSet(msgspec.Struct, frozen=True, kw_only=True):
    """One attendee's volunteer hours after a staff correction, in tenths of an hour."""

    activity_id: int
    resident_id: int
    hours_tenths: int


class Recorded(msgspec.Struct, frozen=True, kw_only=True):
    """Residents ticked on the paper sign-in sheet, by name."""

    activity_id: int
    checked_in: list[Attended]
    """Those checked in now."""
    already: list[int]
    """Those who were checked in already (left as they were)."""


async def record_attendance_by_name(
    db: Database, p: Principal, activity_id: int, resident_ids: Sequence[int], *, ip: str = ""
) -> Recorded:
    """Staff tick residents of the activity's community off the paper sign-in sheet, by name
    (after the activity too, until settlement). Residents already checked in are left as they
    were. Nobody ticks their own resident record (``self_dealing``). What it earns them is
    decided at settlement, an award like any other (the daily threshold, four eyes)."""
    ids = list(resident_ids or [])
    if not ids or len(ids) > MAX_TICKS or len(set(ids)) != len(ids):
        raise Invalid(N_("Please tick from 1 to {n} different residents."), n=MAX_TICKS)
    if any(not isinstance(i, int) or isinstance(i, bool) or not 0 < i <= MAX_ID for i in ids):
        raise NotFound(N_("A chosen resident was not found in this community."))
    async with db.transaction() as conn:
        p = access.staff(p)
        found = await _row(conn, p, activity_id, STAFF_ROLES, lock=True)
        if found.status != OPEN:
            raise Invalid(N_("This activity is closed."))
        if now() < found.starts_at - CHECKIN_OPENS:
            raise Invalid(
                N_("Check-in opens {n} minutes before the start."),
                n=int(CHECKIN_OPENS.total_seconds() // 60),
            )
        r = t.Resident
        names = {
            int(row["id"]): row["name"]
            for row in await q.fetch(
                conn,
                r.select(r.id, r.name).where((r.community == found.community_id) & r.id.is_in(ids)),
            )
        }
        if len(names) != len(ids):
            raise NotFound(N_("A chosen resident was not found in this community."))
        await access.not_self_dealing(conn, p, ids)
        done, already = [], []
        for resident_id in ids:
            signup = await _signup(conn, activity_id, resident_id)
            if signup is not None and signup["checked_in_at"] is not None:
                already.append(resident_id)
                continue
            at = await _mark(conn, activity_id, resident_id, p.user_id)
            done.append(
                Attended(
                    activity_id=activity_id,
                    resident_id=resident_id,
                    name=names[resident_id],
                    checked_in_at=at,
                )
            )
        await audit.record(
            conn,
            p,
            "activity.attendance",
            community_id=found.community_id,
            target=f"activity:{activity_id}",
            ip=ip,
            by="name",
            residents=[a.resident_id for a in done],
        )
    return Recorded(activity_id=activity_id, checked_in=done, already=already)


async def set_hours(
    db: Database,
    p: Principal,
    activity_id: int,
    resident_id: int,
    hours_tenths: int,
    *,
    ip: str = "",
) -> HoursSet:
    """Correct one checked-in attendee's hours before settlement (staff of the activity's
    community): someone who left early or stayed late. After settlement the hours stand, like
    the points; an attendee not checked in is ``not_found``."""
    hours_tenths = hours.check(hours_tenths)
    if not isinstance(resident_id, int) or not 0 < resident_id <= MAX_ID:
        raise NotFound()
    async with db.transaction() as conn:
        p = access.staff(p)
        found = await _row(conn, p, activity_id, STAFF_ROLES, lock=True)
        if found.status != OPEN:
            raise Invalid(N_("Hours can be corrected only before the activity is settled."))
        signup = await _signup(conn, activity_id, resident_id)
        if signup is None or signup["checked_in_at"] is None:
            raise NotFound(N_("This resident has not checked in to this activity."))
        await access.not_self_dealing(conn, p, [resident_id])
        s = t.Signup
        await q.execute(conn, s.update({s.hours_tenths: hours_tenths}).where(s.id == signup["id"]))
        await audit.record(
            conn,
            p,
            "activity.hours",
            community_id=found.community_id,
            target=f"activity:{activity_id}",
            ip=ip,
            resident=resident_id,
            hours_tenths=hours_tenths,
        )
    return HoursSet(activity_id=activity_id, resident_id=resident_id, hours_tenths=hours_tenths)
