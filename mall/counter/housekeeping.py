"""Housekeeping of the counter, run by the app every few minutes: reservations not collected by
their deadline lapse (points and goods go back), and pay codes that expired unused are purged.
Safe to run from several processes at once.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import catalog
import ledger
from ledger import Connection
from mall import metrics
from mall import query as q
from mall import tables as t
from mall.counter.basket import now
from mall.counter.reservations import lines_of
from mall.db import Database
from mall.notify import inbox, kinds

log = logging.getLogger("mall.counter.housekeeping")

#: How often the app lapses overdue reservations and purges old pay codes.
HOUSEKEEPING_EVERY_S = 300
#: Residents are reminded of a reservation this long before it lapses.
REMIND_BEFORE = timedelta(days=1)
#: Unused pay codes are deleted this long after they expired.
PURGE_PAY_CODES_AFTER = timedelta(days=1)


async def lapse_reservations(db: Database, at: datetime | None = None) -> int:
    """Lapse every reservation not collected by its deadline: points and goods go back.
    Safe to run from several processes at once; returns how many lapsed here."""
    at = at or now()
    async with db.transaction() as conn:
        res = t.Reservation
        due = (res.status == "held") & (res.expires_at <= at)
        lapsing = res.update({res.status: "lapsed", res.closed_at: at}).where(due)
        rows = await q.fetch(
            conn,
            lapsing.returning(
                res.id, res.outlet, res.hold_id, res.community, res.resident, res.total
            ),
        )
        if not rows:
            return 0
        for r in rows:
            await inbox.post(
                conn,
                community_id=int(r["community"]),
                resident_id=int(r["resident"]),
                kind=kinds.RESERVATION_LAPSED,
                key=f"reservation:{r['id']}:lapsed",
                at=at,
                points=int(r["total"]),
            )
        await _lock_hold_accounts(conn, at, [int(r["hold_id"]) for r in rows])
        await ledger.lapse_holds(conn, at=at)
        for r in sorted(rows, key=lambda r: int(r["id"])):
            if (await ledger.get_hold(conn, int(r["hold_id"]))).outcome is None:
                # its hold runs longer (the setting was shortened since): give it back now
                await ledger.release_hold(
                    conn,
                    int(r["hold_id"]),
                    idempotency_key=f"reservation:{r['id']}:lapse",
                    memo="预约未领取，积分退回",
                )
        lines = await lines_of(conn, [int(r["id"]) for r in rows])
        moves = sorted(
            (int(r["outlet"]), line.item_id, int(r["id"]), line.quantity)
            for r in rows
            for line in lines[int(r["id"])]
            if line.kind == "goods"
        )
        for outlet_id, item_id, reservation_id, quantity in moves:  # in lock order
            await catalog.move_stock(
                conn,
                outlet_id,
                item_id,
                quantity,
                "release",
                reference=f"reservation:{reservation_id}",
            )
    return len(rows)


async def _lock_hold_accounts(conn: Connection, at: datetime, hold_ids: list[int]) -> None:
    """On PostgreSQL, lock every account the lapse will touch (the wallets and ``holds`` of
    the holds due, and of ``hold_ids``) at once in id order, as every single journal does, so
    that posting several journals in one transaction cannot deadlock with a reservation."""
    if conn.dialect != "postgres":
        return
    marks = ", ".join("?" for _ in hold_ids)
    due = (
        "SELECT h.id FROM ledger_hold h LEFT JOIN ledger_hold_resolution x ON x.hold = h.id "
        f"WHERE x.id IS NULL AND (h.expires_at <= ? OR h.id IN ({marks}))"
    )
    await conn.fetch(
        "SELECT a.id FROM ledger_account a WHERE a.id IN "
        f"(SELECT account FROM ledger_hold WHERE id IN ({due})) "
        f"OR (a.code = ? AND a.book IN (SELECT book FROM ledger_hold WHERE id IN ({due}))) "
        "ORDER BY a.id FOR UPDATE",
        at,
        *hold_ids,
        ledger.HOLDS_ACCOUNT,
        at,
        *hold_ids,
    )


async def remind_lapsing(db: Database, at: datetime | None = None) -> int:
    """Remind each resident whose reservation lapses within ``REMIND_BEFORE``, once per
    reservation (the message's key). Returns how many reminders this run wrote."""
    at = at or now()
    res = t.Reservation
    written = 0
    async with db.transaction() as conn:
        rows = await q.fetch(
            conn,
            res.select(
                res.id,
                res.community,
                res.resident,
                res.expires_at,
                res.outlet.name.as_alias("outlet_name"),
            ).where(
                (res.status == "held")
                & (res.expires_at > at)
                & (res.expires_at <= at + REMIND_BEFORE)
            ),
        )
        for r in rows:
            written += await inbox.post(
                conn,
                community_id=int(r["community"]),
                resident_id=int(r["resident"]),
                kind=kinds.RESERVATION_LAPSING,
                key=f"reservation:{r['id']}:lapsing",
                at=at,
                outlet=r["outlet_name"],
                until=inbox.moment(r["expires_at"]),
            )
    return written


async def purge_pay_codes(db: Database, at: datetime | None = None) -> int:
    """Delete pay codes (the phone's offline ones too) that expired unused more than a day ago;
    returns how many."""
    at = at or now()
    async with db.transaction() as conn:
        c = t.Code
        stale = (
            c.kind.is_in(["pay", "offline"])
            & c.used_at.is_null()
            & (c.expires_at < at - PURGE_PAY_CODES_AFTER)
        )
        rows = await q.fetch(conn, c.delete().where(stale).returning(c.id))
    return len(rows)


async def housekeeping(db: Database, at: datetime | None = None) -> None:
    metrics.HOUSEKEEPING.inc()
    await lapse_reservations(db, at)
    await remind_lapsing(db, at)
    await purge_pay_codes(db, at)


async def housekeeping_loop(db: Database, every: float = HOUSEKEEPING_EVERY_S) -> None:
    """Run ``housekeeping`` now and then every few minutes, until cancelled; errors are logged."""
    while True:
        try:
            await housekeeping(db)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("reservation housekeeping failed")
        await asyncio.sleep(every)
