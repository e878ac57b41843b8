"""Stock (库存): receipts, donations and adjustments as movements in the ``catalog`` core, stocktakes
with their corrections, low-stock warnings and an item's history at an outlet.
"""

from __future__ import annotations

import re
from datetime import datetime

import msgspec

import catalog
import ledger
from catalog.tables import StockLevel, StockMovement
from mall import access, text
from mall import query as q
from mall.access import STAFF_ROLES, Principal, audit
from mall.db import Database
from mall.errors import N_, Invalid, OutOfStock
from mall.shop.outlets import VIEWERS, _donor, _outlet, whole_number
from mall.shop.values import Item, Outlet, from_row

STOCK_REASONS = ("receipt", "donation", "stocktake", "adjustment")

MAX_QUANTITY = 100_000


class Change(msgspec.Struct, frozen=True, kw_only=True):
    """One line of a stocktake: what the shelf held, what was counted, the correction posted."""

    sku: str
    name: str
    unit: str
    before: int
    counted: int

    @property
    def difference(self) -> int:
        return self.counted - self.before


class Stocked(Item, frozen=True, kw_only=True):
    """Goods with their level at one outlet; ``low`` at or below the item's low-stock level."""

    level: int
    low: bool


class OutletStock(msgspec.Struct, frozen=True, kw_only=True):
    """An outlet and the community's active goods with their levels there."""

    outlet: Outlet
    goods: list[Stocked]


class LowStock(Item, frozen=True, kw_only=True):
    """Goods running low (or out) at one outlet."""

    outlet_id: int
    outlet: str
    level: int


class Level(msgspec.Struct, frozen=True, kw_only=True):
    """The level of goods after a receipt, donation, count or adjustment, and what it moved
    (``replayed``: the answer to the same request made before)."""

    sku: str
    name: str
    unit: str
    level: int
    moved: int
    replayed: bool


class Movement(msgspec.Struct, frozen=True, kw_only=True):
    """One line of an outlet's stock history, with the item's and donor's names."""

    id: int
    at: datetime
    quantity: int
    reason: str
    level_after: int
    memo: str
    reference: str
    sku: str
    name: str
    unit: str
    donor: str | None


def _memo(value: str | None) -> str:
    return text.plain(
        value,
        max_length=200,
        required=False,
        empty=N_("Please keep the note to at most {n} characters."),
    )


async def outlet_stock(db: Database, p: Principal, outlet_id: int) -> OutletStock:
    """The outlet and its goods with their levels (``low`` marks those at or below threshold)."""
    async with db.connection() as conn:
        outlet = await _outlet(conn, p, outlet_id, VIEWERS)
        found = await catalog.stock_list(conn, outlet_id)
    return OutletStock(outlet=outlet, goods=[from_row(r, Stocked) for r in found])


async def _goods(conn: ledger.Connection, community_id: int, sku: str) -> Item:
    found = await catalog.get_item_by_sku(conn, community_id, (sku or "").strip())
    if found is None:
        raise Invalid(N_("No item with this number in the catalog."))
    if found["kind"] != "goods":
        raise Invalid(N_("{name} is a service: services have no stock."), name=found["name"])
    return from_row(found, Item)


async def change_stock(
    db: Database,
    p: Principal,
    outlet_id: int,
    *,
    sku: str,
    quantity: int,
    reason: str,
    donor: str | int | None = None,
    memo: str | None = "",
    idempotency_key: str,
    req_hash: str | None = None,
    ip: str = "",
) -> Level:
    """Receive goods (进货), record a donation (捐赠) with its donor, count a shelf (盘点: the
    counted level; the difference is posted) or adjust (signed, with a note saying why).

    The same key and request return the first answer.
    """
    if reason not in STOCK_REASONS:
        raise Invalid(N_("Choose receipt, donation, stocktake or adjustment."))
    memo = _memo(memo)
    if reason == "stocktake":
        whole_number(
            quantity, 0, MAX_QUANTITY, N_("The counted quantity is a whole number, 0 or more.")
        )
    elif reason == "adjustment":
        whole_number(
            quantity,
            -MAX_QUANTITY,
            MAX_QUANTITY,
            N_("An adjustment is a whole number, not 0 (negative to take away)."),
        )
        if quantity == 0:
            raise Invalid(N_("An adjustment is a whole number, not 0 (negative to take away)."))
        if not memo:
            raise Invalid(N_("Please write why the stock is adjusted."))
    else:
        whole_number(
            quantity, 1, MAX_QUANTITY, N_("The quantity is a whole number from 1 to 100,000.")
        )
    if reason == "donation" and (donor is None or donor == ""):
        raise Invalid(N_("Please name who donated the goods."))
    async with db.transaction() as conn:
        p = access.staff(p)
        outlet = await _outlet(conn, p, outlet_id, STAFF_ROLES)
        item = await _goods(conn, outlet.community_id, sku)
        donor_id = (
            await _donor(conn, p, outlet.community_id, donor, ip) if reason == "donation" else None
        )
        amount = quantity
        if reason == "stocktake":
            amount = quantity - await _level(conn, outlet_id, item.id)
        moved: catalog.Movement | None = None
        if amount:
            try:
                moved = await catalog.move_stock(
                    conn,
                    outlet_id,
                    item.id,
                    amount,
                    reason,
                    donor_id=donor_id,
                    memo=memo,
                    user_id=p.user_id,
                    idempotency_key=idempotency_key,
                    request_hash=req_hash,
                )
            except catalog.OutOfStock as exc:
                raise OutOfStock(
                    N_("{name}: only {level} left."), name=exc.name, level=exc.level
                ) from None
        elif reason == "stocktake":
            m = StockMovement
            first = await q.fetchrow(
                conn,
                m.select(m.id, m.quantity, m.level_after, m.request_hash).where(
                    (m.outlet == outlet_id) & (m.idempotency_key == idempotency_key)
                ),
            )
            if first is not None:
                moved = await catalog.move_stock(
                    conn,
                    outlet_id,
                    item.id,
                    first["quantity"],
                    reason,
                    idempotency_key=idempotency_key,
                    request_hash=req_hash,
                )
        if moved is not None and not moved.replayed:
            await audit.record(
                conn,
                p,
                f"stock.{reason}",
                community_id=outlet.community_id,
                target=f"outlet:{outlet_id}",
                ip=ip,
                sku=item.sku,
                quantity=amount,
                level=moved.level_after,
                donor=donor_id,
                memo=memo,
            )
        level = moved.level_after if moved else await _level(conn, outlet_id, item.id)
    return Level(
        sku=item.sku,
        name=item.name,
        unit=item.unit,
        level=level,
        moved=moved.quantity if moved else 0,
        replayed=bool(moved and moved.replayed),
    )


async def _level(conn: ledger.Connection, outlet_id: int, item_id: int) -> int:
    lv = StockLevel
    query = lv.select(lv.level).where((lv.outlet == outlet_id) & (lv.item == item_id))
    if conn.dialect == "postgres":
        query = query.lock_rows("UPDATE")
    level = await q.fetchval(conn, query)
    return int(level or 0)


async def stocktake(
    db: Database,
    p: Principal,
    outlet_id: int,
    counts: dict[str, int],
    memo: str | None = "",
    *,
    idempotency_key: str,
    req_hash: str | None = None,
    ip: str = "",
) -> list[Change]:
    """Count the shelves (盘点): for each SKU counted, post ``counted - level`` as a correction,
    all in one transaction. Returns the lines that changed (a replay returns the first ones)."""
    memo = _memo(memo)
    for counted in counts.values():
        whole_number(
            counted, 0, MAX_QUANTITY, N_("A counted quantity is a whole number, 0 or more.")
        )
    async with db.transaction() as conn:
        p = access.staff(p)
        outlet = await _outlet(conn, p, outlet_id, STAFF_ROLES)
        by_id: dict[int, Item] = {}
        for sku in counts:
            item = await _goods(conn, outlet.community_id, sku)
            by_id[item.id] = item
        moved = await catalog.stocktake(
            conn,
            outlet_id,
            {item.id: counts[item.sku] for item in by_id.values()},
            p.user_id,
            memo,
            idempotency_key=idempotency_key,
            request_hash=req_hash,
        )
        changes = [
            Change(
                sku=by_id[m.item_id].sku,
                name=by_id[m.item_id].name,
                unit=by_id[m.item_id].unit,
                before=m.level_after - m.quantity,
                counted=m.level_after,
            )
            for m in moved
            if m.item_id in by_id
        ]
        if moved and not moved[0].replayed:
            await audit.record(
                conn,
                p,
                "stock.stocktake",
                community_id=outlet.community_id,
                target=f"outlet:{outlet_id}",
                ip=ip,
                counted=len(counts),
                changed={c.sku: c.difference for c in changes},
                memo=memo,
            )
    return sorted(changes, key=lambda c: c.sku)


async def low_stock(db: Database, p: Principal, slug: str) -> list[LowStock]:
    async with db.connection() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES + ("volunteer",))
        found = await catalog.low_stock(conn, community["id"])
    return [from_row(r, LowStock) for r in found]


async def history(db: Database, p: Principal, outlet_id: int, limit: int = 30) -> list[Movement]:
    """The outlet's latest stock movements, newest first, with the item and donor names."""
    async with db.connection() as conn:
        await _outlet(conn, p, outlet_id, STAFF_ROLES)
        m = StockMovement
        rows = await q.fetch(
            conn,
            m.select(
                m.id,
                m.at,
                m.quantity,
                m.reason,
                m.level_after,
                m.memo,
                m.reference,
                m.item.sku.as_alias("sku"),
                m.item.name.as_alias("name"),
                m.item.unit.as_alias("unit"),
                m.donor.name.as_alias("donor"),
            )
            .where(m.outlet == outlet_id)
            .order_by(m.id, ascending=False)
            .limit(max(1, min(limit, 200))),
        )
    return [from_row(r, Movement) for r in rows]


async def stocktake_result(db: Database, p: Principal, outlet_id: int, key: str) -> list[Change]:
    """The corrections one stocktake (by its idempotency key) posted, for the page after it."""
    async with db.connection() as conn:
        await _outlet(conn, p, outlet_id, STAFF_ROLES)
        # hand-written: Piccolo's like() has no ESCAPE, and the key may hold % or _
        rows = await conn.fetch(
            "SELECT m.quantity, m.level_after, i.sku, i.name, i.unit"
            " FROM catalog_stock_movement m JOIN catalog_item i ON i.id = m.item"
            " WHERE m.outlet = ? AND m.idempotency_key LIKE ? ESCAPE '!' ORDER BY i.sku",
            outlet_id,
            re.sub(r"([!%_])", r"!\1", key) + ":%",
        )
    return [
        Change(
            sku=r["sku"],
            name=r["name"],
            unit=r["unit"],
            before=r["level_after"] - r["quantity"],
            counted=r["level_after"],
        )
        for r in rows
    ]
