"""The database: long-lived SQLite connections (a writer and a reader per process), or an asyncpg
pool for PostgreSQL.

Piccolo defines the tables and runs the migrations; the request paths use this module instead,
because Piccolo's SQLite engine opens a connection (and a thread) for every transaction, which
caps a write path at a few hundred transactions per second (see docs/performance.md).

Every transaction on SQLite begins IMMEDIATE (one writer at a time; while another process writes,
it retries for up to the busy timeout, yielding to the event loop, instead of failing with
"database is locked"); WAL lets readers go on meanwhile. Transactions that are ready to run
together share one COMMIT (group commit, see ``SqliteDatabase``).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import re
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import piccolo.engine.sqlite  # noqa: F401  (registers the sqlite3 adapters and converters Piccolo's tables use)

from ledger.connection import Row
from mall.errors import NotFound

BUSY_TIMEOUT_S = 10.0
MAX_BATCH = 64  # transactions committed together at most (see SqliteDatabase)

# Piccolo converts every INTEGER column it reads through ``int(Decimal(text))`` (in case a
# column holds "1.0"); ours hold integers, which sqlite3 returns as ``int`` by itself, and the
# detour cost about 2% of a checkout. The other converters (timestamps, booleans) stay.
sqlite3.converters.pop("INTEGER", None)


def must_exist(row: Row | None) -> Row:
    """A row the caller's own transaction has just written or found, so it is there; a missing
    one means it went away behind the app's back, answered as ``NotFound`` rather than a crash."""
    if row is None:
        raise NotFound()
    return row


def sqlite_path(url: str) -> str:
    """``sqlite:///var/mall.db`` → ``var/mall.db``; ``sqlite:////abs/mall.db`` → ``/abs/mall.db``."""
    if not url.startswith("sqlite:///"):
        raise ValueError(f"not a SQLite URL: {url!r}")
    return url[len("sqlite:///") :]


def dialect_of(url: str) -> str:
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        return "sqlite"
    if scheme in ("postgresql", "postgres"):
        return "postgres"
    raise ValueError(f"MALL_DATABASE_URL must start with sqlite:/// or postgresql://, not {url!r}")


class SqliteConnection:
    dialect = "sqlite"

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw

    async def execute(self, sql: str, *args: Any) -> None:
        self.raw.execute(sql, args)

    async def executemany(self, sql: str, args: Iterable[Sequence[Any]]) -> None:
        self.raw.executemany(sql, args)

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        return self.raw.execute(sql, args).fetchall()

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        row: Row | None = self.raw.execute(sql, args).fetchone()
        return row

    async def fetchval(self, sql: str, *args: Any) -> Any:
        row = self.raw.execute(sql, args).fetchone()
        return None if row is None else row[0]


class SqliteDatabase:
    """Two connections per process: a writer, shared by this process's coroutines one
    transaction at a time, and a reader for everything else.

    Statements run on the event loop's thread: each takes microseconds, far less than handing it
    to a worker thread would cost. A transaction holds an ``asyncio.Lock`` so that no other
    coroutine of this process sees it half done; other processes wait on SQLite's own lock,
    without blocking this process's loop. Reads need no lock: each statement is run and
    fetched whole before the loop moves on, and WAL shows it the latest committed state, so a
    read never queues behind a write. The reader refuses writes (``query_only``).

    Group commit: the first transaction of a batch begins SQLite's transaction and schedules its
    COMMIT for the event loop's next turn; each transaction runs in a savepoint of it (rolled
    back alone if it fails), and the transactions that run before that COMMIT join the batch.
    Leaving ``transaction()`` waits for the COMMIT, so what a caller was told is done is
    committed, as before; should the COMMIT fail, every transaction of the batch raises and none
    is kept. Under load one COMMIT carries several checkouts, and the pages they share (the
    right-hand leaves of each table and index) are written to the WAL once: at 16 counters this
    cut the server's CPU per checkout by about a third (docs/performance.md). A deferred
    constraint would fail the whole batch at COMMIT; the schema has none. Nothing slow may run
    inside a transaction (password hashing is done before or after), as the batch waits for it.

    A background thread checkpoints the WAL into the database file, so that no request pays for
    the copy and its ``fsync`` (with SQLite's automatic checkpoint every 80th checkout or so
    stalled the loop for 5-7 ms).
    """

    dialect = "sqlite"

    def __init__(self, path: str, busy_timeout: float = BUSY_TIMEOUT_S) -> None:
        self._busy_timeout = busy_timeout
        memory = path == ":memory:"
        if not memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        writer = self._open(path, timeout=busy_timeout)
        if not memory:
            # once open (opening may wait while another connection recovers the WAL), the
            # writer never waits inside SQLite: ``_begin_immediate`` retries without blocking
            writer.execute("PRAGMA busy_timeout = 0")
            writer.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer thread does it
            writer.execute("PRAGMA temp_store=MEMORY")  # each transaction's savepoint journal
        self._conn = SqliteConnection(writer)
        self._reader = self._conn
        self._checkpointer: _Checkpointer | None = None
        if not memory:
            reader = self._open(path, timeout=busy_timeout)
            reader.execute("PRAGMA query_only=ON")
            self._reader = SqliteConnection(reader)
            self._checkpointer = _Checkpointer(path, busy_timeout)
        self._lock = asyncio.Lock()
        self._batch: _Batch | None = None  # the SQLite transaction open for a group commit
        self._max_batch = 1 if memory else MAX_BATCH  # in memory, reads share the writer
        self._flusher: asyncio.Future[None] | None = None  # held: the loop keeps tasks weakly
        self._current: contextvars.ContextVar[SqliteConnection | None] = contextvars.ContextVar(
            "sqlite_tx", default=None
        )

    @staticmethod
    def _open(path: str, timeout: float) -> sqlite3.Connection:
        raw = sqlite3.connect(
            path,
            timeout=timeout,
            isolation_level=None,
            detect_types=sqlite3.PARSE_DECLTYPES,
            check_same_thread=False,
            cached_statements=512,  # every page's statements stay prepared, not just 128
        )
        raw.row_factory = sqlite3.Row
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute("PRAGMA synchronous=NORMAL")
        raw.execute("PRAGMA foreign_keys=ON")
        raw.execute("PRAGMA cache_size=-65536")  # 64 MiB
        return raw

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteConnection]:
        if self._current.get() is not None:  # nested: join the open transaction
            yield self._conn
            return
        async with self._lock:
            raw = self._conn.raw
            if self._batch is None:
                await self._begin_immediate(raw)
                self._batch = _Batch()
                if self._max_batch > 1:
                    self._flusher = asyncio.ensure_future(self._flush(self._batch))
            batch = self._batch
            raw.execute("SAVEPOINT tx")
            token = self._current.set(self._conn)
            try:
                yield self._conn
            except BaseException:
                if raw.in_transaction:  # (SQLite ends it by itself after a few errors, a full disk)
                    raw.execute("ROLLBACK TO tx")
                    raw.execute("RELEASE tx")
                raise
            else:
                raw.execute("RELEASE tx")
                batch.members += 1
            finally:
                self._current.reset(token)
                if self._max_batch == 1 or batch.members >= self._max_batch:
                    self._commit(batch)
        await asyncio.shield(batch.committed)  # returns once committed; raises if COMMIT failed

    async def _flush(self, batch: _Batch) -> None:
        """Commit ``batch`` once the transactions that are ready to run now have joined it."""
        async with self._lock:
            if self._batch is batch:
                self._commit(batch)

    def _commit(self, batch: _Batch) -> None:
        self._batch = None
        try:
            self._conn.raw.execute("COMMIT")
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):
                self._conn.raw.execute("ROLLBACK")
            batch.committed.set_exception(exc)
            batch.committed.exception()  # retrieved: whoever waits raises it
        else:
            batch.committed.set_result(None)

    async def _begin_immediate(self, raw: sqlite3.Connection) -> None:
        """Take SQLite's write lock without blocking the event loop while another process holds
        it: try at once, and between tries let this process serve other requests (a blocking
        busy wait would stall every request of this worker)."""
        delay, deadline = 0.0001, time.monotonic() + self._busy_timeout
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.002)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[SqliteConnection]:
        """For reads: each statement sees the latest committed state (inside a transaction,
        the transaction's own)."""
        yield self._current.get() or self._reader

    def pool_stats(self) -> tuple[int, int] | None:
        """SQLite has no pool: one writer and one reader per process."""
        return None

    async def close(self) -> None:
        if self._batch is not None:
            await self._flush(self._batch)
        if self._checkpointer is not None:
            self._checkpointer.stop()
        if self._reader is not self._conn:
            self._reader.raw.close()
        self._conn.raw.close()


class _Batch:
    """Transactions committed together: each ran in a savepoint of one SQLite transaction."""

    __slots__ = ("committed", "members")

    def __init__(self) -> None:
        self.members = 0
        self.committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()


class _Checkpointer:
    """Copies the WAL into the database file every ``interval`` seconds, on its own thread and
    connection (sqlite3 lets go of the GIL while SQLite works). PASSIVE: it never waits for, nor
    blocks, a reader or a writer; what a reader still needs is copied next time."""

    def __init__(self, path: str, busy_timeout: float, interval: float = 0.25) -> None:
        self._path, self._timeout, self._interval = path, busy_timeout, interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        raw = sqlite3.connect(self._path, timeout=self._timeout, isolation_level=None)
        try:
            raw.execute("PRAGMA synchronous=NORMAL")
            while not self._stopping.wait(self._interval):
                try:
                    raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:  # e.g. busy during another checkpoint: next time
                    continue
        finally:
            raw.close()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()


@functools.lru_cache(maxsize=1024)
def to_numbered(sql: str) -> str:
    """Rewrite ``?`` placeholders (outside string literals) as asyncpg's ``$1, $2, ...``."""
    counter = iter(range(1, 10_000))
    parts = re.split(r"('(?:[^']|'')*')", sql)
    return "".join(
        p if i % 2 else re.sub(r"\?", lambda _: f"${next(counter)}", p) for i, p in enumerate(parts)
    )


class PostgresConnection:
    dialect = "postgres"

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    async def execute(self, sql: str, *args: Any) -> None:
        await self.raw.execute(to_numbered(sql), *args)

    async def executemany(self, sql: str, args: Iterable[Sequence[Any]]) -> None:
        await self.raw.executemany(to_numbered(sql), args)

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        rows: list[Row] = await self.raw.fetch(to_numbered(sql), *args)
        return rows

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        row: Row | None = await self.raw.fetchrow(to_numbered(sql), *args)
        return row

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self.raw.fetchval(to_numbered(sql), *args)


class PostgresDatabase:
    """A pool of asyncpg connections; each transaction takes one for its duration."""

    dialect = "postgres"

    def __init__(self, dsn: str, min_size: int = 2, max_size: int = 8) -> None:
        self._dsn, self._min, self._max = dsn, min(min_size, max_size), max_size
        self._pool: Any = None
        self._current: contextvars.ContextVar[PostgresConnection | None] = contextvars.ContextVar(
            "pg_tx", default=None
        )

    async def _get_pool(self) -> Any:
        if self._pool is None:
            import asyncpg

            class Connection(asyncpg.Connection):  # type: ignore[misc]
                def get_reset_query(self) -> str:
                    # We keep no session state (no SET, LISTEN, advisory lock or cursor outlives
                    # a transaction), so skip asyncpg's reset query: four round trips per
                    # checkout. asyncpg still rolls back a transaction left open on release.
                    return ""

            self._pool = await asyncpg.create_pool(
                self._dsn,
                min_size=self._min,
                max_size=self._max,
                statement_cache_size=512,
                connection_class=Connection,
            )
        return self._pool

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresConnection]:
        current = self._current.get()
        if current is not None:
            yield current
            return
        pool = await self._get_pool()
        async with pool.acquire() as raw, raw.transaction():
            conn = PostgresConnection(raw)
            token = self._current.set(conn)
            try:
                yield conn
            finally:
                self._current.reset(token)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[PostgresConnection]:
        current = self._current.get()
        if current is not None:
            yield current
            return
        pool = await self._get_pool()
        async with pool.acquire() as raw:
            yield PostgresConnection(raw)

    def pool_stats(self) -> tuple[int, int] | None:
        """(open, idle) connections of this process's pool, once it exists."""
        if self._pool is None:
            return None
        return int(self._pool.get_size()), int(self._pool.get_idle_size())

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


Database = SqliteDatabase | PostgresDatabase


def open_database(url: str, **options: Any) -> Database:
    """The database named by a ``MALL_DATABASE_URL``."""
    if dialect_of(url) == "sqlite":
        return SqliteDatabase(sqlite_path(url), **options)
    return PostgresDatabase(url, **options)


async def answers(db: Database) -> bool:
    """Whether the database answers a query now (for ``/readyz``): never raises."""
    try:
        async with db.connection() as conn:
            await conn.fetchval("SELECT 1")
    except Exception:  # noqa: BLE001 - any failure to answer means not ready
        return False
    return True
