"""The resident's own order history on the phone (我的兑换记录): newest first, a page at a time,
each with its outlet, points and what was refunded of it. Only the signed-in resident's orders;
each opens its receipt through ``orders.get_order``, which answers ``NotFound`` for anyone else's.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from mall import access
from mall import query as q
from mall import tables as t
from mall.access import Principal
from mall.counter.history import MAX_PAGE, PER_PAGE, refunded_points
from mall.counter.values import OrderStatus
from mall.db import Database


class MyOrder(msgspec.Struct, frozen=True, kw_only=True):
    """One of the resident's orders: where, when, how many points, and how many came back."""

    id: int
    outlet: int
    outlet_name: str
    total: int
    refunded: int
    """Points given back by refunds (退款) of this order so far; 0 when none."""
    status: OrderStatus
    created_at: datetime


class MyOrders(msgspec.Struct, frozen=True, kw_only=True):
    orders: list[MyOrder]
    page: int
    more: bool
    """True when an older page follows."""


async def my_orders(db: Database, p: Principal, *, page: int = 1) -> MyOrders:
    """The signed-in resident's orders, newest first, ``PER_PAGE`` at a time."""
    me = access.resident_self(p)
    page = max(1, min(page, MAX_PAGE))
    o = t.Order
    async with db.connection() as conn:
        rows = await q.fetch(
            conn,
            o.select(
                o.id,
                o.outlet,
                o.outlet.name.as_alias("outlet_name"),
                o.total,
                o.status,
                o.created_at,
            )
            .where((o.resident == me.resident_id) & (o.community == me.community_id))
            .order_by(o.created_at, ascending=False)
            .order_by(o.id, ascending=False)
            .offset((page - 1) * PER_PAGE)
            .limit(PER_PAGE + 1),
        )
        refunded = await refunded_points(conn, [int(r["id"]) for r in rows[:PER_PAGE]])
    return MyOrders(
        orders=[
            MyOrder(
                id=int(r["id"]),
                outlet=int(r["outlet"]),
                outlet_name=r["outlet_name"],
                total=int(r["total"]),
                refunded=refunded.get(int(r["id"]), 0),
                status=r["status"],
                created_at=r["created_at"],
            )
            for r in rows[:PER_PAGE]
        ],
        page=page,
        more=len(rows) > PER_PAGE,
    )
