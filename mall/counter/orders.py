"""Orders after the checkout: reading one with its refunds, the outlet's recent
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
from mall.access import Principal
from mall.counter.basket import (
    COUNTER_ROLES,
    ItemLine,
    counter_outlet,
    now,
    outlet_row,
)
from mall.counter.values import ItemKind, Line, Order, OrderStatus, Proxy, Refunded
from mall.db import Database, must_exist
from mall.errors import (
    NotFound,
)
from mall.org import points
from mall.people import residents


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
    """What a volunteer handed out since signing in: orders (not wholly refunded), their points
    net of refunds, items (most first, less what came back), and the refunds of those orders
    (``refunds``, ``refunded_points``): the net and the refunds add up to what was handed out."""

    since: datetime
    orders: int
    points: int
    items: list[HandedOut]
    refunds: int = 0
    refunded_points: int = 0


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


async def order_row(conn: Connection, p: Principal, order_id: int, roles: Sequence[str]) -> Row:
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
            o.resident.name.as_alias("resident_name"),
            o.proxy,
            o.proxy.name.as_alias("proxy_name"),
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


async def order_lines(conn: Connection, order_id: int) -> list[tuple[int, ItemLine]]:
    """The order's lines, each with its id, in the order they were written."""
    line = t.OrderLine
    rows = await q.fetch(
        conn,
        line.select(
            line.id,
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
        (
            int(r["id"]),
            ItemLine(
                item_id=int(r["item"]),
                sku=r["sku"],
                kind=r["kind"],
                name=r["name"],
                quantity=int(r["quantity"]),
                price_points=int(r["price_points"]),
            ),
        )
        for r in rows
    ]


async def _refunds(conn: Connection, row: Row, lines: list[tuple[int, ItemLine]]) -> list[Refunded]:
    """The order's refunds, oldest first, each with its lines and the wallet's balance after it."""
    r, rl = t.Refund, t.RefundLine
    given = await q.fetch(
        conn,
        r.select(r.id, r.points, r.reason, r.journal_id, r.created_at)
        .where(r.order == row["id"])
        .order_by(r.id),
    )
    if not given:
        return []
    back = await q.fetch(
        conn,
        rl.select(rl.refund, rl.order_line, rl.quantity)
        .where(rl.refund.is_in([g["id"] for g in given]))
        .order_by(rl.id),
    )
    by_id = dict(lines)
    wallet = points.wallet(row["resident"])
    made = []
    for g in given:
        journal = await ledger.get_journal(conn, int(g["journal_id"]))
        after = next((leg.balance_after for leg in journal.postings if leg.account == wallet), 0)
        made.append(
            Refunded(
                id=int(g["id"]),
                points=int(g["points"]),
                reason=g["reason"],
                created_at=g["created_at"],
                balance_after=int(after),
                lines=public_lines(
                    [
                        msgspec.structs.replace(by_id[b["order_line"]], quantity=int(b["quantity"]))
                        for b in back
                        if b["refund"] == g["id"]
                    ]
                ),
            )
        )
    return made


async def _wallet_before(conn: Connection, book: int, resident_id: int, journal_id: int) -> int:
    """The wallet's balance just before ``journal_id`` (which did not touch it): what a
    collected reservation's receipt shows as left, the same whenever it is opened again."""
    after = await conn.fetchval(
        "SELECT p.balance_after FROM ledger_posting p JOIN ledger_account a ON a.id = p.account "
        "WHERE a.book = ? AND a.code = ? AND p.journal < ? ORDER BY p.version DESC LIMIT 1",
        book,
        points.wallet(resident_id),
        journal_id,
    )
    return int(after or 0)


def public_lines(lines: list[ItemLine], refunded: dict[str, int] | None = None) -> list[Line]:
    """The lines as the resident and the counter see them, with how many were refunded."""
    refunded = refunded or {}
    return [
        Line(
            sku=line.sku,
            name=line.name,
            quantity=line.quantity,
            price_points=line.price_points,
            refunded=refunded.get(line.sku, 0),
        )
        for line in lines
    ]


def _order(row: Row, lines: list[ItemLine], balance_after: int, refunds: list[Refunded]) -> Order:
    refunded: dict[str, int] = {}
    for given in refunds:
        for line in given.lines:
            refunded[line.sku] = refunded.get(line.sku, 0) + line.quantity
    return Order(
        id=int(row["id"]),
        outlet=int(row["outlet"]),
        outlet_name=row["outlet_name"],
        resident_id=int(row["resident"]),
        lines=public_lines(lines, refunded),
        total=int(row["total"]),
        status=row["status"],
        created_at=row["created_at"],
        balance_after=balance_after,
        reservation_id=row["reservation_id"],
        refunds=refunds,
        resident_name=residents.mask_name(row["resident_name"]),
        proxy=None
        if row["proxy"] is None
        else Proxy(id=int(row["proxy"]), display_name=residents.mask_name(row["proxy_name"])),
    )


async def get_order(db: Database, p: Principal, order_id: int) -> Order:
    """An order with its lines, and the wallet's balance right after it was paid."""
    async with db.connection() as conn:
        row = await order_row(conn, p, order_id, COUNTER_ROLES + ("resident",))
        numbered = await order_lines(conn, order_id)
        lines = [line for _, line in numbered]
        refunds = await _refunds(conn, row, numbered)
        paid = await ledger.get_journal(conn, row["journal_id"])
        wallet = points.wallet(row["resident"])
        after = next((leg.balance_after for leg in paid.postings if leg.account == wallet), None)
        if after is None:  # a collected reservation: its points left the wallet at reservation
            after = await _wallet_before(conn, row["book"], row["resident"], paid.id)
    return _order(row, lines, int(after), refunds)


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
    """What ``p`` handed out since signing in (this session): orders, points and items net of
    refunds, and the refunds of those orders, as the ledger has them."""
    p = access.user(p, COUNTER_ROLES)
    async with db.connection() as conn:
        s, o, line, r, rl = t.Session, t.Order, t.OrderLine, t.Refund, t.RefundLine
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
        refunded = await q.fetch(  # the refunds of this shift's orders, by the order's status
            conn,
            r.select(
                r.order.status.as_alias("status"),
                Count(r.id, alias="refunds"),
                Sum(r.points, alias="points"),
            )
            .where((r.order.user_id == p.user_id) & (r.order.created_at >= since))
            .group_by(r.order.status),
        )
        back = await q.fetch(  # what came back of the orders that stand
            conn,
            rl.select(rl.order_line.name.as_alias("name"), Sum(rl.quantity, alias="quantity"))
            .where(
                (rl.refund._.order.user_id == p.user_id)
                & (rl.refund._.order.created_at >= since)
                & (rl.refund._.order.status == "completed")
            )
            .group_by(rl.order_line.name),
        )
    returned = {x["name"]: int(x["quantity"]) for x in back}
    handed_out = [
        HandedOut(name=x["name"], quantity=int(x["quantity"]) - returned.get(x["name"], 0))
        for x in items
    ]
    standing = sum(int(x["points"]) for x in refunded if x["status"] == "completed")
    return Shift(
        since=since,
        orders=int(totals["orders"]),
        points=int(totals["points"] or 0) - standing,
        items=sorted(
            (h for h in handed_out if h.quantity > 0), key=lambda h: (-h.quantity, h.name)
        ),
        refunds=sum(int(x["refunds"]) for x in refunded),
        refunded_points=sum(int(x["points"]) for x in refunded),
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
