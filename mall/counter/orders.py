"""Orders after the checkout: reading one, refunds (by reversal, at most once), the outlet's recent
orders, the volunteer's shift summary, and what the counter offers (its outlets and items).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

import msgspec
from piccolo.query.functions.aggregate import Count, Sum

import ledger
from catalog.tables import Item as ItemRow
from catalog.tables import Outlet as OutletRow
from catalog.tables import StockLevel
from ledger import Connection, Row
from mall import access
from mall import query as q
from mall import tables as t
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
    o = t.Order
    row = await q.fetchrow(
        conn,
        o.select(
            o.id,
            o.community,
            o.outlet,
            o.resident,
            o.user_id,
            o.total,
            o.status,
            o.journal_id,
            o.code_ident,
            o.reservation_id,
            o.created_at,
            o.refund_journal_id,
            o.refunded_at,
            o.community.book.as_alias("book"),
            o.outlet.name.as_alias("outlet_name"),
        ).where(o.id == order_id),
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
    line = t.OrderLine
    rows = await q.fetch(
        conn,
        line.select(
            line.item,
            line.item.sku.as_alias("sku"),
            line.item.kind.as_alias("kind"),
            line.name,
            line.quantity,
            line.price_points,
        )
        .where(line.order == order_id)
        .order_by(line.id),
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
        paid = await ledger.get_journal(conn, row["journal_id"])
        wallet = points.wallet(row["resident"])
        after = next((leg.balance_after for leg in paid.postings if leg.account == wallet), None)
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
        o = t.Order
        refunding = o.update(
            {o.status: "refunded", o.refunded_by: p.user_id, o.refunded_at: now()}
        ).where((o.id == order_id) & (o.status == "completed"))
        if await q.fetchval(conn, refunding.returning(o.id)) is None:
            first = await ledger.find_journal(conn, row["book"], ledger_key)
            if first is not None and first.id == row["refund_journal_id"]:
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
        await q.execute(conn, o.update({o.refund_journal_id: journal.id}).where(o.id == order_id))
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
        o = t.Order
        rows = await q.fetch(
            conn,
            o.select(
                o.id, o.resident, o.resident.name.as_alias("name"), o.total, o.status, o.created_at
            )
            .where(o.outlet == outlet_id)
            .order_by(o.id, ascending=False)
            .limit(max(1, min(limit, 100))),
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
        s, o, line = t.Session, t.Order, t.OrderLine
        since = await q.fetchval(conn, s.select(s.created_at).where(s.id == p.session_id))
        since = since or now()
        mine = (o.user_id == p.user_id) & (o.created_at >= since) & (o.status == "completed")
        totals = must_exist(
            await q.fetchrow(
                conn,
                o.select(Count(o.id, alias="orders"), Sum(o.total, alias="points")).where(mine),
            )
        )
        theirs = (
            (line.order.user_id == p.user_id)
            & (line.order.created_at >= since)
            & (line.order.status == "completed")
        )
        items = await q.fetch(
            conn,
            line.select(line.name, Sum(line.quantity, alias="quantity"))
            .where(theirs)
            .group_by(line.name),
        )
    handed_out = [HandedOut(name=r["name"], quantity=int(r["quantity"])) for r in items]
    return Shift(
        since=since,
        orders=int(totals["orders"]),
        points=int(totals["points"] or 0),
        items=sorted(handed_out, key=lambda h: (-h.quantity, h.name)),
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
        i, lv = ItemRow, StockLevel
        rows = await q.fetch(
            conn,
            i.select(
                i.id, i.sku, i.name, i.kind, i.price_points, i.unit, i.category, i.monthly_limit
            )
            .where((i.community_id == outlet["community_id"]) & (i.active == True))  # noqa: E712
            .order_by(i.category, i.name, i.id),
        )
        levels = await q.fetch(conn, lv.select(lv.item, lv.level).where(lv.outlet == outlet_id))
    level_of = {int(r["item"]): int(r["level"]) for r in levels}
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
            level=None if r["kind"] == "service" else level_of.get(int(r["id"]), 0),
        )
        for r in rows
    ]


async def counter_outlets(db: Database, p: Principal) -> list[Outlet]:
    """The active outlets ``p`` may serve at (or, for a resident, reserve at)."""
    if p.role != "resident":
        access.require(p, COUNTER_ROLES)
    async with db.connection() as conn:
        o = OutletRow
        active = o.select(o.id, o.name, o.kind).where(o.active == True).order_by(o.id)  # noqa: E712
        if not p.is_admin:
            active = active.where(o.community_id == p.community_id)
        rows = await q.fetch(conn, active)
    return [
        Outlet(id=int(r["id"]), name=r["name"], kind=r["kind"])
        for r in rows
        if p.serves_at(int(r["id"]))
    ]
