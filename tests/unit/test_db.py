"""The database layer: what a connection returned to the pool carries over to the next user."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from mall.db import open_database
from tests.conftest import ENGINE


@pytest.mark.skipif(ENGINE != "postgres", reason="the pool exists on PostgreSQL only")
async def test_a_transaction_left_open_is_rolled_back_when_the_connection_returns(
    db_url: str,
) -> None:
    db = open_database(db_url, min_size=1, max_size=1)
    try:
        async with db.connection() as conn:
            await conn.execute("BEGIN")
            await conn.execute("INSERT INTO mall_street (name) VALUES ('left open')")
        async with db.connection() as conn:  # the same, single pooled connection
            assert await conn.fetchval("SELECT COUNT(*) FROM mall_street") == 0
            await conn.execute("INSERT INTO mall_street (name) VALUES ('committed')")
        async with db.connection() as conn:
            assert await conn.fetchval("SELECT COUNT(*) FROM mall_street") == 1
    finally:
        await db.close()


@pytest.mark.skipif(ENGINE != "sqlite", reason="SQLite's file lock between processes")
async def test_waiting_for_another_writer_does_not_stall_the_event_loop(db_url: str) -> None:
    """Two connections stand for two worker processes: while one writes, the other's write
    waits without blocking the loop, so the first can finish (on one thread it could not)."""
    first, second = open_database(db_url), open_database(db_url, busy_timeout=5)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def hold_the_lock() -> None:
        async with first.transaction() as conn:
            await conn.execute("INSERT INTO mall_street (name) VALUES ('first')")
            await asyncio.sleep(0.3)

    async def write_after() -> None:
        await asyncio.sleep(0.05)
        async with second.transaction() as conn:
            await conn.execute("INSERT INTO mall_street (name) VALUES ('second')")

    tick = asyncio.create_task(ticker())
    try:
        await asyncio.wait_for(asyncio.gather(hold_the_lock(), write_after()), timeout=4)
        assert ticks >= 10  # the loop kept running while the second writer waited
        async with second.connection() as conn:
            names = [r[0] for r in await conn.fetch("SELECT name FROM mall_street ORDER BY id")]
        assert names == ["first", "second"]
    finally:
        tick.cancel()
        await first.close()
        await second.close()


@pytest.mark.skipif(ENGINE != "sqlite", reason="SQLite's file lock between processes")
async def test_a_writer_gives_up_after_the_busy_timeout(db_url: str) -> None:
    first, second = open_database(db_url), open_database(db_url, busy_timeout=0.2)
    try:
        async with first.transaction():
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                async with second.transaction():
                    pass
        async with second.transaction() as conn:  # usable again once the lock is free
            await conn.execute("INSERT INTO mall_street (name) VALUES ('later')")
    finally:
        await first.close()
        await second.close()
