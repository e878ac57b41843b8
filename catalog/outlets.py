"""Outlets (积分超市 and partner merchants) and donors (双报到 units and merchants) of a community.

A community is only an id here. Functions take a connection inside a transaction; they never commit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from catalog.connection import Connection, Row
from catalog.errors import InvalidItem, OutletNotFound

OUTLET_KINDS = ("supermarket", "partner")
DONOR_KINDS = ("unit", "merchant")

_OUTLET = "SELECT id, community_id, name, kind, active, created_at FROM catalog_outlet"
_DONOR = "SELECT id, community_id, name, kind, created_at FROM catalog_donor"


def _outlet(row: Row) -> dict[str, Any]:
    return {**dict(row), "active": bool(row["active"])}


def _name(name: str, what: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InvalidItem(f"{what} name must be 1 to 200 characters")
    return name


async def create_outlet(
    conn: Connection, community_id: int, name: str, kind: str
) -> dict[str, Any]:
    """Open an outlet; ``kind`` is ``"supermarket"`` or ``"partner"``."""
    if kind not in OUTLET_KINDS:
        raise InvalidItem(f"outlet kind must be one of {', '.join(OUTLET_KINDS)}")
    outlet_id = await conn.fetchval(
        "INSERT INTO catalog_outlet (community_id, name, kind, active, created_at)"
        " VALUES (?, ?, ?, ?, ?) RETURNING id",
        community_id,
        _name(name, "outlet"),
        kind,
        True,
        datetime.now(UTC),
    )
    outlet = await get_outlet(conn, outlet_id)
    assert outlet is not None
    return outlet


async def get_outlet(conn: Connection, outlet_id: int) -> dict[str, Any] | None:
    row = await conn.fetchrow(f"{_OUTLET} WHERE id = ?", outlet_id)
    return _outlet(row) if row else None


async def require_outlet(conn: Connection, outlet_id: int) -> dict[str, Any]:
    """The outlet, or ``OutletNotFound``."""
    outlet = await get_outlet(conn, outlet_id)
    if outlet is None:
        raise OutletNotFound(outlet_id)
    return outlet


async def list_outlets(conn: Connection, community_id: int) -> list[dict[str, Any]]:
    """A community's outlets, supermarkets first, then by name."""
    rows = await conn.fetch(
        f"{_OUTLET} WHERE community_id = ?"
        " ORDER BY CASE kind WHEN 'supermarket' THEN 0 ELSE 1 END, name, id",
        community_id,
    )
    return [_outlet(r) for r in rows]


async def create_donor(conn: Connection, community_id: int, name: str, kind: str) -> dict[str, Any]:
    """Record a donor; ``kind`` is ``"unit"`` (双报到/共建单位) or ``"merchant"``."""
    if kind not in DONOR_KINDS:
        raise InvalidItem(f"donor kind must be one of {', '.join(DONOR_KINDS)}")
    donor_id = await conn.fetchval(
        "INSERT INTO catalog_donor (community_id, name, kind, created_at)"
        " VALUES (?, ?, ?, ?) RETURNING id",
        community_id,
        _name(name, "donor"),
        kind,
        datetime.now(UTC),
    )
    row = await conn.fetchrow(f"{_DONOR} WHERE id = ?", donor_id)
    assert row is not None
    return dict(row)


async def get_donor(conn: Connection, donor_id: int) -> dict[str, Any] | None:
    row = await conn.fetchrow(f"{_DONOR} WHERE id = ?", donor_id)
    return dict(row) if row else None


async def find_donor(conn: Connection, community_id: int, name: str) -> dict[str, Any] | None:
    """The community's donor of exactly this name (the first one, if recorded twice)."""
    row = await conn.fetchrow(
        f"{_DONOR} WHERE community_id = ? AND name = ? ORDER BY id LIMIT 1",
        community_id,
        (name or "").strip(),
    )
    return dict(row) if row else None


async def list_donors(conn: Connection, community_id: int) -> list[dict[str, Any]]:
    rows = await conn.fetch(f"{_DONOR} WHERE community_id = ? ORDER BY name, id", community_id)
    return [dict(r) for r in rows]
