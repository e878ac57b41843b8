"""Stock levels and their append-only movements, one outlet and item at a time.

Every change of a level is a movement row carrying the level's next ``version`` and the
``level_after``, written under the level's lock (SQLite: the one writer; PostgreSQL: the
level row ``FOR UPDATE``), so levels never go below zero and ``verify`` can replay every step.
Functions take a connection already inside a transaction; they never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from catalog.connection import Connection
from catalog.errors import InvalidMovement, MovementKeyReused, OutOfStock

REASONS = (
    "receipt",
    "donation",
    "redemption",
    "refund",
    "reservation",
    "release",
    "stocktake",
    "adjustment",
)


@dataclass(frozen=True)
class Movement:
    id: int
    outlet_id: int
    item_id: int
    quantity: int
    reason: str
    level_after: int
    replayed: bool = False


def now() -> datetime:
    return datetime.now(UTC)


async def move_stock(
    conn: Connection,
    outlet_id: int,
    item_id: int,
    quantity: int,
    reason: str,
    *,
    reference: str = "",
    donor_id: int | None = None,
    memo: str = "",
    user_id: int | None = None,
    idempotency_key: str | None = None,
    request_hash: str | None = None,
) -> Movement:
    """Add ``quantity`` (negative to take) to one level; refuse to go below zero.

    With an ``idempotency_key`` (unique per outlet), the same key and ``request_hash`` return
    the first movement again and write nothing; another hash raises ``MovementKeyReused``.
    """
    if reason not in REASONS:
        raise InvalidMovement(f"unknown reason {reason!r}")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity == 0:
        raise InvalidMovement("quantity must be a non-zero integer")
    if idempotency_key is not None:
        first = await conn.fetchrow(
            "SELECT id, item, quantity, reason, level_after, request_hash"
            " FROM catalog_stock_movement WHERE outlet = ? AND idempotency_key = ?",
            outlet_id,
            idempotency_key,
        )
        if first is not None:
            if first["request_hash"] != request_hash:
                raise MovementKeyReused(idempotency_key)
            return Movement(
                first["id"],
                outlet_id,
                first["item"],
                first["quantity"],
                first["reason"],
                first["level_after"],
                replayed=True,
            )
    lock = " FOR UPDATE" if conn.dialect == "postgres" else ""
    row = await conn.fetchrow(
        f"SELECT id, level, version FROM catalog_stock_level WHERE outlet = ? AND item = ?{lock}",
        outlet_id,
        item_id,
    )
    if row is None:
        await conn.execute(
            "INSERT INTO catalog_stock_level (outlet, item, level, version) VALUES (?, ?, 0, 0)"
            " ON CONFLICT (outlet, item) DO NOTHING",
            outlet_id,
            item_id,
        )
        row = await conn.fetchrow(
            f"SELECT id, level, version FROM catalog_stock_level"
            f" WHERE outlet = ? AND item = ?{lock}",
            outlet_id,
            item_id,
        )
        assert row is not None
    level_after = row["level"] + quantity
    if level_after < 0:
        name = await conn.fetchval("SELECT name FROM catalog_item WHERE id = ?", item_id)
        raise OutOfStock(item_id, name or str(item_id), row["level"], -quantity)
    version = row["version"] + 1
    await conn.execute(
        "UPDATE catalog_stock_level SET level = ?, version = ? WHERE id = ?",
        level_after,
        version,
        row["id"],
    )
    movement_id = await conn.fetchval(
        "INSERT INTO catalog_stock_movement (outlet, item, quantity, reason, reference, donor,"
        " memo, version, level_after, idempotency_key, request_hash, user_id, at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        outlet_id,
        item_id,
        quantity,
        reason,
        reference,
        donor_id,
        memo,
        version,
        level_after,
        idempotency_key,
        request_hash,
        user_id,
        now(),
    )
    return Movement(movement_id, outlet_id, item_id, quantity, reason, level_after)


async def stock_level(conn: Connection, outlet_id: int, item_id: int) -> int:
    """The cached level of one item at one outlet (0 when nothing ever moved)."""
    level = await conn.fetchval(
        "SELECT level FROM catalog_stock_level WHERE outlet = ? AND item = ?", outlet_id, item_id
    )
    return level or 0
