"""What every order at the counter is made of, and the checks it passes (兑换的商品行): the
outlet and who serves at it, priced lines, monthly limits (限兑), stock, the wallet's balance, and
the stock movements and order lines an order writes. Shared by checkout, refunds and reservations.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta, timezone

import msgspec

import catalog
from ledger import Connection, Row
from mall import access
from mall.access import Principal
from mall.counter.values import ItemKind
from mall.errors import (
    N_,
    Forbidden,
    InsufficientPoints,
    Invalid,
    LimitExceeded,
    NotFound,
)
from mall.org import points

#: Who may serve at the counter: volunteers, staff, and street administrators.
COUNTER_ROLES = ("admin", "staff", "volunteer")

#: Monthly limits (限兑) run by the calendar month in China Standard Time.
CHINA = timezone(timedelta(hours=8), "CST")

MAX_QUANTITY = 99

MAX_LINES = 50

#: A pay code scanned at the counter stays good for the checkout this long, however slowly the
#: goods are picked (the phone stops renewing it once it has been scanned).
SCANNED_CODE_TTL = timedelta(minutes=10)


class ItemLine(msgspec.Struct, frozen=True, kw_only=True):
    """A line with its item, as the counter checks it, moves it off the shelf and records it."""

    item_id: int
    sku: str
    name: str
    kind: ItemKind
    price_points: int
    quantity: int
    monthly_limit: int | None = None
    """Set on a line priced for a new order or reservation (``priced_lines``)."""


def now() -> datetime:
    return datetime.now(UTC)


def month_start(at: datetime) -> datetime:
    """The first moment of ``at``'s calendar month in China, in UTC."""
    local = at.astimezone(CHINA)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def clean_lines(lines: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    """``(sku, quantity)`` pairs with the same SKU merged, in first-seen order; refuses empty
    orders, quantities outside 1..99 and more than 50 different items."""
    merged: dict[str, int] = {}
    for sku, quantity in lines:
        sku = (sku or "").strip()
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise Invalid(N_("Quantities are whole numbers from 1 to {n}."), n=MAX_QUANTITY)
        if not sku or len(sku) > 64:
            raise Invalid(N_("There is no item with the code {sku} on sale."), sku=sku[:64])
        merged[sku] = merged.get(sku, 0) + quantity
    if not merged:
        raise Invalid(N_("Please add at least one item."))
    if len(merged) > MAX_LINES or any(q > MAX_QUANTITY for q in merged.values()):
        raise Invalid(N_("Quantities are whole numbers from 1 to {n}."), n=MAX_QUANTITY)
    return list(merged.items())


def scoped_key(scope: str, key: str) -> str:
    """A ledger idempotency key for one kind of operation (``order:o5``, ``refund:12``): a
    client's key for a checkout never collides with the same key used for another operation.
    Kept within the ledger's 200 characters by hashing a long key."""
    scoped = f"{scope}:{key}"
    return scoped if len(scoped) <= 200 else f"{scope}:{hashlib.sha256(key.encode()).hexdigest()}"


def memo_of(lines: Sequence[ItemLine]) -> str:
    """``食用油×1、香皂×2``: what the passbook says was exchanged."""
    return "、".join(f"{line.name}×{line.quantity}" for line in lines)[:200]


async def counter_outlet(conn: Connection, p: Principal, outlet_id: int) -> Row:
    """The outlet, if ``p`` serves at it: staff or volunteers of its community (a volunteer
    given outlets: only those), or the street."""
    access.require(p, COUNTER_ROLES)
    check_serves_at(p, outlet_id)
    row = await outlet_row(conn, outlet_id)
    if not p.is_admin and row["community_id"] != p.community_id:
        raise NotFound()
    return row


def check_serves_at(p: Principal, outlet_id: int) -> None:
    """A volunteer given outlets serves at those only: any other is ``forbidden``, before any
    query (so on both engines alike, whatever the outlet)."""
    if not p.serves_at(outlet_id):
        raise Forbidden(
            N_("This is not one of your outlets. Please ask staff to add it if you serve here.")
        )


def check_outlet_id(outlet_id: int) -> None:
    """An id no outlet can have is ``not_found`` before any query."""
    if not 0 < outlet_id <= access.MAX_ID:
        raise NotFound()


async def outlet_row(conn: Connection, outlet_id: int) -> Row:
    check_outlet_id(outlet_id)
    row = await conn.fetchrow(
        "SELECT o.id, o.community_id, o.name, o.kind, o.active, c.book, c.slug "
        "FROM catalog_outlet o JOIN mall_community c ON c.id = o.community_id WHERE o.id = ?",
        outlet_id,
    )
    if row is None:
        raise NotFound()
    if not row["active"]:
        raise outlet_closed()
    return row


def outlet_closed() -> Invalid:
    return Invalid(N_("This outlet is closed."))


def no_item(sku: str) -> Invalid:
    return Invalid(N_("There is no item with the code {sku} on sale."), sku=sku)


def over_limit(name: str, limit: int, left: int) -> LimitExceeded:
    return LimitExceeded(
        N_("{name}: at most {limit} a month for each resident; {left} left this month."),
        name=name,
        limit=limit,
        left=left,
    )


async def priced_lines(
    conn: Connection, community_id: int, wanted: list[tuple[str, int]]
) -> list[ItemLine]:
    """Each wanted line with its item (one query), sorted by item id (the lock order)."""
    marks = ", ".join("?" for _ in wanted)
    rows = await conn.fetch(
        "SELECT id, sku, name, kind, price_points, monthly_limit, active FROM catalog_item "
        f"WHERE community_id = ? AND sku IN ({marks})",
        community_id,
        *[sku for sku, _ in wanted],
    )
    by_sku = {row["sku"]: row for row in rows}
    lines = []
    for sku, quantity in wanted:
        item = by_sku.get(sku)
        if item is None or not item["active"]:
            raise no_item(sku)
        lines.append(
            ItemLine(
                item_id=int(item["id"]),
                sku=sku,
                name=item["name"],
                kind=item["kind"],
                price_points=int(item["price_points"]),
                quantity=quantity,
                monthly_limit=item["monthly_limit"],
            )
        )
    return sorted(lines, key=lambda line: line.item_id)


async def used_this_month(
    conn: Connection, resident_id: int, item_ids: Sequence[int], at: datetime
) -> dict[int, int]:
    """How many of each item the resident took this month (completed orders, less what a refund
    of chosen lines gave back; a wholly refunded order counts nothing) or holds in a
    reservation awaiting pickup. ``mall_checkout`` counts the same."""
    if not item_ids:
        return {}
    marks = ", ".join("?" for _ in item_ids)
    rows = await conn.fetch(
        "SELECT l.item, l.quantity - COALESCE((SELECT SUM(rl.quantity) FROM mall_refund_line rl "
        "WHERE rl.order_line = l.id), 0) AS quantity "
        'FROM mall_order_line l JOIN mall_order o ON o.id = l."order" '
        f"WHERE o.resident = ? AND o.status = 'completed' AND o.created_at >= ? "
        f"AND l.item IN ({marks}) "
        "UNION ALL SELECT l.item, l.quantity FROM mall_reservation_line l "
        "JOIN mall_reservation r ON r.id = l.reservation "
        f"WHERE r.resident = ? AND r.status = 'held' AND l.item IN ({marks})",
        resident_id,
        month_start(at),
        *item_ids,
        resident_id,
        *item_ids,
    )
    used: dict[int, int] = {}
    for row in rows:
        used[int(row["item"])] = used.get(int(row["item"]), 0) + int(row["quantity"])
    return used


async def check_limits(
    conn: Connection, resident_id: int, lines: list[ItemLine], at: datetime
) -> None:
    """Refuse a line that would take the resident past an item's monthly limit.

    On PostgreSQL the resident's row is locked first (``FOR NO KEY UPDATE``, which foreign-key
    checks do not wait for), so that two orders or reservations of one resident at once count
    each other's lines rather than both counting the month before either; SQLite's IMMEDIATE
    transactions are one at a time already. ``mall_checkout`` does the same."""
    limited = [(line, line.monthly_limit) for line in lines if line.monthly_limit is not None]
    if not limited:
        return
    if conn.dialect == "postgres":
        await conn.fetchval(
            "SELECT id FROM mall_resident WHERE id = ? FOR NO KEY UPDATE", resident_id
        )
    used = await used_this_month(conn, resident_id, [line.item_id for line, _ in limited], at)
    for line, limit in limited:
        left = max(0, limit - used.get(line.item_id, 0))
        if line.quantity > left:
            raise over_limit(line.name, limit, left)


async def check_stock(conn: Connection, outlet_id: int, lines: list[ItemLine]) -> None:
    """Refuse before any write when a goods line asks for more than the shelf holds."""
    goods = [line for line in lines if line.kind == "goods"]
    if not goods:
        return
    marks = ", ".join("?" for _ in goods)
    rows = await conn.fetch(
        f"SELECT item, level FROM catalog_stock_level WHERE outlet = ? AND item IN ({marks})",
        outlet_id,
        *[line.item_id for line in goods],
    )
    levels = {int(r["item"]): int(r["level"]) for r in rows}
    for line in goods:
        level = levels.get(line.item_id, 0)
        if line.quantity > level:
            raise catalog.OutOfStock(line.item_id, line.name, level, line.quantity)


async def wallet_balance(conn: Connection, book: int, resident_id: int) -> int:
    return int(
        await conn.fetchval(
            "SELECT balance FROM ledger_account WHERE book = ? AND code = ?",
            book,
            points.wallet(resident_id),
        )
        or 0
    )


def not_enough(total: int, available: int) -> InsufficientPoints:
    return InsufficientPoints(
        N_("Not enough points: {total} needed, {available} available."),
        total=total,
        available=available,
    )


async def move_lines(
    conn: Connection,
    outlet_id: int,
    lines: Iterable[ItemLine],
    sign: int,
    reason: str,
    reference: str,
    user_id: int | None,
) -> None:
    """A stock movement for each goods line (services are not stocked), in item id order."""
    for line in sorted(lines, key=lambda line: line.item_id):
        if line.kind == "goods":
            await catalog.move_stock(
                conn,
                outlet_id,
                line.item_id,
                sign * line.quantity,
                reason,
                reference=reference,
                user_id=user_id,
            )


async def insert_order_lines(conn: Connection, order_id: int, lines: Iterable[ItemLine]) -> None:
    await conn.executemany(
        'INSERT INTO mall_order_line ("order", item, name, quantity, price_points) '
        "VALUES (?, ?, ?, ?, ?)",
        [(order_id, line.item_id, line.name, line.quantity, line.price_points) for line in lines],
    )
