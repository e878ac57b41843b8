"""Items (goods and services priced in points), what an outlet holds of them, and low stock.

Services are not stocked: an item of kind ``"service"`` (a haircut, an appliance repair) has no
stock level, is always available at the partner that offers it, and never gets a movement;
``move_stock`` is only for goods. Functions take a connection inside a transaction.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from catalog.connection import Connection, Row
from catalog.errors import InvalidItem, ItemNotFound, SkuTaken

ITEM_KINDS = ("goods", "service")
SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_PRICE = 1_000_000

_COLUMNS = (
    "i.id, i.community_id, i.sku, i.name, i.kind, i.price_points, i.unit, i.category, i.picture,"
    " i.monthly_limit, i.low_stock, i.donor AS donor_id, i.active, i.created_at"
)
_ITEM = f"SELECT {_COLUMNS} FROM catalog_item i"
_UNSET: Any = object()


def _item(row: Row) -> dict[str, Any]:
    item = dict(row)
    item["active"] = bool(item["active"])
    return item


def _text(value: str | None, what: str, longest: int, *, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidItem(f"{what} is required")
    if len(value) > longest:
        raise InvalidItem(f"{what} is longer than {longest} characters")
    return value


def _count(value: Any, what: str, *, least: int, most: int = MAX_PRICE) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not least <= value <= most:
        raise InvalidItem(f"{what} must be a whole number from {least} to {most}")
    return value


def _limit(value: Any) -> int | None:
    return None if value is None else _count(value, "monthly limit", least=1, most=1000)


async def create_item(
    conn: Connection,
    community_id: int,
    *,
    sku: str,
    name: str,
    kind: str,
    price_points: int,
    unit: str = "",
    category: str = "",
    monthly_limit: int | None = None,
    low_stock: int = 0,
    donor_id: int | None = None,
) -> dict[str, Any]:
    """Add an item to the community's catalog; a SKU already used there raises ``SkuTaken``."""
    sku = (sku or "").strip()
    if not SKU.match(sku):
        raise InvalidItem("sku must be 1 to 64 letters, digits, '.', '_' or '-'")
    if kind not in ITEM_KINDS:
        raise InvalidItem(f"kind must be one of {', '.join(ITEM_KINDS)}")
    values = (
        _text(name, "name", 200, required=True),
        _count(price_points, "price_points", least=1),
        _text(unit, "unit", 20),
        _text(category, "category", 40),
        _limit(monthly_limit),
        _count(low_stock, "low_stock", least=0),
    )
    if donor_id is not None:
        await _require_donor(conn, community_id, donor_id)
    if await get_item_by_sku(conn, community_id, sku) is not None:
        raise SkuTaken(sku)
    name, price_points, unit, category, monthly_limit, low_stock = values
    item_id = await conn.fetchval(
        "INSERT INTO catalog_item (community_id, sku, name, kind, price_points, unit, category,"
        " monthly_limit, low_stock, donor, active, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        community_id,
        sku,
        name,
        kind,
        price_points,
        unit,
        category,
        monthly_limit,
        low_stock,
        donor_id,
        True,
        datetime.now(UTC),
    )
    item = await get_item(conn, item_id)
    assert item is not None
    return item


async def _require_donor(conn: Connection, community_id: int, donor_id: int) -> None:
    found = await conn.fetchval(
        "SELECT id FROM catalog_donor WHERE id = ? AND community_id = ?", donor_id, community_id
    )
    if found is None:
        raise InvalidItem(f"no donor {donor_id} in this community")


async def get_item(conn: Connection, item_id: int) -> dict[str, Any] | None:
    row = await conn.fetchrow(f"{_ITEM} WHERE i.id = ?", item_id)
    return _item(row) if row else None


async def get_item_by_sku(conn: Connection, community_id: int, sku: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        f"{_ITEM} WHERE i.community_id = ? AND i.sku = ?", community_id, (sku or "").strip()
    )
    return _item(row) if row else None


async def require_item(conn: Connection, community_id: int, sku: str) -> dict[str, Any]:
    """The community's item with this SKU, or ``ItemNotFound``."""
    item = await get_item_by_sku(conn, community_id, sku)
    if item is None:
        raise ItemNotFound(sku)
    return item


async def list_items(
    conn: Connection, community_id: int, active_only: bool = True
) -> list[dict[str, Any]]:
    """The community's items by category, then name."""
    where = " AND i.active = ?" if active_only else ""
    args: tuple[Any, ...] = (community_id, True) if active_only else (community_id,)
    rows = await conn.fetch(
        f"{_ITEM} WHERE i.community_id = ?{where} ORDER BY i.category, i.name, i.id", *args
    )
    return [_item(r) for r in rows]


async def update_item(
    conn: Connection,
    item_id: int,
    *,
    name: str = _UNSET,
    price_points: int = _UNSET,
    unit: str = _UNSET,
    category: str = _UNSET,
    active: bool = _UNSET,
    monthly_limit: int | None = _UNSET,
    picture: str | None = _UNSET,
    low_stock: int = _UNSET,
) -> dict[str, Any]:
    """Change what is given (``monthly_limit=None`` removes the limit); SKU and kind stay."""
    changes: dict[str, Any] = {}
    if name is not _UNSET:
        changes["name"] = _text(name, "name", 200, required=True)
    if price_points is not _UNSET:
        changes["price_points"] = _count(price_points, "price_points", least=1)
    if unit is not _UNSET:
        changes["unit"] = _text(unit, "unit", 20)
    if category is not _UNSET:
        changes["category"] = _text(category, "category", 40)
    if active is not _UNSET:
        if not isinstance(active, bool):
            raise InvalidItem("active must be true or false")
        changes["active"] = active
    if monthly_limit is not _UNSET:
        changes["monthly_limit"] = _limit(monthly_limit)
    if picture is not _UNSET:
        changes["picture"] = None if picture is None else _text(picture, "picture", 200)
    if low_stock is not _UNSET:
        changes["low_stock"] = _count(low_stock, "low_stock", least=0)
    if await get_item(conn, item_id) is None:
        raise ItemNotFound(item_id)
    if changes:
        assignments = ", ".join(f"{column} = ?" for column in changes)
        await conn.execute(
            f"UPDATE catalog_item SET {assignments} WHERE id = ?", *changes.values(), item_id
        )
    item = await get_item(conn, item_id)
    assert item is not None
    return item


async def stock_list(conn: Connection, outlet_id: int) -> list[dict[str, Any]]:
    """The active goods of the outlet's community with their ``level`` here (0 if never stocked),
    by category and name; ``low`` is true at or below the item's threshold (so an empty shelf is
    always low). Services are left out: they have no level.
    """
    rows = await conn.fetch(
        f"SELECT {_COLUMNS}, COALESCE(l.level, 0) AS level FROM catalog_outlet o"
        " JOIN catalog_item i ON i.community_id = o.community_id"
        " LEFT JOIN catalog_stock_level l ON l.outlet = o.id AND l.item = i.id"
        " WHERE o.id = ? AND i.kind = 'goods' AND i.active = ?"
        " ORDER BY i.category, i.name, i.id",
        outlet_id,
        True,
    )
    return [{**_item(r), "low": r["level"] <= r["low_stock"]} for r in rows]


async def low_stock(conn: Connection, community_id: int) -> list[dict[str, Any]]:
    """Active goods at or below their threshold (``low_stock`` > 0) at each of the community's
    active outlets, or stocked there once and now empty, lowest first; each row is the item with
    ``outlet_id``, ``outlet`` and ``level``. An outlet that never had the item is listed only if
    it is a supermarket (a partner need not carry every item)."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS}, o.id AS outlet_id, o.name AS outlet,"
        " COALESCE(l.level, 0) AS level FROM catalog_item i"
        " JOIN catalog_outlet o ON o.community_id = i.community_id AND o.active = ?"
        " LEFT JOIN catalog_stock_level l ON l.outlet = o.id AND l.item = i.id"
        " WHERE i.community_id = ? AND i.kind = 'goods' AND i.active = ?"
        " AND ((i.low_stock > 0 AND COALESCE(l.level, 0) <= i.low_stock"
        "       AND (l.id IS NOT NULL OR o.kind = 'supermarket'))"
        "      OR (l.id IS NOT NULL AND l.level = 0))"
        " ORDER BY COALESCE(l.level, 0), i.category, i.name, o.id",
        True,
        community_id,
        True,
    )
    return [_item(r) for r in rows]


async def availability(conn: Connection, community_id: int) -> dict[int, dict[int, int]]:
    """item id → {outlet id → level} for every stocked level in the community's active outlets."""
    rows = await conn.fetch(
        "SELECT l.item, l.outlet, l.level FROM catalog_stock_level l"
        " JOIN catalog_outlet o ON o.id = l.outlet WHERE o.community_id = ? AND o.active = ?",
        community_id,
        True,
    )
    found: dict[int, dict[int, int]] = {}
    for r in rows:
        found.setdefault(r["item"], {})[r["outlet"]] = r["level"]
    return found
