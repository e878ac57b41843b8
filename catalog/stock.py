"""Stock levels and their append-only movements, one outlet and item at a time.

Every change of a level is a movement row carrying the level's next ``version`` and the
``level_after``, written under the level's lock (SQLite: the one writer; PostgreSQL: the
level row ``FOR UPDATE``), so levels never go below zero and ``verify`` can replay every step.
Functions take a connection already inside a transaction; they never commit.
"""

from __future__ import annotations

import re
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
        if conn.dialect == "postgres":  # requests with one key wait for each other, then replay
            await conn.execute(
                "SELECT pg_advisory_xact_lock(?, hashtext(?))", outlet_id, idempotency_key
            )
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


async def stocktake(
    conn: Connection,
    outlet_id: int,
    counts: dict[int, int],
    user_id: int | None,
    memo: str = "",
    *,
    idempotency_key: str | None = None,
    request_hash: str | None = None,
) -> list[Movement]:
    """Post ``counted - level`` as a ``"stocktake"`` movement for each item whose count differs
    (盘点). Items counted equal to their level post nothing. The caller checks that each item is
    goods of the outlet's community. With an ``idempotency_key``, each movement's key is
    ``<key>:<item id>``, so a replay returns the first movements and posts nothing new (a first
    stocktake that changed nothing leaves no trace, so its replay simply counts again).
    """
    for item_id, counted in counts.items():
        if not isinstance(counted, int) or isinstance(counted, bool) or counted < 0:
            raise InvalidMovement(f"counted quantity of item {item_id} must be 0 or more")
    if idempotency_key is not None:
        replayed = await conn.fetch(
            "SELECT id, item, quantity, reason, level_after, request_hash"
            " FROM catalog_stock_movement WHERE outlet = ? AND idempotency_key LIKE ? ESCAPE '!'"
            " ORDER BY id",
            outlet_id,
            re.sub(r"([!%_])", r"!\1", idempotency_key) + ":%",
        )
        if replayed:
            if any(r["request_hash"] != request_hash for r in replayed):
                raise MovementKeyReused(idempotency_key)
            return [
                Movement(
                    r["id"],
                    outlet_id,
                    r["item"],
                    r["quantity"],
                    r["reason"],
                    r["level_after"],
                    replayed=True,
                )
                for r in replayed
            ]
    moved = []
    for item_id in sorted(counts):
        difference = counts[item_id] - await _locked_level(conn, outlet_id, item_id)
        if difference:
            moved.append(
                await move_stock(
                    conn,
                    outlet_id,
                    item_id,
                    difference,
                    "stocktake",
                    memo=memo,
                    user_id=user_id,
                    idempotency_key=(
                        None if idempotency_key is None else f"{idempotency_key}:{item_id}"
                    ),
                    request_hash=request_hash,
                )
            )
    return moved


async def _locked_level(conn: Connection, outlet_id: int, item_id: int) -> int:
    lock = " FOR UPDATE" if conn.dialect == "postgres" else ""
    level = await conn.fetchval(
        f"SELECT level FROM catalog_stock_level WHERE outlet = ? AND item = ?{lock}",
        outlet_id,
        item_id,
    )
    return level or 0
