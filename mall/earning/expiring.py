"""Taking expired points back (积分过期), run by ``mall housekeeping``: for each community whose
policy lets points expire, each resident's expired points (``mall.earning.expiry.expired``) go
back to the community's budget by one journal of kind ``expiry``.

Why straight back to the budget, not through the ``expired`` account: the issue asks for the
points to go back to the budget, where staff can award them again, and a journal touches each
account once, so passing through ``expired`` would take a second journal per resident (twice the
writes, twice the lock on the busy ``budget``). The kind ``expiry`` marks the journals, which is
all a report needs to add them up; ``expired`` stays in the chart, unused, for a street that
would rather destroy expired points than re-issue them.

Idempotent and safe from several processes at once: the journal's key is derived from the
resident and the cutoff (``expiry:r<resident>:<first day kept>``), so a second run, or a twin run
at the same moment, posts nothing (the ledger answers the same key with the first journal); and
a run that raced a purchase (the wallet moved between reading it and posting) rolls back and
reads again, so nobody loses points they had already spent.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import ledger
from mall import days
from mall import query as q
from mall import tables as t
from mall.db import Database
from mall.earning.expiry import (
    expired,
    expiring_soon,
    first_kept,
    last_day,
    since_day,
    wallet_flows,
)
from mall.notify import inbox, kinds
from mall.org import points
from mall.org.policy import Policy, policy_of

log = logging.getLogger("mall.earning.expiring")

KIND = "expiry"
#: residents are reminded this many days before their points expire
REMIND_DAYS = 7
#: a resident whose wallet keeps moving under the run is tried this often, then left for the next
ATTEMPTS = 3


class _Moved(Exception):
    """The wallet changed between reading it and posting: roll back and read again."""


def key_of(resident_id: int, cutoff: str) -> str:
    return f"expiry:r{resident_id}:{cutoff}"


async def expire_points(db: Database, at: datetime | None = None) -> int:
    """Take back every resident's expired points in every community; how many journals this
    run posted (a second run, or a twin's, posts none)."""
    at = at or datetime.now(UTC)
    today = china_today(at)
    c = t.Community
    async with db.connection() as conn:
        rows = await q.fetch(conn, c.select(c.id, c.book).where(c.expiry != "never").order_by(c.id))
    posted = 0
    for row in rows:
        posted += await _expire_community(db, int(row["id"]), int(row["book"]), today)
    return posted


def china_today(at: datetime) -> date:
    return at.astimezone(days.CALENDAR).date()


async def _expire_community(db: Database, community_id: int, book: int, today: date) -> int:
    async with db.connection() as conn:
        policy = await policy_of(conn, community_id)
        if policy.expiry == "never":
            return 0
        wallets = await ledger.accounts_holding(conn, book, points.WALLET_PREFIX)
    cutoff = first_kept(policy, today - timedelta(days=1))
    posted = 0
    for code, _ in wallets:
        resident_id = int(code.removeprefix(points.WALLET_PREFIX))
        for _attempt in range(ATTEMPTS):
            try:
                posted += await _expire_one(db, policy, book, resident_id, cutoff)
                break
            except _Moved:
                continue
        else:
            log.warning("expiry of resident %s left for the next run: wallet kept moving", code)
    return posted


async def _expire_one(
    db: Database, policy: Policy, book: int, resident_id: int, cutoff: date
) -> int:
    """1 if this call posted the resident's expiry journal for ``cutoff``, else 0."""
    async with db.transaction() as conn:
        flows = await wallet_flows(conn, book, resident_id, cutoff)
        amount = 0 if flows is None else expired(flows, cutoff, since=since_day(policy))
        if flows is None or amount <= 0:
            return 0
        on = last_day(policy, cutoff - timedelta(days=1))
        try:
            journal = await ledger.post_journal(
                conn,
                book,
                KIND,
                [(points.wallet(resident_id), -amount), (points.BUDGET, amount)],
                idempotency_key=key_of(resident_id, cutoff.isoformat()),
                memo=f"{on.isoformat() if on else ''} 到期",
            )
        except ledger.IdempotencyKeyReused:
            return 0  # a twin run took them a moment ago (with the wallet as it was then)
        except ledger.InsufficientFunds as exc:
            raise _Moved() from exc
        if journal.replayed:
            return 0
        version = next(
            x.version for x in journal.postings if x.account == points.wallet(resident_id)
        )
        if version != flows.version + 1:
            raise _Moved()
    return 1


async def remind_expiring(db: Database, at: datetime | None = None) -> int:
    """Tell each resident whose points expire within ``REMIND_DAYS`` days, once per expiry day
    (the message's key is the day, so a second run or a twin writes nothing). Returns how many
    reminders this run wrote."""
    at = at or datetime.now(UTC)
    today = china_today(at)
    c = t.Community
    written = 0
    async with db.connection() as conn:
        rows = await q.fetch(conn, c.select(c.id, c.book).where(c.expiry != "never").order_by(c.id))
    for row in rows:
        async with db.connection() as conn:
            policy = await policy_of(conn, int(row["id"]))
            wallets = await ledger.accounts_holding(conn, int(row["book"]), points.WALLET_PREFIX)
        for code, _ in wallets:
            resident_id = int(code.removeprefix(points.WALLET_PREFIX))
            async with db.transaction() as conn:
                soon = await expiring_soon(conn, policy, int(row["book"]), resident_id, today)
                for e in soon:
                    if e.on > today + timedelta(days=REMIND_DAYS):
                        break
                    written += await inbox.post(
                        conn,
                        community_id=int(row["id"]),
                        resident_id=resident_id,
                        kind=kinds.POINTS_EXPIRING,
                        key=f"expiring:{e.on.isoformat()}",
                        at=at,
                        points=e.points,
                        on=e.on.isoformat(),
                    )
    return written
