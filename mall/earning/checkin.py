"""Check-in and settlement of a recruitment call: a rotating check-in code shown on a staff screen
(a URL a phone's own camera opens), a resident's check-in, staff recording attendance by code,
and the settlement: one award (``mall.earning.awards``) to every attendee. Ticking residents off
the paper sign-in sheet by name is ``mall.earning.sheet``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

import ledger
from mall import access, metrics
from mall import query as q
from mall import tables as t
from mall.access import STAFF_ROLES, Principal, audit
from mall.db import Database, must_exist
from mall.earning import awards, hours, rules, threshold
from mall.earning.activities import (
    _COLUMNS,
    _COUNTS,
    CONFIRMED,
    OPEN,
    SETTLED,
    _row,
    _shape,
    _signup,
    check_most_a_head,
    now,
)
from mall.earning.award_records import POSTED, AwardStatus
from mall.earning.values import Activity
from mall.errors import (
    N_,
    AlreadyCheckedIn,
    CodeExpired,
    CodeInvalid,
    Forbidden,
    Invalid,
)
from mall.people import code_lookup, codes
from mall.settings import get_settings

#: Seconds one check-in code is shown before the next; a code is accepted in its own window and
#: the next one (a scan at the edge still works), so a photographed code dies within a minute.
WINDOW = 30

#: Residents may check in from this long before the start until this long after the end.
CHECKIN_OPENS = timedelta(minutes=60)

CHECKIN_CLOSES = timedelta(minutes=60)

#: The check-in screen shows its QR from this long before the start (a photo taken earlier
#: would be stale anyway); before that it says when the QR will appear.
SCREEN_OPENS = timedelta(minutes=30)


class CheckinCode(msgspec.Struct, frozen=True, kw_only=True):
    """The code the check-in screen shows now, as a QR of ``url``."""

    code: str
    url: str
    expires_at: datetime
    """The code is accepted until then (its own window and the next)."""
    refreshes_at: datetime
    """When the next code is due."""


class CheckedIn(msgspec.Struct, frozen=True, kw_only=True):
    """A resident checked in to an activity."""

    activity_id: int
    resident_id: int
    checked_in_at: datetime


class Attended(CheckedIn, frozen=True, kw_only=True):
    """A resident checked in by staff, with the name to show them."""

    name: str


class Settlement(msgspec.Struct, frozen=True, kw_only=True):
    """What settling an activity awarded: one award, posted or waiting for approval."""

    activity_id: int
    awarded: int
    """Attendees awarded."""
    points: int
    """Points awarded in all (``awarded`` × ``points_each``)."""
    points_each: int
    journal_id: int | None
    """The award's one ledger journal; ``None`` when nobody attended or it waits for approval."""
    award_id: int | None
    """The award the settlement made; ``None`` when nobody attended."""
    status: AwardStatus
    """The award's status: ``posted``, ``pending_approval`` (or ``rejected``, later)."""


def window_of(at: datetime) -> int:
    return int(at.timestamp()) // WINDOW


def checkin_url(code: str) -> str:
    """What the check-in QR holds: a short link that a phone's own camera opens."""
    return f"{get_settings().base_url}/c/{code}"


async def checkin_code(db: Database, p: Principal, activity_id: int) -> CheckinCode:
    """The code the check-in screen shows now (staff): it changes every ``WINDOW`` seconds."""
    async with db.connection() as conn:
        found = await _row(conn, p, activity_id, STAFF_ROLES)
    if found.status != OPEN:
        raise Invalid(N_("This activity is closed."))
    window = window_of(now())
    code = codes.checkin_code(get_settings().secret_key, activity_id, window)
    return CheckinCode(
        code=code,
        url=checkin_url(code),
        expires_at=datetime.fromtimestamp((window + 2) * WINDOW, UTC),
        refreshes_at=datetime.fromtimestamp((window + 1) * WINDOW, UTC),
    )


def read_checkin_code(code: str) -> int:
    """The activity a check-in code is for, if the code is genuine and still valid; raises
    ``CodeInvalid`` or ``CodeExpired``. Reads nothing and changes nothing."""
    activity_id, window = codes.parse_checkin(get_settings().secret_key, code)
    current = window_of(now())
    if window < current - 1:
        raise CodeExpired(N_("This check-in code has expired. Please scan the QR code again."))
    if window > current + 1:  # made by the server, but not for now: refuse
        raise CodeInvalid()
    return activity_id


async def activity_for_code(db: Database, code: str) -> Activity:
    """The activity a genuine, current check-in code is for: what the page the QR opens shows
    whoever holds the code (it is on a screen in the room). Reads only."""
    activity_id = read_checkin_code(code)
    async with db.connection() as conn:
        # Hand-written: the activity's correlated subqueries (``activities._COLUMNS``).
        row = await conn.fetchrow(
            f"SELECT {_COLUMNS}, {_COUNTS} FROM mall_activity a "
            "JOIN mall_community c ON c.id = a.community WHERE a.id = ?",
            activity_id,
        )
    if row is None:
        raise CodeInvalid()
    return _shape(row)


def _checkin_open(found: Activity, at: datetime) -> None:
    if found.status != OPEN:
        raise Invalid(N_("This activity is closed."))
    if at < found.starts_at - CHECKIN_OPENS:
        raise Invalid(
            N_("Check-in opens {n} minutes before the start."),
            n=int(CHECKIN_OPENS.total_seconds() // 60),
        )
    if at > found.ends_at + CHECKIN_CLOSES:
        raise Invalid(N_("Check-in for this activity has closed."))


async def _mark(
    conn: ledger.Connection, activity_id: int, resident_id: int, by: int | None
) -> datetime:
    """Check the resident in, once: a walk-in or someone from the waiting list gets a place."""
    signup = await _signup(conn, activity_id, resident_id)
    if signup is not None and signup["checked_in_at"] is not None:
        raise AlreadyCheckedIn()
    at = now()
    s = t.Signup
    if signup is None:
        new = s(
            activity=activity_id,
            resident=resident_id,
            status=CONFIRMED,
            created_at=at,
            checked_in_at=at,
            checked_in_by=by,
        )
        await q.execute(conn, s.insert(new))
    else:
        await q.execute(
            conn,
            s.update({s.status: CONFIRMED, s.checked_in_at: at, s.checked_in_by: by}).where(
                s.id == signup["id"]
            ),
        )
    return at


async def check_in(db: Database, p: Principal, activity_id: int, code: str) -> CheckedIn:
    """The signed-in resident scanned the screen's code: check them in (once)."""
    p = access.resident_self(p)
    if read_checkin_code(code) != activity_id:
        raise CodeInvalid()
    async with db.transaction() as conn:
        found = await _row(conn, p, activity_id, ("resident",), lock=True)
        _checkin_open(found, now())
        at = await _mark(conn, activity_id, p.resident_id, None)
    return CheckedIn(activity_id=activity_id, resident_id=p.resident_id, checked_in_at=at)


async def record_attendance(
    db: Database, p: Principal, activity_id: int, code: str, pin: str | None = None, *, ip: str = ""
) -> Attended:
    """Staff check in a resident who has no phone with them, by their pay code or card (+ PIN).

    Unlike the resident's own scan, this is allowed after the end too (until settlement), for
    attendance taken on paper; never earlier than a resident could check in."""
    async with db.connection() as conn:
        p = access.staff(p)
        found = await _row(conn, p, activity_id, STAFF_ROLES)
    # the pay code is not used up by this; a card needs its PIN (with a limit on wrong ones)
    resident_id = (await code_lookup.find_resident_by_code(db, p, code, pin, ip=ip)).id
    async with db.connection() as conn:
        r = t.Resident
        home = await q.fetchval(conn, r.select(r.community).where(r.id == resident_id))
    if home != found.community_id:  # a street administrator scanned another community's
        raise CodeInvalid()
    async with db.transaction() as conn:
        found = await _row(conn, p, activity_id, STAFF_ROLES, lock=True)
        if found.status != OPEN:
            raise Invalid(N_("This activity is closed."))
        if now() < found.starts_at - CHECKIN_OPENS:
            raise Invalid(
                N_("Check-in opens {n} minutes before the start."),
                n=int(CHECKIN_OPENS.total_seconds() // 60),
            )
        at = await _mark(conn, activity_id, resident_id, p.user_id)
        name = await q.fetchval(conn, r.select(r.name).where(r.id == resident_id))
        await audit.record(
            conn,
            p,
            "activity.attendance",
            community_id=found.community_id,
            target=f"activity:{activity_id}",
            ip=ip,
            resident=resident_id,
        )
    return Attended(activity_id=activity_id, resident_id=resident_id, name=name, checked_in_at=at)


async def settle(db: Database, p: Principal, activity_id: int, *, ip: str = "") -> Settlement:
    """Settle the activity: one award (``mall.earning.awards``) of its points to every attendee.

    The award goes through the same budget, threshold and approval queue as any other: over the
    community's daily threshold it waits for a second staff member (``status``
    ``pending_approval``). Settling a settled activity again answers the same and writes nothing.
    If the budget does not cover it, ``budget_exhausted`` and nothing changes. Without attendees
    it is settled with no award. Every attendee's volunteer hours are written too (the
    activity's, unless staff corrected theirs). A settler whose own resident record attended is refused
    (``self_dealing``), as is an activity paying more a head than the community's policy allows.
    """
    async with db.transaction() as conn:
        p = access.staff(p)
        found = await _row(conn, p, activity_id, STAFF_ROLES, lock=True)
        each = found.points
        if found.status == SETTLED:
            return await _settled_before(conn, found)
        if found.status != OPEN:
            raise Invalid(N_("This activity is closed."))
        if now() < found.starts_at:
            raise Invalid(N_("An activity can be settled once it has started."))
        await check_most_a_head(conn, found.community_id, each)
        if p.user_id is None:
            raise Forbidden()
        s = t.Signup
        attendees = [  # a record closed since is left out (its points would go nowhere)
            int(r["resident"])
            for r in await q.fetch(
                conn,
                s.select(s.resident)
                .where(
                    (s.activity == activity_id)
                    & s.checked_in_at.is_not_null()
                    & s.resident.closed_at.is_null()
                )
                .order_by(s.resident),
            )
        ]
        await access.not_self_dealing(conn, p, attendees)
        made = None
        if attendees:
            c = t.Community
            community = must_exist(
                await q.fetchrow(
                    conn, c.select(c.id, c.slug, c.book).where(c.id == found.community_id)
                )
            )
            await threshold.lock_issuer(conn, p)
            rule = await rules.activity_rule(conn, found.community_id, found.path)
            made = await awards.issue(
                conn,
                p,
                community,
                rule,
                attendees,
                each,
                found.title,
                idempotency_key=f"activity:{activity_id}:settle",
                req_hash=ledger.request_hash({"activity": activity_id}),
                ip=ip,
            )
        await hours.record_at_settlement(conn, activity_id, found.hours_tenths, attendees)
        journal_id = None
        if made is not None and made.status == POSTED:
            a = t.Award
            journal_id = await q.fetchval(conn, a.select(a.journal_id).where(a.id == made.id))
        act = t.Activity
        await q.execute(
            conn,
            act.update(
                {
                    act.status: SETTLED,
                    act.settled_by: p.user_id,
                    act.settled_at: now(),
                    act.award: made.id if made else None,
                }
            ).where(act.id == activity_id),
        )
        await audit.record(
            conn,
            p,
            "activity.settle",
            community_id=found.community_id,
            target=f"activity:{activity_id}",
            ip=ip,
            awarded=len(attendees),
            points=each * len(attendees),
            award=made.id if made else None,
            status=made.status if made else POSTED,
        )
    if made is not None:
        metrics.AWARDS.labels(status=made.status).inc()
    return Settlement(
        activity_id=activity_id,
        awarded=len(attendees),
        points=each * len(attendees),
        points_each=each,
        journal_id=journal_id,
        award_id=made.id if made else None,
        status=made.status if made else POSTED,
    )


async def _settled_before(conn: ledger.Connection, found: Activity) -> Settlement:
    """What settling answered the first time, read back: the award's status as it is now."""
    act = t.Activity
    award = await q.fetchrow(
        conn,
        act.select(
            act.award.id.as_alias("id"),
            act.award.status.as_alias("status"),
            act.award.journal_id.as_alias("journal_id"),
        ).where((act.id == found.id) & act.award.is_not_null()),
    )
    if award is None:  # nobody attended, or settled before settlements were awards
        return Settlement(
            activity_id=found.id,
            awarded=found.checked_in if found.journal_id is not None else 0,
            points=(found.checked_in if found.journal_id is not None else 0) * found.points,
            points_each=found.points,
            journal_id=found.journal_id,
            award_id=None,
            status=POSTED,
        )
    line = t.AwardLine
    awarded = int(await q.fetchval(conn, line.count().where(line.award == award["id"])))
    return Settlement(
        activity_id=found.id,
        awarded=awarded,
        points=awarded * found.points,
        points_each=found.points,
        journal_id=award["journal_id"],
        award_id=award["id"],
        status=award["status"],
    )
