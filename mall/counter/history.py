"""An outlet's order history (兑换记录) for its volunteers and staff: newest first, a page at a
time, searched by receipt number, the resident's masked name or phone tail, and a day in China.
Only outlets the caller serves at; names are masked and phones never shown.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

import msgspec
from piccolo.query.functions.aggregate import Sum

from mall import days
from mall import query as q
from mall import tables as t
from mall.access import Principal
from mall.counter.basket import counter_outlet
from mall.counter.values import OrderStatus
from mall.db import Database
from mall.people import residents

PER_PAGE = 20
MAX_PAGE = 500
MAX_QUERY = 40
PHONE_TAIL = re.compile(r"\d{4}\Z")


class PastOrder(msgspec.Struct, frozen=True, kw_only=True):
    """One order of the history: the resident's name masked, and what was refunded of it."""

    id: int
    display_name: str
    total: int
    refunded: int
    status: OrderStatus
    created_at: datetime


class History(msgspec.Struct, frozen=True, kw_only=True):
    orders: list[PastOrder]
    page: int
    more: bool
    """True when an older page follows."""


async def refunded_points(conn: Any, order_ids: list[int]) -> dict[int, int]:
    """Order id → points given back by its refunds so far, for the orders that had any (both
    histories: the outlet's here and the resident's in ``my_orders``)."""
    if not order_ids:
        return {}
    r = t.Refund
    rows = await q.fetch(
        conn,
        r.select(r.order, Sum(r.points, alias="points"))
        .where(r.order.is_in(order_ids))
        .group_by(r.order),
    )
    return {int(x["order"]): int(x["points"]) for x in rows}


def _matching(query: str) -> Any:
    """The orders ``query`` names: digits are a receipt number or, four of them, also a phone's
    last four; anything else a name, where ``*`` stands for one hidden character (王*英)."""
    o = t.Order
    if query.isdigit():
        number = o.id == (int(query) if len(query) <= 12 else 0)
        if PHONE_TAIL.match(query):
            return number | o.resident._.phone.like(f"%{query}")
        return number
    pattern = "".join("_" if c == "*" else c for c in query if c not in "%_\\")
    if not pattern.strip("_"):
        return o.id == 0  # nothing but wildcards names nobody
    return o.resident._.name.like(f"%{pattern}%")


async def order_history(
    db: Database,
    p: Principal,
    outlet_id: int,
    *,
    query: str = "",
    day: date | None = None,
    page: int = 1,
) -> History:
    """The outlet's orders, newest first, ``PER_PAGE`` at a time; ``query`` and ``day`` narrow
    them. Staff and volunteers of its community who serve there (``counter_outlet``)."""
    page = max(1, min(page, MAX_PAGE))
    query = "".join(query.split())[:MAX_QUERY]
    o = t.Order
    async with db.connection() as conn:
        await counter_outlet(conn, p, outlet_id)
        where: Any = o.outlet == outlet_id
        if query:
            where = where & _matching(query)
        if day is not None:
            start = days.midnight(day)
            where = (
                where
                & (o.created_at >= start)
                & (o.created_at < days.midnight(day + timedelta(days=1)))
            )
        rows = await q.fetch(
            conn,
            o.select(o.id, o.resident._.name.as_alias("name"), o.total, o.status, o.created_at)
            .where(where)
            .order_by(o.id, ascending=False)
            .offset((page - 1) * PER_PAGE)
            .limit(PER_PAGE + 1),
        )
        refunded = await refunded_points(conn, [int(r["id"]) for r in rows[:PER_PAGE]])
    return History(
        orders=[
            PastOrder(
                id=int(r["id"]),
                display_name=residents.mask_name(r["name"]),
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
