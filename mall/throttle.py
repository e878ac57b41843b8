"""Rate limits: fixed-window counters in the database, so every app process shares them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ledger import Connection
from mall.errors import RateLimited


async def hit(conn: Connection, key: str, *, limit: int, window: timedelta) -> None:
    """Count one attempt under ``key``; ``RateLimited`` once there were ``limit`` in the window."""
    now = datetime.now(UTC)
    row = await conn.fetchrow("SELECT count, reset_at FROM mall_throttle WHERE key = ?", key)
    if row is None or row["reset_at"] <= now:
        await conn.execute(
            "INSERT INTO mall_throttle (key, count, reset_at) VALUES (?, 1, ?) "
            "ON CONFLICT (key) DO UPDATE SET count = 1, reset_at = excluded.reset_at",
            key,
            now + window,
        )
        return
    if row["count"] >= limit:
        raise RateLimited()
    await conn.execute("UPDATE mall_throttle SET count = count + 1 WHERE key = ?", key)


async def clear(conn: Connection, key: str) -> None:
    await conn.execute("DELETE FROM mall_throttle WHERE key = ?", key)
