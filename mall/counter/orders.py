"""Orders after the checkout: reading one, refunds (by reversal, at most once), the outlet's recent
orders, the volunteer's shift summary, and what the counter offers (its outlets and items).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

import msgspec

import ledger
from ledger import Connection, Row
from mall import access
from mall.access import STAFF_ROLES, Principal, audit
from mall.counter.basket import (
    COUNTER_ROLES,
    ItemLine,
    counter_outlet,
    move_lines,
    now,
    outlet_row,
    scoped_key,
    wallet_balance,
)
from mall.counter.values import ItemKind, Line, Order, OrderStatus
from mall.db import Database, must_exist
from mall.errors import (
    AlreadyRefunded,
    NotFound,
)
from mall.org import points
from mall.people import residents


class Refund(msgspec.Struct, frozen=True, kw_only=True):
    """A refunded order; ``replayed`` when a retry with the same key was answered again."""

    id: int
    status: Literal["refunded"]
    replayed: bool


class RecentOrder(msgspec.Struct, frozen=True, kw_only=True):
    """One of an outlet's latest orders, the resident's name masked."""

    id: int
    resident_id: int
    display_name: str
    total: int
    status: OrderStatus
    created_at: datetime


class HandedOut(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    quantity: int


class Shift(msgspec.Struct, frozen=True, kw_only=True):
    """What a volunteer handed out since signing in: orders, points, and items (most first)."""

    since: datetime
    orders: int
    points: int
    items: list[HandedOut]


class Item(msgspec.Struct, frozen=True, kw_only=True):
    """An item as the counter offers it, with its level at this outlet (None for a service)."""

    id: int
    sku: str
    name: str
    kind: ItemKind
    price_points: int
    unit: str
    category: str
    monthly_limit: int | None
    level: int | None


class Outlet(msgspec.Struct, frozen=True, kw_only=True):
    """An outlet one may serve at (or, for a resident, reserve at)."""

    id: int
    name: str
    kind: Literal["supermarket", "partner"]


async def _order_row(conn: Connection, p: Principal, order_id: int, roles: Sequence[str]) -> Row:
    """The order, if ``p`` may see it: its community's staff and volunteers, the street, or the
    resident it belongs to; anyone else gets ``NotFound``."""
    access.require(p, roles)
    if not 0 < order_id <= access.MAX_ID:
        raise NotFound()
    row = await conn.fetchrow(
        "SELECT o.id, o.community, o.outlet, o.resident, o.user_id, o.total, o.status, "
        "o.journal_id, o.code_ident, o.reservation_id, o.created_at, o.refund_journal_id, "
        "o.refunded_at, c.book, t.name AS outlet_name "
        "FROM mall_order o JOIN mall_community c ON c.id = o.community "
        "JOIN catalog_outlet t ON t.id = o.outlet WHERE o.id = ?",
        order_id,
    )
    if row is None:
        raise NotFound()
    if p.role == "resident":
        if row["resident"] != p.resident_id:
            raise NotFound()
    elif not p.is_admin and row["community"] != p.community_id:
        raise NotFound()
    return row


async def _order_lines(conn: Connection, order_id: int) -> list[ItemLine]:
    rows = await conn.fetch(
        "SELECT l.item, i.sku, i.kind, l.name, l.quantity, l.price_points FROM mall_order_line l "
        'JOIN catalog_item i ON i.id = l.item WHERE l."order" = ? ORDER BY l.id',
        order_id,
    )
    return [
        ItemLine(
            item_id=int(r["item"]),
            sku=r["sku"],
            kind=r["kind"],
            name=r["name"],
            quantity=int(r["quantity"]),
            price_points=int(r["price_points"]),
        )
        for r in rows
    ]


def public_lines(lines: list[ItemLine]) -> list[Line]:
    """The lines as the resident and the counter see them."""
    return [
        Line(
            sku=line.sku,
            name=line.name,
            quantity=line.quantity,
            price_points=line.price_points,
        )
        for line in lines
    ]


def _order(row: Row, lines: list[ItemLine], balance_after: int) -> Order:
    return Order(
        id=int(row["id"]),
        outlet=int(row["outlet"]),
        outlet_name=row["outlet_name"],
        resident_id=int(row["resident"]),
        lines=public_lines(lines),
        total=int(row["total"]),
        status=row["status"],
        created_at=row["created_at"],
        balance_after=balance_after,
        reservation_id=row["reservation_id"],
    )


async def get_order(db: Database, p: Principal, order_id: int) -> Order:
    """An order with its lines, and the wallet's balance right after it was paid."""
    async with db.connection() as conn:
        row = await _order_row(conn, p, order_id, COUNTER_ROLES + ("resident",))
        lines = await _order_lines(conn, order_id)
        after = await conn.fetchval(
            "SELECT p.balance_after FROM ledger_posting p JOIN ledger_account a "
            "ON a.id = p.account WHERE p.journal = ? AND a.code = ?",
            row["journal_id"],
            points.wallet(row["resident"]),
        )
        if after is None:  # a collected reservation: its points left the wallet at reservation
            after = await wallet_balance(conn, row["book"], row["resident"])
    return _order(row, lines, int(after))


async def refund(
    db: Database, p: Principal, order_id: int, *, idempotency_key: str, ip: str = ""
) -> Refund:
    """Undo a whole order, once: the points go back by a reversing journal, the goods back on
    the shelf. Staff only, never for their own resident record (``self_dealing``). A retry with
    the same key answers as the first time did."""
    ledger_key = scoped_key(f"refund:{order_id}", idempotency_key)
    async with db.transaction() as conn:
        p = access.staff(p)
        row = await _order_row(conn, p, order_id, STAFF_ROLES)
        await access.not_self_dealing(conn, p, [row["resident"]])
        refunded = await conn.fetchval(
            "UPDATE mall_order SET status = 'refunded', refunded_by = ?, refunded_at = ? "
            "WHERE id = ? AND status = 'completed' RETURNING id",
            p.user_id,
            now(),
            order_id,
        )
        if refunded is None:
            first = await conn.fetchval(
                "SELECT id FROM ledger_journal WHERE book = ? AND idempotency_key = ?",
                row["book"],
                ledger_key,
            )
            if first is not None and first == row["refund_journal_id"]:
                return Refund(id=order_id, status="refunded", replayed=True)
            raise AlreadyRefunded()
        memo = f"退还订单 {order_id}"
        if row["reservation_id"] is None:
            journal = await ledger.reverse_journal(
                conn, row["journal_id"], idempotency_key=ledger_key, memo=memo
            )
        else:  # a collected reservation was paid by capturing a hold, which is not reversible
            journal = await ledger.post_journal(
                conn,
                row["book"],
                "reversal",
                [
                    (points.redeemed(row["outlet"], row["resident"]), -row["total"]),
                    (points.wallet(row["resident"]), row["total"]),
                ],
                idempotency_key=ledger_key,
                memo=memo,
            )
        await conn.execute(
            "UPDATE mall_order SET refund_journal_id = ? WHERE id = ?", journal.id, order_id
        )
        lines = await _order_lines(conn, order_id)
        await move_lines(conn, row["outlet"], lines, 1, "refund", f"order:{order_id}", p.user_id)
        await audit.record(
            conn,
            p,
            "order.refund",
            community_id=row["community"],
            target=f"order:{order_id}",
            ip=ip,
            total=row["total"],
        )
    return Refund(id=order_id, status="refunded", replayed=False)


async def recent_orders(
    db: Database, p: Principal, outlet_id: int, *, limit: int = 20
) -> list[RecentOrder]:
    """The outlet's latest orders, for staff (refunds) and the counter."""
    async with db.connection() as conn:
        await counter_outlet(conn, p, outlet_id)
        rows = await conn.fetch(
            "SELECT o.id, o.resident, r.name, o.total, o.status, o.created_at FROM mall_order o "
            "JOIN mall_resident r ON r.id = o.resident WHERE o.outlet = ? "
            "ORDER BY o.id DESC LIMIT ?",
            outlet_id,
            max(1, min(limit, 100)),
        )
    return [
        RecentOrder(
            id=int(r["id"]),
            resident_id=int(r["resident"]),
            display_name=residents.mask_name(r["name"]),
            total=int(r["total"]),
            status=r["status"],
            created_at=r["created_at"],
        )
        for r in rows
    ]


async def shift_summary(db: Database, p: Principal) -> Shift:
    """What ``p`` handed out since signing in (this session): orders, points, and items."""
    p = access.user(p, COUNTER_ROLES)
    async with db.connection() as conn:
        since = await conn.fetchval(
            "SELECT created_at FROM mall_session WHERE id = ?", p.session_id
        )
        since = since or now()
        totals = must_exist(
            await conn.fetchrow(
                "SELECT COUNT(*) AS orders, COALESCE(SUM(total), 0) AS points FROM mall_order "
                "WHERE user_id = ? AND created_at >= ? AND status = 'completed'",
                p.user_id,
                since,
            )
        )
        items = await conn.fetch(
            "SELECT l.name, SUM(l.quantity) AS quantity FROM mall_order_line l JOIN mall_order o "
            'ON o.id = l."order" WHERE o.user_id = ? AND o.created_at >= ? '
            "AND o.status = 'completed' GROUP BY l.name ORDER BY SUM(l.quantity) DESC, l.name",
            p.user_id,
            since,
        )
    return Shift(
        since=since,
        orders=int(totals["orders"]),
        points=int(totals["points"]),
        items=[HandedOut(name=r["name"], quantity=int(r["quantity"])) for r in items],
    )


async def counter_items(db: Database, p: Principal, outlet_id: int) -> list[Item]:
    """What the outlet can hand out, by category then name: goods with their level here, and
    services (never stocked, ``level`` None). For the counter's grid and for residents."""
    async with db.connection() as conn:
        if p.role == "resident":
            outlet = await outlet_row(conn, outlet_id)
            if outlet["community_id"] != p.community_id:
                raise NotFound()
        else:
            outlet = await counter_outlet(conn, p, outlet_id)
        rows = await conn.fetch(
            "SELECT i.id, i.sku, i.name, i.kind, i.price_points, i.unit, i.category, "
            "i.monthly_limit, COALESCE(l.level, 0) AS level FROM catalog_item i "
            "LEFT JOIN catalog_stock_level l ON l.outlet = ? AND l.item = i.id "
            "WHERE i.community_id = ? AND i.active = ? ORDER BY i.category, i.name, i.id",
            outlet_id,
            outlet["community_id"],
            True,
        )
    return [
        Item(
            id=int(r["id"]),
            sku=r["sku"],
            name=r["name"],
            kind=r["kind"],
            price_points=int(r["price_points"]),
            unit=r["unit"],
            category=r["category"],
            monthly_limit=r["monthly_limit"],
            level=None if r["kind"] == "service" else int(r["level"]),
        )
        for r in rows
    ]


async def counter_outlets(db: Database, p: Principal) -> list[Outlet]:
    """The active outlets ``p`` may serve at (or, for a resident, reserve at)."""
    if p.role != "resident":
        access.require(p, COUNTER_ROLES)
    async with db.connection() as conn:
        if p.is_admin:
            rows = await conn.fetch(
                "SELECT id, name, kind FROM catalog_outlet WHERE active = ? ORDER BY id", True
            )
        else:
            rows = await conn.fetch(
                "SELECT id, name, kind FROM catalog_outlet WHERE community_id = ? AND active = ? "
                "ORDER BY id",
                p.community_id,
                True,
            )
    return [
        Outlet(id=int(r["id"]), name=r["name"], kind=r["kind"])
        for r in rows
        if p.serves_at(int(r["id"]))
    ]
