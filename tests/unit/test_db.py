"""The database layer: what a connection returned to the pool carries over to the next user."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mall.db import Database, SqliteDatabase, open_database
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
            names = [r[0] for r in await conn.fetch("SELECT name FROM mall_street ORDER BY id")]  # type: ignore[index]  # Row is typed as a Mapping, yet sqlite3.Row and asyncpg Record also index by position
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


@pytest.mark.skipif(ENGINE != "sqlite", reason="SQLite's reader connection")
async def test_a_read_does_not_wait_for_this_process_s_open_transaction(db_url: str) -> None:
    """A read goes on while a transaction of the same process is open, and sees only what was
    committed (the transaction's own reads see its writes)."""
    db = open_database(db_url)
    inside, release = asyncio.Event(), asyncio.Event()

    async def writer() -> None:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO mall_street (name) VALUES ('pending')")
            async with db.connection() as same:  # joins the transaction
                assert await same.fetchval("SELECT COUNT(*) FROM mall_street") == 1
            inside.set()
            await release.wait()

    try:
        task = asyncio.create_task(writer())
        await inside.wait()

        async def read() -> int:
            async with db.connection() as conn:
                return int(await conn.fetchval("SELECT COUNT(*) FROM mall_street"))

        assert await asyncio.wait_for(read(), 1) == 0
        release.set()
        await task
        async with db.connection() as conn:
            assert await conn.fetchval("SELECT COUNT(*) FROM mall_street") == 1
    finally:
        release.set()
        await db.close()


@pytest.mark.skipif(ENGINE != "sqlite", reason="SQLite's reader connection")
async def test_the_reader_refuses_to_write(db_url: str) -> None:
    db = open_database(db_url)
    try:
        async with db.connection() as conn:
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                await conn.execute("INSERT INTO mall_street (name) VALUES ('sneaked in')")
        async with db.connection() as conn:
            assert await conn.fetchval("SELECT COUNT(*) FROM mall_street") == 0
    finally:
        await db.close()


@pytest.mark.skipif(ENGINE != "sqlite", reason="SQLite's group commit")
async def test_transactions_ready_together_share_one_commit_and_each_stays_whole(
    db_url: str,
) -> None:
    """Transactions ready to run in the same turn of the event loop are committed together, yet
    each is all or nothing, and each is committed (visible to another connection, as to another
    process) by the time its block is left."""
    db, other = open_database(db_url), open_database(db_url)
    assert isinstance(db, SqliteDatabase)
    statements: list[str] = []

    async def add(n: int) -> None:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO mall_street (name) VALUES (?)", f"街道{n}")
            await conn.execute("INSERT INTO mall_street (name) VALUES (?)", f"街道{n}乙")
            if n == 3:
                raise ValueError("refused")
        async with other.connection() as conn:
            count = "SELECT COUNT(*) FROM mall_street WHERE name LIKE ?"
            assert await conn.fetchval(count, f"街道{n}%") == 2

    try:
        db._conn.raw.set_trace_callback(statements.append)
        results = await asyncio.gather(*(add(n) for n in range(10)), return_exceptions=True)
        db._conn.raw.set_trace_callback(None)
        assert [type(r).__name__ for r in results] == ["NoneType"] * 3 + ["ValueError"] + [
            "NoneType"
        ] * 6
        assert statements.count("BEGIN IMMEDIATE") == statements.count("COMMIT") == 1
        async with other.connection() as conn:
            names = {r[0] for r in await conn.fetch("SELECT name FROM mall_street")}  # type: ignore[index]  # Row is typed as a Mapping, yet sqlite3.Row also indexes by position
        assert names == {f"街道{n}{s}" for n in range(10) if n != 3 for s in ("", "乙")}
    finally:
        await db.close()
        await other.close()


@pytest.mark.skipif(ENGINE != "sqlite", reason="SQLite's group commit")
async def test_a_commit_that_fails_fails_every_transaction_of_its_batch(db_url: str) -> None:
    """Should the COMMIT itself fail, no transaction of the batch reports success and none of
    them is kept; the next transaction starts afresh. (A deferred foreign key, checked only at
    COMMIT, stands in for a full disk; the schema itself has none.)"""
    db = open_database(db_url)
    try:
        async with db.transaction() as conn:
            await conn.execute("CREATE TABLE t_parent (id INTEGER PRIMARY KEY)")
            await conn.execute(
                "CREATE TABLE t_child (parent INTEGER REFERENCES t_parent (id) "
                "DEFERRABLE INITIALLY DEFERRED)"
            )

        async def add(n: int) -> None:
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO mall_street (name) VALUES (?)", f"街道{n}")
                if n == 2:
                    await conn.execute("INSERT INTO t_child (parent) VALUES (99)")

        results = await asyncio.gather(*(add(n) for n in range(5)), return_exceptions=True)
        assert all(isinstance(r, sqlite3.IntegrityError) for r in results), results
        async with db.connection() as conn:
            assert await conn.fetchval("SELECT COUNT(*) FROM mall_street") == 0
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO mall_street (name) VALUES ('afterwards')")
        async with db.connection() as conn:
            assert await conn.fetchval("SELECT COUNT(*) FROM mall_street") == 1
    finally:
        await db.close()


@pytest.mark.skipif(ENGINE != "sqlite", reason="SQLite's write-ahead log")
async def test_the_wal_is_copied_into_the_database_file_in_the_background(db_url: str) -> None:
    """The writer never checkpoints (a request would pay for the copy and its fsync); the
    checkpointer thread does, without any further write, and stops with the database."""
    path = Path(db_url.removeprefix("sqlite:///"))
    db = open_database(db_url)
    assert isinstance(db, SqliteDatabase)
    try:
        async with db.transaction() as conn:
            await conn.execute("PRAGMA cache_size")  # the writer is open
        await asyncio.sleep(0.6)  # whatever the migrations left is copied
        before = path.stat().st_size
        async with db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO mall_street (name) VALUES (?)",
                [(f"街道{n:05d}" * 20,) for n in range(2000)],
            )
        assert path.stat().st_size == before  # in the WAL only
        for _ in range(40):
            await asyncio.sleep(0.1)
            if path.stat().st_size > before + 300_000:
                break
        assert path.stat().st_size > before + 300_000
    finally:
        await db.close()
    assert db._checkpointer is not None and not db._checkpointer._thread.is_alive()


@pytest.mark.skipif(ENGINE != "sqlite", reason="SQLite's write-ahead log")
def test_many_processes_opening_the_database_at_once_all_get_in(db_url: str) -> None:
    """Opening waits while another connection recovers the WAL (only the open writer refuses
    to wait inside SQLite); with 30 threads at a barrier, every one of them opens."""
    import threading

    for _ in range(3):  # each round starts with no connection open: the WAL is recovered
        barrier, failures = threading.Barrier(30), list[Exception]()

        def open_and_close(
            barrier: threading.Barrier = barrier, failures: list[Exception] = failures
        ) -> None:
            barrier.wait(timeout=30)
            try:
                db = open_database(db_url)
                asyncio.run(db.close())
            except Exception as exc:
                failures.append(exc)

        threads = [threading.Thread(target=open_and_close) for _ in range(30)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert failures == []


@pytest.mark.skipif(ENGINE != "postgres", reason="the pool exists on PostgreSQL only")
async def test_the_app_opens_as_many_connections_as_mall_db_pool_size_says(
    db_url: str, setting: Callable[[str, str], None]
) -> None:
    from web.app import create_app

    setting("MALL_DB_POOL_SIZE", "3")
    app = create_app(db_url)
    async with app.lifespan():
        db = app.state.db
        async with db.connection() as conn:
            assert await conn.fetchval("SELECT 1") == 1
        assert db._pool.get_max_size() == 3


async def test_a_test_leaves_rows_behind(db: Database) -> None:
    """The first of two: it writes; the next test must not see it (on PostgreSQL the next test
    usually gets this very database back, emptied: tests/conftest.py)."""
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO ledger_book (code, name, created_at) VALUES ('left', 'left', ?)",
            datetime.now(UTC),
        )
        assert await conn.fetchval("SELECT COUNT(*) FROM ledger_book") == 1


async def test_every_test_starts_with_an_empty_database_and_ids_from_one(db: Database) -> None:
    async with db.transaction() as conn:
        tables = await conn.fetch(
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'"
            if ENGINE == "postgres"
            else "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        names = [r["name"] for r in tables if r["name"] != "migration"]
        assert len(names) > 30
        for name in names:
            assert await conn.fetchval(f"SELECT COUNT(*) FROM {name}") == 0, name
        made = await conn.fetchval(
            "INSERT INTO ledger_book (code, name, created_at) VALUES ('new', 'new', ?) "
            "RETURNING id",
            datetime.now(UTC),
        )
        assert made == 1
