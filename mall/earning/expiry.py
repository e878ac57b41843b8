"""Points expiry (积分有效期): which of a resident's points expire, and when, under the community's
policy (``mall.org.policy``: never, at the end of the calendar year they were earned in, or
``expiry_months`` after the day they were earned; days in China time). Reads only; the journals
that return expired points to the budget are ``mall.earning.expiring``'s.

First in, first out. A resident's oldest points go first, whatever took them (spending, a
reservation's hold, a reversal, an earlier expiry), so at a cutoff the points that have expired
are ``max(0, credits dated before the cutoff − every debit so far)`` (``expired``). A credit is
dated when it reached the wallet: a refund's credit, or points back from a cancelled or lapsed
reservation, count as earned the day they came back (the resident sees them arrive then, and
they get a full life from that day), not on the day they were first earned.

Holds. A reservation's hold is a debit, so the points it set aside are the oldest ones, and the
formula never exceeds what is available (the wallet's balance, holds excluded): nothing expires
from under a hold. If the reservation is collected, those points were spent; if it is cancelled
or lapses, they come back as a new credit and live on from that day.

A new rule (or a changed one) applies from the day it was set (``Policy.expiry_since``): points
earned before count as earned that day, so no rule ever takes points at once.
"""

from __future__ import annotations

from calendar import monthrange
from datetime import date, datetime, timedelta

import msgspec

import ledger
from ledger import Connection
from mall import access, days
from mall.access import STAFF_ROLES, Principal
from mall.db import Database
from mall.org import points
from mall.org.policy import Policy, policy_of

#: residents are told this long ahead that points will expire (a calendar month)
NOTICE_MONTHS = 1


class Expiring(msgspec.Struct, frozen=True, kw_only=True):
    """``points`` of a resident's that expire at the end of ``on`` (China time), unless spent."""

    points: int
    on: date


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, kept inside the month (31 January + 1 month = 28 or 29
    February)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def china_day(moment: datetime) -> date:
    return moment.astimezone(days.CALENDAR).date()


def last_day(policy: Policy, earned: date) -> date | None:
    """The last day points earned on ``earned`` can be used; ``None`` when they never expire."""
    if policy.expiry == "year_end":
        return date(earned.year, 12, 31)
    if policy.expiry == "months":
        return add_months(earned, policy.expiry_months)
    return None


def first_kept(policy: Policy, on: date) -> date:
    """The first day whose points are still valid after the end of ``on``: points earned
    before it have expired by then. (The policy must let points expire.)"""
    if policy.expiry == "year_end":
        return date(on.year + 1, 1, 1) if (on.month, on.day) == (12, 31) else date(on.year, 1, 1)
    day = add_months(on, -policy.expiry_months) - timedelta(days=4)
    while add_months(day, policy.expiry_months) <= on:
        day += timedelta(days=1)
    return day


def since_day(policy: Policy) -> date | None:
    return None if policy.expiry_since is None else china_day(policy.expiry_since)


def expired(flows: ledger.Flows, cutoff: date, *, since: date | None = None) -> int:
    """The points that have expired by the start of ``cutoff`` (China), first in first out:
    every credit earned before that day, less every debit so far, never below zero. ``flows``
    were read with ``since = midnight(cutoff)``; points earned before ``since`` (the day the
    rule was set) count as earned on it."""
    if since is not None and cutoff <= since:
        return 0
    return max(0, flows.credited_before - flows.debited)


async def wallet_flows(
    conn: Connection, book: int, resident_id: int, start: date, end: date | None = None
) -> ledger.Flows | None:
    """The resident's wallet flows split at ``start`` (credits up to ``end`` listed);
    ``None`` for a resident without a wallet yet."""
    try:
        return await ledger.account_flows(
            conn,
            book,
            points.wallet(resident_id),
            since=days.midnight(start),
            until=None if end is None else days.midnight(end),
        )
    except ledger.AccountNotFound:
        return None


async def expiring_soon(
    conn: Connection, policy: Policy, book: int, resident_id: int, today: date
) -> list[Expiring]:
    """The resident's points that expire from today to a month ahead, by day, soonest first.
    Points whose day has passed but that housekeeping has not yet taken are not listed."""
    if policy.expiry == "never":
        return []
    base = first_kept(policy, today - timedelta(days=1))
    horizon = add_months(today, NOTICE_MONTHS)
    flows = await wallet_flows(conn, book, resident_id, base, first_kept(policy, horizon))
    if flows is None:
        return []
    since = since_day(policy)
    prior = flows.credited_before
    earned = [(china_day(c.at), c.amount) for c in flows.credits]
    if since is not None:
        earned = [(max(day, since), amount) for day, amount in earned]
        if since >= base:
            earned.append((since, prior))
            prior = 0
    by_day: dict[date, int] = {}
    for day, amount in earned:
        on = last_day(policy, day)
        if on is not None and on <= horizon:
            by_day[on] = by_day.get(on, 0) + amount
    found, credited, gone = [], prior, max(0, prior - flows.debited)
    for on in sorted(by_day):
        credited += by_day[on]
        total = max(0, credited - flows.debited)
        if total > gone and on >= today:
            found.append(Expiring(points=total - gone, on=on))
        gone = total
    return found


async def resident_expiring(
    db: Database, p: Principal, resident_id: int, today: date | None = None
) -> list[Expiring]:
    """What of the resident's points expires within a month (the resident, or staff of their
    community)."""
    async with db.connection() as conn:
        row = await access.resident(conn, p, resident_id, STAFF_ROLES + ("resident",))
        policy = await policy_of(conn, row["community"])
        return await expiring_soon(conn, policy, row["book"], resident_id, today or days.today())
