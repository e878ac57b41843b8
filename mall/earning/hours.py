"""Volunteer hours (志愿服务时长): an activity's hours for each attendee, set by staff when they
publish it; the hours settlement writes for every attendee; and a resident's hours in a year.
Staff correct one attendee's hours before settlement on the sign-in sheet (``mall.earning.sheet``). Hours are kept as whole tenths of an
hour (25 = 2.5 hours), never as floating point; ``as_hours`` turns tenths into a number to show.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
from piccolo.query.functions.aggregate import Sum

import ledger
from mall import access, days
from mall import query as q
from mall import tables as t
from mall.access import Principal
from mall.db import Database
from mall.errors import N_, Invalid
from mall.org import policy

#: the most volunteer hours one activity counts for one person (an activity lasts at most 31 days)
MAX_HOURS = 200
SETTLED = "settled"


class MyHours(msgspec.Struct, frozen=True, kw_only=True):
    """A resident's volunteer hours: this calendar year (China time) and in all."""

    year: int
    year_tenths: int
    total_tenths: int
    stars: int
    """Star volunteer level (星级志愿者, 0 to 5) of the hours in all, by the community's policy."""
    next_star_hours: int | None
    """Hours in all that the next star needs; ``None`` at five stars."""

    @property
    def year_hours(self) -> float:
        return as_hours(self.year_tenths)

    @property
    def total_hours(self) -> float:
        return as_hours(self.total_tenths)


def as_hours(tenths: int) -> float:
    """Tenths of an hour as hours to show: 25 → 2.5, 30 → 3.0 (exact at one decimal)."""
    return tenths / 10


def tenths(value: object) -> int:
    """Hours as typed or sent (``2.5``, ``"2.5"``, ``3``) → whole tenths (25, 30): at most one
    decimal, from 0 to ``MAX_HOURS``; anything else is ``validation_error``."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise _bad()
    text = str(value).strip()
    try:
        found = Decimal(text or "0") * 10
    except InvalidOperation:
        raise _bad() from None
    if not found.is_finite() or found != found.to_integral_value():
        raise _bad()
    return check(int(found))


def check(value: object) -> int:
    """Tenths of an hour as a service takes them: a whole number from 0 to ``MAX_HOURS`` × 10."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_HOURS * 10:
        raise _bad()
    return value


def _bad() -> Invalid:
    return Invalid(
        N_("Hours must be a number from 0 to {n} with at most one decimal, such as 2.5."),
        n=MAX_HOURS,
    )


async def record_at_settlement(
    conn: ledger.Connection, activity_id: int, each: int, attendees: list[int]
) -> None:
    """Settlement writes the activity's hours for every attendee staff did not correct."""
    if not attendees:
        return
    s = t.Signup
    await q.execute(
        conn,
        s.update({s.hours_tenths: each}).where(
            (s.activity == activity_id) & s.resident.is_in(attendees) & s.hours_tenths.is_null()
        ),
    )


def settled_hours(signup: Any = t.Signup) -> Any:
    """The sign-ups whose hours count: checked in to an activity since settled."""
    return (
        (signup.activity.status == SETTLED)
        & signup.checked_in_at.is_not_null()
        & signup.hours_tenths.is_not_null()
    )


async def hours_between(
    conn: ledger.Connection, resident_id: int, lo: datetime | None, hi: datetime | None
) -> int:
    """A resident's tenths of hours from activities settled in ``[lo, hi)`` (all, without)."""
    s = t.Signup
    where = (s.resident == resident_id) & settled_hours(s)
    if lo is not None and hi is not None:
        where = where & (s.activity.settled_at >= lo) & (s.activity.settled_at < hi)
    found = await q.fetchval(conn, s.select(Sum(s.hours_tenths)).where(where))
    return int(found or 0)


async def my_hours(db: Database, p: Principal) -> MyHours:
    """The signed-in resident's volunteer hours this year (China time) and in all."""
    p = access.resident_self(p)
    year = days.today().year
    lo, hi = days.utc_bounds(date(year, 1, 1), date(year, 12, 31))
    async with db.connection() as conn:
        this_year = await hours_between(conn, p.resident_id, lo, hi)
        total = await hours_between(conn, p.resident_id, None, None)
        levels = (await policy.policy_of(conn, p.community_id)).star_hours
    stars = policy.stars(total, levels)
    return MyHours(
        year=year,
        year_tenths=this_year,
        total_tenths=total,
        stars=stars,
        next_star_hours=levels[stars] if stars < len(levels) else None,
    )
