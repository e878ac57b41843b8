"""Reservations (预约): a resident sets goods aside in the app and collects them at the counter.

Reserving puts the points on a ledger hold (wallet → holds) and moves the goods off the shelf
(reason ``reservation``); collecting captures the hold to the outlet and records an order;
cancelling, or lapsing after ``MALL_RESERVATION_DAYS`` days (default 3; the lapse is in
``mall.counter.housekeeping``), releases both. The reservation row's status changes first
(``UPDATE ... WHERE status = 'held'``), so two counters, or a counter and the lapse, never settle
one reservation twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import ledger
from ledger import Connection
from mall import access
from mall.access import STAFF_ROLES, Principal
from mall.counter import basket, orders, payer
from mall.counter.basket import COUNTER_ROLES, ItemLine, now
from mall.counter.values import Receipt, Reservation
from mall.db import Database
from mall.errors import N_, CodeInvalid, Invalid, MallError, NotFound
from mall.org import points
from mall.people import codes, lifecycle
from mall.settings import get_settings


class ReservationClosed(MallError):
    code, status = "validation_error", 409
    message = N_("This reservation is already settled.")


def lapse_days() -> int:
    """Days a reservation waits for pickup (``MALL_RESERVATION_DAYS``, mall/settings.py)."""
    return get_settings().reservation_days


async def lines_of(conn: Connection, reservation_ids: list[int]) -> dict[int, list[ItemLine]]:
    """Each reservation's lines with their items (for the stock and the order lines)."""
    if not reservation_ids:
        return {}
    marks = ", ".join("?" for _ in reservation_ids)
    rows = await conn.fetch(
        "SELECT l.reservation, l.item, i.sku, i.kind, l.name, l.quantity, l.price_points "
        "FROM mall_reservation_line l JOIN catalog_item i ON i.id = l.item "
        f"WHERE l.reservation IN ({marks}) ORDER BY l.id",
        *reservation_ids,
    )
    found: dict[int, list[ItemLine]] = {rid: [] for rid in reservation_ids}
    for r in rows:
        found[int(r["reservation"])].append(
            ItemLine(
                item_id=int(r["item"]),
                sku=r["sku"],
                kind=r["kind"],
                name=r["name"],
                quantity=int(r["quantity"]),
                price_points=int(r["price_points"]),
            )
        )
    return found


def _public(row: ledger.Row, lines: list[ItemLine], *, replayed: bool = False) -> Reservation:
    return Reservation(
        id=int(row["id"]),
        outlet=int(row["outlet"]),
        outlet_name=row["outlet_name"],
        total=int(row["total"]),
        status=row["status"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        order_id=row["order_id"],
        lines=orders.public_lines(lines),
        replayed=replayed,
    )


_SELECT = (
    "SELECT r.id, r.community, r.outlet, r.resident, r.total, r.status, r.hold_id, "
    "r.created_at, r.expires_at, r.order_id, o.name AS outlet_name, c.book "
    "FROM mall_reservation r JOIN catalog_outlet o ON o.id = r.outlet "
    "JOIN mall_community c ON c.id = r.community"
)


async def held_at(conn: Connection, outlet_id: int, resident_id: int) -> list[Reservation]:
    """The resident's reservations awaiting pickup at the outlet, oldest first."""
    rows = await conn.fetch(
        f"{_SELECT} WHERE r.outlet = ? AND r.resident = ? AND r.status = 'held' ORDER BY r.id",
        outlet_id,
        resident_id,
    )
    lines = await lines_of(conn, [int(r["id"]) for r in rows])
    return [_public(r, lines[int(r["id"])]) for r in rows]


async def my_reservations(db: Database, p: Principal, *, limit: int = 50) -> list[Reservation]:
    p = access.resident_self(p)
    async with db.connection() as conn:
        rows = await conn.fetch(
            f"{_SELECT} WHERE r.resident = ? ORDER BY r.id DESC LIMIT ?",
            p.resident_id,
            max(1, min(limit, 200)),
        )
        lines = await lines_of(conn, [int(r["id"]) for r in rows])
    return [_public(r, lines[int(r["id"])]) for r in rows]


async def reserve(
    db: Database,
    p: Principal,
    outlet_id: int,
    lines: Iterable[tuple[str, int]],
    *,
    idempotency_key: str,
    req_hash: str,
) -> Reservation:
    """Set goods aside for the signed-in resident at one of their community's outlets."""
    p = access.resident_self(p)
    wanted = basket.clean_lines(lines)
    at = now()
    async with db.transaction() as conn:
        outlet = await basket.outlet_row(conn, outlet_id)
        if outlet["community_id"] != p.community_id:
            raise NotFound()
        await lifecycle.check_open(conn, [p.resident_id], lock="NO KEY UPDATE")
        first = await conn.fetchrow(
            "SELECT id, request_hash FROM mall_reservation WHERE resident = ? "
            "AND idempotency_key = ?",
            p.resident_id,
            idempotency_key,
        )
        if first is not None:
            if first["request_hash"] != req_hash:
                raise ledger.IdempotencyKeyReused(idempotency_key)
            return await _one(conn, int(first["id"]), replayed=True)
        order_lines = await basket.priced_lines(conn, outlet["community_id"], wanted)
        if any(line.kind != "goods" for line in order_lines):
            raise Invalid(N_("Only goods can be reserved; services are booked at the counter."))
        total = sum(line.price_points * line.quantity for line in order_lines)
        await basket.check_limits(conn, p.resident_id, order_lines, at)
        await basket.check_stock(conn, outlet_id, order_lines)
        available = await basket.wallet_balance(conn, outlet["book"], p.resident_id)
        if total > available:
            raise basket.not_enough(total, available)
        expires = at + timedelta(days=lapse_days())
        try:
            hold = await ledger.place_hold(
                conn,
                outlet["book"],
                points.wallet(p.resident_id),
                total,
                expires_at=expires,
                idempotency_key=basket.scoped_key(f"reserve:r{p.resident_id}", idempotency_key),
                memo="预约：" + basket.memo_of(order_lines),
            )
        except ledger.InsufficientFunds as exc:
            raise basket.not_enough(total, exc.balance) from exc
        reservation_id = int(
            await conn.fetchval(
                "INSERT INTO mall_reservation (community, outlet, resident, total, status, "
                "hold_id, idempotency_key, request_hash, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, 'held', ?, ?, ?, ?, ?) RETURNING id",
                outlet["community_id"],
                outlet_id,
                p.resident_id,
                total,
                hold.id,
                idempotency_key,
                req_hash,
                at,
                expires,
            )
        )
        await basket.move_lines(
            conn, outlet_id, order_lines, -1, "reservation", f"reservation:{reservation_id}", None
        )
        await conn.executemany(
            "INSERT INTO mall_reservation_line (reservation, item, name, quantity, price_points) "
            "VALUES (?, ?, ?, ?, ?)",
            [
                (reservation_id, li.item_id, li.name, li.quantity, li.price_points)
                for li in order_lines
            ],
        )
        return await _one(conn, reservation_id)


async def _one(conn: Connection, reservation_id: int, *, replayed: bool = False) -> Reservation:
    row = await conn.fetchrow(f"{_SELECT} WHERE r.id = ?", reservation_id)
    assert row is not None
    lines = (await lines_of(conn, [reservation_id]))[reservation_id]
    return _public(row, lines, replayed=replayed)


async def _row(
    conn: Connection, p: Principal, reservation_id: int, roles: tuple[str, ...]
) -> ledger.Row:
    """The reservation, if ``p`` may act on it: its resident, or staff and volunteers of its
    community; anyone else gets ``NotFound``."""
    access.require(p, roles)
    if not 0 < reservation_id <= access.MAX_ID:
        raise NotFound()
    row = await conn.fetchrow(f"{_SELECT} WHERE r.id = ?", reservation_id)
    if row is None:
        raise NotFound()
    if p.role == "resident":
        if row["resident"] != p.resident_id:
            raise NotFound()
    elif not p.is_admin and row["community"] != p.community_id:
        raise NotFound()
    return row


async def cancel(db: Database, p: Principal, reservation_id: int) -> Reservation:
    """Give the points and goods back; cancelling a cancelled reservation changes nothing."""
    async with db.transaction() as conn:
        row = await _row(conn, p, reservation_id, ("resident",) + STAFF_ROLES)
        if row["status"] == "cancelled":
            return await _one(conn, reservation_id)
        await _cancel(conn, p, row)
        return await _one(conn, reservation_id)


async def _cancel(conn: Connection, p: Principal, row: ledger.Row) -> None:
    """Cancel a reservation waiting for pickup: the hold released, the goods back on the shelf."""
    reservation_id = int(row["id"])
    closed = await conn.fetchval(
        "UPDATE mall_reservation SET status = 'cancelled', closed_at = ? "
        "WHERE id = ? AND status = 'held' RETURNING id",
        now(),
        reservation_id,
    )
    if closed is None:
        raise ReservationClosed()
    await ledger.release_hold(
        conn,
        row["hold_id"],
        idempotency_key=f"reservation:{reservation_id}:cancel",
        memo="取消预约，积分退回",
    )
    lines = (await lines_of(conn, [reservation_id]))[reservation_id]
    await basket.move_lines(
        conn,
        row["outlet"],
        lines,
        1,
        "release",
        f"reservation:{reservation_id}",
        access.acting_user_id(p),
    )


async def cancel_waiting(conn: Connection, p: Principal, resident_id: int) -> int:
    """Cancel every reservation of the resident still waiting for pickup, in the caller's
    transaction: for closing their record (``mall.people.lifecycle`` takes this as its
    ``release``, since it may not import this package). The caller has checked the scope.
    Returns how many were cancelled."""
    rows = await conn.fetch(
        f"{_SELECT} WHERE r.resident = ? AND r.status = 'held' ORDER BY r.id", resident_id
    )
    for row in rows:
        await _cancel(conn, p, row)
    return len(rows)


async def collect(
    db: Database,
    p: Principal,
    reservation_id: int,
    *,
    code: str,
    pin: str | None = None,
    ip: str = "",
) -> Receipt:
    """Hand a reservation over at the counter, in one tap: the resident's pay code (not used
    up, so they can still buy more) or card and PIN proves they are there. Records an order
    with ``reservation_id``; collecting it again returns that order."""
    p = access.user(p, COUNTER_ROLES)
    parsed = codes.parse(get_settings().secret_key, code)
    async with db.connection() as conn:
        row = await _row(conn, p, reservation_id, COUNTER_ROLES)
    basket.check_serves_at(p, int(row["outlet"]))
    if parsed.kind == codes.CARD:
        holder = await payer.card_resident(db, p, row["community"], code, pin, ip)
    elif parsed.kind != codes.PAY:
        raise CodeInvalid()
    at = now()
    async with db.transaction() as conn:
        row = await _row(conn, p, reservation_id, COUNTER_ROLES)
        if row["status"] == "collected" and row["order_id"] is not None:
            done = await orders.get_order(db, p, int(row["order_id"]))
            return Receipt(
                id=done.id, total=done.total, balance_after=done.balance_after, replayed=True
            )
        if parsed.kind == codes.PAY:
            holder = int((await payer.pay_code_row(conn, parsed.ident, at))["resident"])
        if holder != row["resident"]:
            raise CodeInvalid()
        if row["status"] == "held" and row["expires_at"] <= at:
            raise ReservationClosed(
                N_("This reservation was not collected in time and has lapsed.")
            )
        closed = await conn.fetchval(
            "UPDATE mall_reservation SET status = 'collected', closed_at = ? "
            "WHERE id = ? AND status = 'held' RETURNING id",
            at,
            reservation_id,
        )
        if closed is None:
            raise ReservationClosed()
        journal = await ledger.capture_hold(
            conn,
            row["hold_id"],
            points.redeemed(row["outlet"], row["resident"]),
            idempotency_key=f"reservation:{reservation_id}:collect",
            memo="领取预约：" + str(reservation_id),
        )
        order_id = int(
            await conn.fetchval(
                "INSERT INTO mall_order (community, outlet, resident, user_id, total, status, "
                "journal_id, reservation_id, idempotency_key, request_hash, created_at) "
                "VALUES (?, ?, ?, ?, ?, 'completed', ?, ?, ?, '', ?) RETURNING id",
                row["community"],
                row["outlet"],
                row["resident"],
                p.user_id,
                row["total"],
                journal.id,
                reservation_id,
                f"reservation:{reservation_id}",
                at,
            )
        )
        await conn.execute(
            "UPDATE mall_reservation SET order_id = ? WHERE id = ?", order_id, reservation_id
        )
        lines = (await lines_of(conn, [reservation_id]))[reservation_id]
        await basket.insert_order_lines(conn, order_id, lines)
        after = await basket.wallet_balance(conn, row["book"], row["resident"])
    return Receipt(id=order_id, total=int(row["total"]), balance_after=after, replayed=False)
