"""``mall housekeeping``: the chores a community's service needs, run from cron or a systemd
timer (docs/deploy.md): reservations not collected by their deadline lapse (points and goods go
back), expired points go back to their community's budget (``mall.earning.expiring``, for
communities whose policy lets points expire), residents are reminded of reservations about to
lapse and points about to expire (once each, in their inbox), new messages go to the sender an
operator configured (``mall.notify.senders``; none by default), and what has served its time is
deleted: pay codes that expired unused, activation papers that expired unused, sessions ended
long ago, rate-limit counters whose window closed, and spreadsheets kept for a preview that was
never confirmed (``mall.people.uploads``).

Idempotent: a second run finds nothing left to do. Safe twice at once: a run takes a lock
(PostgreSQL's advisory lock, a file lock beside a SQLite database) and a run that finds it taken
says so and does nothing; every step is also safe on its own (each row is claimed by the
statement that changes it; an expiry journal's key is derived from the resident and the cutoff).
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from piccolo.query.methods.delete import Delete

from ledger import Connection
from mall import metrics
from mall import query as q
from mall import tables as t
from mall.counter import housekeeping as counter
from mall.db import Database, sqlite_path
from mall.earning import expiring
from mall.notify import senders
from mall.people import uploads as uploads_kept
from mall.settings import get_settings

#: Sessions (signed-in browsers, API tokens, bound phones) are kept this long after they ended,
#: so that a user's page can still show their recent sign-ins.
KEEP_SESSIONS = timedelta(days=90)
#: Activation papers that were never used are deleted this long after they expired.
KEEP_UNUSED_ACTIVATIONS = timedelta(days=30)
#: PostgreSQL advisory lock key of a housekeeping run ("mall" + "hk" as digits).
LOCK_KEY = 7_365_108_107


@dataclass(frozen=True)
class Done:
    """What one run did; ``ran`` is False when another run held the lock."""

    ran: bool
    lapsed: int = 0
    pay_codes: int = 0
    activations: int = 0
    sessions: int = 0
    counters: int = 0
    expired: int = 0
    """Residents whose expired points went back to the budget (one journal each)."""
    uploads: int = 0
    reminders: int = 0
    """Reminders written to residents' inboxes: reservations about to lapse, points about to
    expire (each once, by its key)."""
    sent: int = 0
    """Messages handed to the configured sender (``MALL_MESSAGE_SENDER``); none by default."""


async def run(db: Database, url: str, at: datetime | None = None) -> Done:
    at = at or datetime.now(UTC)
    async with _exclusive(db, url) as mine:
        if not mine:
            return Done(ran=False)
        metrics.HOUSEKEEPING.inc()
        lapsed = await counter.lapse_reservations(db, at)
        pay_codes = await counter.purge_pay_codes(db, at)
        # after the lapse: points a lapsed reservation gave back are available, not held
        expired = await expiring.expire_points(db, at)
        reminders = await counter.remind_lapsing(db, at)
        reminders += await expiring.remind_expiring(db, at)
        sent = await senders.deliver(db, senders.load(get_settings().message_sender), at)
        async with db.transaction() as conn:
            c, s, th = t.Code, t.Session, t.Throttle
            unused = (c.kind == "activation") & c.used_at.is_null()
            old = at - KEEP_SESSIONS
            ended = (s.expires_at < old) | (s.revoked_at.is_not_null() & (s.revoked_at < old))
            activations = await _deleted(
                conn, c.delete().where(unused & (c.expires_at < at - KEEP_UNUSED_ACTIVATIONS))
            )
            sessions = await _deleted(conn, s.delete().where(ended))
            counters = await _deleted(conn, th.delete().where(th.reset_at < at))
            u = t.Upload
            uploads = await _deleted(conn, u.delete().where(u.created_at < at - uploads_kept.KEEP))
    return Done(
        True,
        lapsed,
        pay_codes,
        activations,
        sessions,
        counters,
        expired,
        uploads,
        reminders,
        sent,
    )


async def _deleted(conn: Connection, deleting: Delete) -> int:
    """How many rows ``deleting`` removed."""
    return len(await q.fetch(conn, deleting.returning(deleting.table.id)))


@contextlib.asynccontextmanager
async def _exclusive(db: Database, url: str) -> AsyncIterator[bool]:
    """Yield whether this run holds the housekeeping lock (without waiting for it)."""
    if db.dialect == "postgres":
        async with db.connection() as conn:
            mine = bool(await conn.fetchval("SELECT pg_try_advisory_lock(?)", LOCK_KEY))
            try:
                yield mine
            finally:
                if mine:
                    await conn.fetchval("SELECT pg_advisory_unlock(?)", LOCK_KEY)
        return
    lock = Path(sqlite_path(url) + ".housekeeping.lock")
    with open(lock, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
