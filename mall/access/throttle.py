"""Rate limits: fixed-window counters in the database, so every app process shares them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ledger import Connection
from mall.errors import RateLimited


async def hit(conn: Connection, key: str, *, limit: int, window: timedelta) -> None:
    """Count one attempt under ``key``; ``RateLimited`` once there were ``limit`` in the window.

    One statement counts and reads back, so attempts sent at once each get their own count: the
    upsert locks the row on PostgreSQL, and SQLite writes one at a time. A refused attempt is
    rolled back with its caller's transaction, so it does not lengthen the wait."""
    now = datetime.now(UTC)
    count = await conn.fetchval(
        "INSERT INTO mall_throttle (key, count, reset_at) VALUES (?, 1, ?) "
        "ON CONFLICT (key) DO UPDATE SET "
        "count = CASE WHEN mall_throttle.reset_at <= ? THEN 1 ELSE mall_throttle.count + 1 END, "
        "reset_at = CASE WHEN mall_throttle.reset_at <= ? THEN excluded.reset_at "
        "ELSE mall_throttle.reset_at END "
        "RETURNING count",
        key,
        now + window,
        now,
        now,
    )
    if count > limit:
        raise RateLimited()


async def give_back(conn: Connection, key: str) -> None:
    """Return the place one attempt took under ``key`` (it succeeded, and only failures count)."""
    await conn.execute(
        "UPDATE mall_throttle SET count = count - 1 WHERE key = ? AND count > 0", key
    )


async def clear(conn: Connection, key: str) -> None:
    await conn.execute("DELETE FROM mall_throttle WHERE key = ?", key)
