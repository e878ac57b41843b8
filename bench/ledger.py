"""Benchmark of the points ledger on SQLite and PostgreSQL.

    .venv/bin/python -m bench.ledger [--quick] [--postgres URL] [--json] [--profile] [--verify]

1. Write throughput (journals/s) of ``ledger.post_journal``, two legs, each journal its own
   transaction under a unique idempotency key, in three shapes: budget -> 1,000 wallets (the
   realistic one: ``budget`` is in every journal), budget -> one hot wallet, and 1,000 sources ->
   1,000 wallets (no account shared between journals). SQLite: one writer, sequential. PostgreSQL:
   16 asyncio tasks sharing a pool of 16.
2. Beside each, the floor measured in the same run: the same rows (journal + 2 postings with their
   version, balance and hash chain + 2 account updates, one transaction) written by the raw driver.
3. Latency of ``get_balance`` and of a first ``get_statement`` page (limit 20) for an account with
   1,000 postings and one with 1,000,000, the history bulk-loaded with the raw driver.

Every database is created (and dropped) by the benchmark. See bench/README.md. Never part of the
test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import io
import itertools
import json
import os
import platform
import pstats
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
# Run as ``python bench/ledger.py``, this file's folder would come first on sys.path and this
# module would shadow the ``ledger`` package it measures.
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)

import ledger  # noqa: E402
from ledger.journals import chain_hash, request_hash  # noqa: E402
from mall.db import Database, PostgresDatabase, SqliteDatabase  # noqa: E402
from mall.org import points  # noqa: E402

FUND = 10**12
WRITERS_PG = 16
ROUNDS = 3  # write runs alternate ledger and floor this many times
TARGET_SQLITE_FLOOR_SHARE = 0.10
TARGET_SQLITE_JPS = 2_000
TARGET_PG_JPS = 2_000
TARGET_READ_RATIO = 1.5


def source(i: int) -> str:
    return f"bench:source:{i}"


DEEP, DEEP_SRC, SMALL, SMALL_SRC = "bench:deep", "bench:deep:src", "bench:small", "bench:small:src"


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str

    def legs(self, i: int, wallets: int) -> list[tuple[str, int]]:
        if self.key == "spread":
            return [(points.BUDGET, -1), (points.wallet(i % wallets), 1)]
        if self.key == "hot":
            return [(points.BUDGET, -1), (points.wallet(0), 1)]
        return [(source(i % wallets), -1), (points.wallet(i % wallets), 1)]


@dataclass(frozen=True)
class Config:
    quick: bool
    sqlite_journals: int
    pg_journals: int
    warmup: int
    wallets: int
    small_history: int
    deep_history: int
    reads: int
    verify: bool
    profile: bool


def scenarios(wallets: int) -> list[Scenario]:
    w = f"{wallets:,}"
    return [
        Scenario("spread", f"budget -> {w} wallets"),
        Scenario("hot", "budget -> 1 hot wallet"),
        Scenario("pairs", f"{w} sources -> {w} wallets"),
    ]


# ---------------------------------------------------------------------------------------------
# Databases: migrate once into a template, copy it for each database the benchmark needs.


def run_migrate(url: str, workdir: Path) -> str | None:
    """``mall migrate`` into ``url``. Should that fail for a reason outside the ledger (another
    app's migration), only the ledger app is migrated, which is all this benchmark needs; the
    returned note says so."""
    env = {
        **os.environ,
        "MALL_DATABASE_URL": url,
        "PICCOLO_CONF": "mall.piccolo_conf",
        "MALL_SECRET_KEY": "bench-only",  # keeps settings from creating var/secret_key
        "MALL_VAR_DIR": str(workdir),
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )

    proc = run("mall.cli", "migrate")
    if proc.returncode == 0:
        return None
    error = (proc.stderr.strip().splitlines() or ["?"])[-1]
    ledger_only = run("piccolo.main", "migrations", "forwards", "ledger")
    if ledger_only.returncode != 0 or "ledger_posting" not in schema_tables(url):
        raise RuntimeError(f"mall migrate failed for {url}:\n{proc.stdout}\n{proc.stderr}")
    return f"`mall migrate` failed ({error}); migrated the ledger app alone"


def schema_tables(url: str) -> set[str]:
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            return {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}

    async def pg() -> set[str]:
        import asyncpg

        conn = await asyncpg.connect(url)
        try:
            return {r[0] for r in await conn.fetch("SELECT tablename FROM pg_tables")}
        finally:
            await conn.close()

    return asyncio.run(pg())


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


async def pg_admin(url: str, *statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        for sql in statements:
            await conn.execute(sql)
    finally:
        await conn.close()


async def pg_server_info(url: str) -> dict[str, str]:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', "
            "'full_page_writes', 'wal_sync_method', 'shared_buffers', 'max_connections')"
        )
        info = {r["name"]: r["setting"] for r in rows}
        info["version"] = await conn.fetchval("SHOW server_version")
        return info
    finally:
        await conn.close()


async def pg_cluster_cpu(url: str) -> Callable[[], float] | None:
    """When the server runs on this machine and /proc shows it: a function giving the CPU
    seconds (user + system) used so far by the cluster's postmaster and its children (backends,
    WAL writer, checkpointer...). Processes that exit between two calls are not counted."""
    import asyncpg

    if urlsplit(url).hostname not in (None, "", "localhost", "127.0.0.1", "::1"):
        return None

    def stat(pid: int | str) -> list[str]:  # the fields after "(comm)", from the state on
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()

    conn = await asyncpg.connect(url)
    try:  # while the backend still lives: its parent is the postmaster
        postmaster = int(stat(await conn.fetchval("SELECT pg_backend_pid()"))[1])
        if not Path(f"/proc/{postmaster}/comm").read_text().startswith("postgres"):
            return None
    except (OSError, ValueError, IndexError):
        return None
    finally:
        await conn.close()
    tick = os.sysconf("SC_CLK_TCK")

    def cpu() -> float:
        total = 0
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                fields = stat(entry.name)
            except OSError:
                continue
            if int(entry.name) == postmaster or int(fields[1]) == postmaster:
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / tick

    return cpu


# ---------------------------------------------------------------------------------------------
# Set-up through the ledger's own API.


async def setup_book(db: Database, wallets: int, sources: int, history: bool) -> int:
    async with db.transaction() as conn:
        book = await points.open_community_book(conn, "bench", "Benchmark community")
        for i in range(wallets):
            await ledger.open_account(conn, book, points.wallet(i), no_negative=True)
        for i in range(sources):
            await ledger.open_account(conn, book, source(i), no_negative=False)
        if history:
            for code in (DEEP, SMALL):
                await ledger.open_account(conn, book, code, no_negative=True)
            for code in (DEEP_SRC, SMALL_SRC):
                await ledger.open_account(conn, book, code, no_negative=False)
        await ledger.post_journal(
            conn,
            book,
            "grant",
            [(points.MINT, -FUND), (points.BUDGET, FUND)],
            idempotency_key="bench:fund",
        )
    return book


async def account_ids(db: Database, book: int) -> dict[str, int]:
    async with db.connection() as conn:
        rows = await conn.fetch("SELECT id, code FROM ledger_account WHERE book = ?", book)
    return {r["code"]: int(r["id"]) for r in rows}


async def verify(db: Database) -> str:
    async with db.connection() as conn:
        report = await ledger.verify_ledger(conn)
    if not report.ok:
        problems = "\n".join(str(p) for p in report.problems[:20])
        raise RuntimeError(f"verify_ledger found {len(report.problems)} problems:\n{problems}")
    return f"verify_ledger: ok ({report.journals:,} journals, {report.postings:,} postings)"


# ---------------------------------------------------------------------------------------------
# Writes through the ledger.


@dataclass
class Timing:
    n: int
    seconds: float
    cpu: float
    server_cpu: float | None = None

    @property
    def jps(self) -> float:
        return self.n / self.seconds

    @property
    def cpu_share(self) -> float:
        return self.cpu / self.seconds


def combine(timings: Sequence[Timing]) -> Timing:
    servers = [t.server_cpu for t in timings]
    return Timing(
        sum(t.n for t in timings),
        sum(t.seconds for t in timings),
        sum(t.cpu for t in timings),
        None if None in servers else sum(s for s in servers if s is not None),
    )


async def timed(n: int, work: Callable[[], Awaitable[Any]]) -> Timing:
    t0, c0 = time.perf_counter(), time.process_time()
    await work()
    return Timing(n, time.perf_counter() - t0, time.process_time() - c0)


async def ledger_writes(
    db: Database,
    book: int,
    sc: Scenario,
    tag: str,
    start: int,
    n: int,
    writers: int,
    wallets: int,
    wrap: Callable[[Any], Any] | None = None,
) -> Timing:
    """Post ``n`` journals of the scenario, each in its own transaction, from ``writers`` tasks."""
    counter = itertools.count(start)
    end = start + n

    async def worker() -> None:
        while (i := next(counter)) < end:
            async with db.transaction() as conn:
                await ledger.post_journal(
                    wrap(conn) if wrap else conn,
                    book,
                    "award",
                    sc.legs(i, wallets),
                    idempotency_key=f"bench:{tag}:{sc.key}:{i}",
                )

    return await timed(n, lambda: asyncio.gather(*(worker() for _ in range(writers))))


# ---------------------------------------------------------------------------------------------
# The floor: the same rows by the raw driver.

JOURNAL_COLUMNS = (
    "book, kind, path, memo, idempotency_key, request_hash, reverses, created_at"  # no id
)


def sqlite_floor(
    path: str, book: int, ids: dict[str, int], sc: Scenario, tag: str, start: int, n: int, w: int
) -> Timing:
    """sqlite3, WAL, synchronous=NORMAL, BEGIN IMMEDIATE; one writer, so the accounts' state is
    kept in memory (read once, outside the timing) instead of read back in every transaction."""
    raw = sqlite3.connect(path, isolation_level=None, timeout=10)
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("PRAGMA synchronous=NORMAL")
    raw.execute("PRAGMA foreign_keys=ON")  # as the ledger's connection: the schema has FKs
    state = {
        int(r[0]): [int(r[1]), int(r[2]), r[3]]
        for r in raw.execute("SELECT id, version, balance, last_hash FROM ledger_account")
    }
    insert_journal = (
        f"INSERT INTO ledger_journal ({JOURNAL_COLUMNS}) "
        "VALUES (?, 'award', NULL, '', ?, ?, NULL, ?) RETURNING id"
    )
    insert_posting = (
        "INSERT INTO ledger_posting (journal, account, amount, version, balance_after, hash) "
        "VALUES (?, ?, ?, ?, ?, ?)"
    )
    update_account = (
        "UPDATE ledger_account SET balance = ?, version = ?, last_hash = ? WHERE id = ?"
    )
    c0, t0 = time.process_time(), time.perf_counter()
    for i in range(start, start + n):
        key = f"bench:{tag}:{sc.key}:{i}"
        legs = [(ids[code], amount) for code, amount in sc.legs(i, w)]
        raw.execute("BEGIN IMMEDIATE")
        jid = raw.execute(
            insert_journal,
            (book, key, hashlib.sha256(key.encode()).hexdigest(), datetime.now(UTC)),
        ).fetchone()[0]
        postings, updates = [], []
        for acc, amount in legs:
            version, balance, prev = state[acc]
            version, balance = version + 1, balance + amount
            digest = chain_hash(prev, jid, acc, version, amount, balance)
            postings.append((jid, acc, amount, version, balance, digest))
            updates.append((balance, version, digest, acc))
        raw.executemany(insert_posting, postings)
        raw.executemany(update_account, updates)
        raw.execute("COMMIT")
        for balance, version, digest, acc in updates:
            state[acc] = [version, balance, digest]
    timing = Timing(n, time.perf_counter() - t0, time.process_time() - c0)
    raw.close()
    return timing


# One UPDATE per account both moves the balance and extends the hash chain, computed in SQL from
# the row's old values exactly as ledger.journals.chain_hash does, so concurrent writers need no
# read: the row lock taken by the UPDATE orders them.
PG_UPDATE_ACCOUNT = """
UPDATE ledger_account SET balance = balance + $2, version = version + 1,
  last_hash = encode(sha256(convert_to(
    concat_ws('|', last_hash, $3::bigint, id, version + 1, $2::bigint, balance + $2), 'UTF8')), 'hex')
WHERE id = $1 RETURNING version, balance, last_hash
"""
PG_INSERT_JOURNAL = (
    f"INSERT INTO ledger_journal ({JOURNAL_COLUMNS}) "
    "VALUES ($1, 'award', NULL, '', $2, $3, NULL, $4) RETURNING id"
)
PG_INSERT_POSTINGS = (
    "INSERT INTO ledger_posting (journal, account, amount, version, balance_after, hash) "
    "VALUES ($1, $2, $3, $4, $5, $6), ($7, $8, $9, $10, $11, $12)"
)


async def pg_floor(
    pool: Any,
    book: int,
    ids: dict[str, int],
    sc: Scenario,
    tag: str,
    start: int,
    n: int,
    w: int,
    writers: int = WRITERS_PG,
) -> Timing:
    """asyncpg, ``writers`` connections each held by one task: BEGIN; INSERT journal;
    UPDATE both accounts in id order (RETURNING the new version, balance and hash); INSERT both
    postings in one statement; COMMIT."""
    counter = itertools.count(start)
    end = start + n

    async def worker() -> None:
        async with pool.acquire() as conn:
            while (i := next(counter)) < end:
                key = f"bench:{tag}:{sc.key}:{i}"
                legs = sorted((ids[code], amount) for code, amount in sc.legs(i, w))
                async with conn.transaction():
                    jid = await conn.fetchval(
                        PG_INSERT_JOURNAL,
                        book,
                        key,
                        hashlib.sha256(key.encode()).hexdigest(),
                        datetime.now(UTC),
                    )
                    args: list[Any] = []
                    for acc, amount in legs:
                        r = await conn.fetchrow(PG_UPDATE_ACCOUNT, acc, amount, jid)
                        args += [jid, acc, amount, r[0], r[1], r[2]]
                    await conn.execute(PG_INSERT_POSTINGS, *args)

    return await timed(n, lambda: asyncio.gather(*(worker() for _ in range(writers))))


# ---------------------------------------------------------------------------------------------
# History: bulk-load consistent journals and postings with the raw driver.


def history_rows(
    book: int,
    first_journal: int,
    plan: Sequence[tuple[int, int, int, str]],
    created_at: Any,
    state: dict[int, tuple[int, int, str]],
    batch: int = 50_000,
) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """Batches of (journal rows, posting rows); ``state`` ends as each account's (version,
    balance, last hash), to be written to the account.

    ``plan`` is ``(dst, src, count, request_hash)`` per pair of accounts; each journal moves 1
    point from ``src`` to ``dst``. The pairs are interleaved evenly over the history, as an
    account with few postings would be among others. Journal rows carry explicit ids.
    """
    for dst, src, _, _ in plan:
        state[dst] = state[src] = (0, 0, ledger.journals.GENESIS_HASH)
    total = sum(count for *_, count, _ in plan)
    emitted = [0] * len(plan)
    journals: list[tuple[Any, ...]] = []
    postings: list[tuple[Any, ...]] = []
    jid = first_journal
    shares = [1 / count for *_, count, _ in plan]
    for step in range(total):
        # the pair furthest behind its share of the history goes next
        k, best = 0, 2.0
        for p, share in enumerate(shares):
            if (emitted[p] + 1) * share < best:
                k, best = p, (emitted[p] + 1) * share
        dst, src, _, req = plan[k]
        emitted[k] += 1
        journals.append(
            (jid, book, "history", None, "", f"bench:history:{jid}", req, None, created_at)
        )
        for acc, amount in ((src, -1), (dst, 1)):
            version, balance, prev = state[acc]
            version, balance = version + 1, balance + amount
            digest = chain_hash(prev, jid, acc, version, amount, balance)
            postings.append((jid, acc, amount, version, balance, digest))
            state[acc] = (version, balance, digest)
        jid += 1
        if len(journals) >= batch or step == total - 1:
            yield journals, postings
            journals, postings = [], []


def history_plan(book: int, ids: dict[str, int], small: int, deep: int) -> list[Any]:
    def req(dst: str, src: str) -> str:  # the hash post_journal would have stored
        legs = [(src, -1), (dst, 1)]
        payload = {"book": book, "kind": "history", "legs": legs, "path": None, "memo": ""}
        return request_hash({**payload, "reverses": None})

    return [
        (ids[DEEP], ids[DEEP_SRC], deep, req(DEEP, DEEP_SRC)),
        (ids[SMALL], ids[SMALL_SRC], small, req(SMALL, SMALL_SRC)),
    ]


def build_history_sqlite(path: str, book: int, plan: list[Any]) -> None:
    from piccolo.engine.sqlite import convert_datetime_in  # what the ledger's writes store

    raw = sqlite3.connect(path, isolation_level=None, timeout=10)
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("PRAGMA synchronous=NORMAL")
    raw.execute("PRAGMA foreign_keys=ON")
    raw.execute("BEGIN IMMEDIATE")
    first = raw.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM ledger_journal").fetchone()[0]
    state: dict[int, tuple[int, int, str]] = {}
    created_at = convert_datetime_in(datetime.now(UTC))
    for journals, postings in history_rows(book, first, plan, created_at, state):
        raw.executemany(
            f"INSERT INTO ledger_journal (id, {JOURNAL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            journals,
        )
        raw.executemany(
            "INSERT INTO ledger_posting (journal, account, amount, version, balance_after, hash) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            postings,
        )
    raw.executemany(
        "UPDATE ledger_account SET version = ?, balance = ?, last_hash = ? WHERE id = ?",
        [(v, b, h, acc) for acc, (v, b, h) in state.items()],
    )
    raw.execute("COMMIT")
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw.close()


async def build_history_pg(url: str, book: int, plan: list[Any]) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute("LOCK TABLE ledger_journal IN EXCLUSIVE MODE")
            if await conn.fetchval("SELECT current_setting('is_superuser') = 'on'"):
                # The rows are consistent by construction (--verify checks them): skip the
                # foreign-key triggers, which cost more than the COPY itself.
                await conn.execute("SET LOCAL session_replication_role = replica")
            first = await conn.fetchval("SELECT COALESCE(MAX(id), 0) + 1 FROM ledger_journal")
            state: dict[int, tuple[int, int, str]] = {}
            for journals, postings in history_rows(book, first, plan, datetime.now(UTC), state):
                await conn.copy_records_to_table(
                    "ledger_journal",
                    records=journals,
                    columns=["id", *JOURNAL_COLUMNS.split(", ")],
                )
                await conn.copy_records_to_table(
                    "ledger_posting",
                    records=postings,
                    columns=["journal", "account", "amount", "version", "balance_after", "hash"],
                )
            await conn.executemany(
                "UPDATE ledger_account SET version = $1, balance = $2, last_hash = $3 WHERE id = $4",
                [(v, b, h, acc) for acc, (v, b, h) in state.items()],
            )
            await conn.execute(
                "SELECT setval(pg_get_serial_sequence('ledger_journal', 'id'), "
                "(SELECT MAX(id) FROM ledger_journal))"
            )
        # what autovacuum would soon do after a load this size; gives the planner real statistics
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


# ---------------------------------------------------------------------------------------------
# Reads.


def summary(samples_ns: list[int]) -> dict[str, float]:
    us = sorted(s / 1000 for s in samples_ns)
    return {
        "median_us": statistics.median(us),
        "p95_us": us[min(len(us) - 1, int(len(us) * 0.95))],
        "n": len(us),
    }


async def read_latencies(
    db: Database, book: int, codes: dict[str, str], reps: int
) -> dict[str, Any]:
    """Median of ``reps`` calls, 1k and 1M accounts alternated so that drift hits both alike.
    Each call is timed alone on a connection already held (no pool acquire in the figure)."""
    samples: dict[tuple[str, str], list[int]] = defaultdict(list)
    async with db.connection() as conn:
        for rep in range(reps + reps // 10):  # the first tenth warms up and is discarded
            for label, code in codes.items():
                t0 = time.perf_counter_ns()
                await ledger.get_balance(conn, book, code)
                t1 = time.perf_counter_ns()
                page = await ledger.get_statement(conn, book, code, limit=20)
                t2 = time.perf_counter_ns()
                assert len(page.entries) == 20 and page.next is not None
                if rep >= reps // 10:
                    samples["get_balance", label].append(t1 - t0)
                    samples["get_statement", label].append(t2 - t1)
    return {f"{op}@{label}": summary(s) for (op, label), s in samples.items()}


# ---------------------------------------------------------------------------------------------
# Profiling (--profile): where a journal's time goes, statement by statement.


class TimedConnection:
    """Wraps a ledger connection and adds each statement's wall time to ``stats``."""

    def __init__(self, inner: Any, stats: dict[str, list[float]]) -> None:
        self.inner, self.stats, self.dialect = inner, stats, inner.dialect

    def _label(self, method: str, sql: str) -> str:
        text = " ".join(sql.split())
        return f"{method}: {text[:70]}{'…' if len(text) > 70 else ''}"

    async def _timed(self, method: str, sql: str, *args: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return await getattr(self.inner, method)(sql, *args)
        finally:
            self.stats[self._label(method, sql)].append(time.perf_counter() - t0)

    async def execute(self, sql: str, *args: Any) -> None:
        await self._timed("execute", sql, *args)

    async def executemany(self, sql: str, args: Any) -> None:
        await self._timed("executemany", sql, args)

    async def fetch(self, sql: str, *args: Any) -> Any:
        return await self._timed("fetch", sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        return await self._timed("fetchrow", sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self._timed("fetchval", sql, *args)


async def profile_writes(
    db: Database, book: int, sc: Scenario, n: int, writers: int, wallets: int, python: bool
) -> list[str]:
    """Per-statement wall time of ``n`` journals (and, with ``python``, cProfile's top functions)."""
    stats: dict[str, list[float]] = defaultdict(list)
    counter = itertools.count(0)

    async def worker() -> None:
        while (i := next(counter)) < n:
            t0 = time.perf_counter()
            async with db.transaction() as conn:
                t1 = time.perf_counter()
                stats["(enter transaction: lock/acquire + BEGIN)"].append(t1 - t0)
                await ledger.post_journal(
                    TimedConnection(conn, stats),
                    book,
                    "award",
                    sc.legs(i, wallets),
                    idempotency_key=f"bench:profile{writers}:{sc.key}:{i}",
                )
                t2 = time.perf_counter()
            stats["(leave transaction: COMMIT + release)"].append(time.perf_counter() - t2)
            stats["(whole transaction)"].append(time.perf_counter() - t0)

    prof = cProfile.Profile() if python else None
    if prof:
        prof.enable()
    timing = await timed(n, lambda: asyncio.gather(*(worker() for _ in range(writers))))
    if prof:
        prof.disable()
    lines = [
        f"profile of {n:,} journals ({sc.title}, {writers} writer(s)): {timing.jps:,.0f} j/s "
        "with instrumentation; wall time per journal, summed over its statements:"
    ]
    whole = sum(stats["(whole transaction)"]) / n
    for label, values in sorted(stats.items(), key=lambda kv: -sum(kv[1])):
        per = sum(values) / n
        share = "" if label == "(whole transaction)" else f"{per / whole:6.1%}"
        lines.append(f"    {per * 1e6:9.1f} µs {share:>6}  x{len(values) / n:.0f}  {label}")
    if prof:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(14)
        body = out.getvalue().splitlines()
        start = next(i for i, line in enumerate(body) if "ncalls" in line)
        lines.append("  cProfile, top functions by own time (includes the instrumentation):")
        lines += [f"    {line}" for line in body[start:] if line.strip()]
    return lines


# ---------------------------------------------------------------------------------------------
# One engine.


async def bench_writes(
    cfg: Config,
    engine: str,
    db: Database,
    floor: Callable[[Scenario, str, int, int], Awaitable[Timing]],
    book: int,
    n: int,
    writers: int,
    log: Callable[[str], None],
    server_cpu: Callable[[], float] | None = None,
) -> list[dict[str, Any]]:
    async def measured(work: Awaitable[Timing]) -> Timing:
        before = server_cpu() if server_cpu else 0.0
        timing = await work
        if server_cpu:
            timing.server_cpu = server_cpu() - before
        return timing

    rows = []
    for sc in scenarios(cfg.wallets):
        await ledger_writes(db, book, sc, "warm", 0, cfg.warmup, writers, cfg.wallets)
        await floor(sc, "floorwarm", 0, cfg.warmup)
        # ledger and floor alternate in rounds, so that both see alike whatever else the machine
        # is doing; each figure is all its rounds' journals over all their time
        leds, flos = [], []
        for r in range(ROUNDS):
            start, size = r * n // ROUNDS, (r + 1) * n // ROUNDS - r * n // ROUNDS
            leds.append(
                await measured(
                    ledger_writes(db, book, sc, "run", start, size, writers, cfg.wallets)
                )
            )
            flos.append(await measured(floor(sc, "floor", start, size)))
        led, flo = combine(leds), combine(flos)
        row: dict[str, Any] = {
            "scenario": sc.key,
            "title": sc.title,
            "journals": n,
            "writers": writers,
            "ledger_jps": led.jps,
            "floor_jps": flo.jps,
            "ledger_jps_by_round": [t.jps for t in leds],
            "floor_jps_by_round": [t.jps for t in flos],
            "ratio": led.jps / flo.jps,
            "ledger_client_cpu": led.cpu_share,
            "floor_client_cpu": flo.cpu_share,
            "ledger_client_cpu_us_per_journal": led.cpu / led.n * 1e6,
            "floor_client_cpu_us_per_journal": flo.cpu / flo.n * 1e6,
        }
        if led.server_cpu is not None and flo.server_cpu is not None:
            row["ledger_server_cpu_us_per_journal"] = led.server_cpu / led.n * 1e6
            row["floor_server_cpu_us_per_journal"] = flo.server_cpu / flo.n * 1e6
        if engine == "sqlite":
            share_ok = row["ratio"] >= TARGET_SQLITE_FLOOR_SHARE
            abs_ok = led.jps >= TARGET_SQLITE_JPS
            row["target"] = (
                f">= {TARGET_SQLITE_FLOOR_SHARE:.0%} of floor: {'PASS' if share_ok else 'MISS'}; "
                f">= {TARGET_SQLITE_JPS:,} j/s: {'PASS' if abs_ok else 'MISS'}"
            )
            row["pass"] = share_ok and abs_ok
        else:
            row["pass"] = led.jps >= TARGET_PG_JPS
            row["target"] = f">= {TARGET_PG_JPS:,} j/s: {'PASS' if row['pass'] else 'MISS'}"
        rows.append(row)
        log(
            f"  {sc.title}: ledger {led.jps:,.0f} j/s in {led.seconds:.1f} s, "
            f"floor {flo.jps:,.0f} j/s in {flo.seconds:.1f} s"
        )
    return rows


def read_rows(lat: dict[str, Any], small: int, deep: int) -> list[dict[str, Any]]:
    rows = []
    for op, title in (("get_balance", "get_balance"), ("get_statement", "get_statement, limit 20")):
        a, b = lat[f"{op}@small"], lat[f"{op}@deep"]
        ratio = b["median_us"] / a["median_us"]
        rows.append(
            {
                "read": op,
                "title": title,
                "small_postings": small,
                "deep_postings": deep,
                "small": a,
                "deep": b,
                "ratio": ratio,
                "target": f"<= {TARGET_READ_RATIO}x",
                "pass": ratio <= TARGET_READ_RATIO,
            }
        )
    return rows


async def bench_sqlite(cfg: Config, work: Path, log: Callable[[str], None]) -> dict[str, Any]:
    template = work / "template.db"
    result: dict[str, Any] = {
        "engine": "sqlite",
        "server": f"SQLite {sqlite3.sqlite_version}, WAL, synchronous=NORMAL",
        "migrate_note": run_migrate(f"sqlite:///{template}", work),
    }

    # writes
    path = str(work / "writes.db")
    shutil.copyfile(template, path)
    db = SqliteDatabase(path)
    try:
        book = await setup_book(db, cfg.wallets, cfg.wallets, history=False)
        ids = await account_ids(db, book)

        async def floor(sc: Scenario, tag: str, start: int, n: int) -> Timing:
            return sqlite_floor(path, book, ids, sc, tag, start, n, cfg.wallets)

        log(f"SQLite: writes, {cfg.sqlite_journals:,} journals per run, 1 writer")
        result["writes"] = await bench_writes(
            cfg, "sqlite", db, floor, book, cfg.sqlite_journals, 1, log
        )
        if cfg.verify or cfg.quick:
            result["verify_writes"] = await verify(db)
        if cfg.profile:
            sc = scenarios(cfg.wallets)[0]
            n = min(cfg.sqlite_journals, 5_000)
            result["profile"] = await profile_writes(db, book, sc, n, 1, cfg.wallets, python=True)
    finally:
        await db.close()

    # reads
    path = str(work / "reads.db")
    shutil.copyfile(template, path)
    db = SqliteDatabase(path)
    try:
        book = await setup_book(db, cfg.wallets, 0, history=True)
        ids = await account_ids(db, book)
        log(f"SQLite: loading {cfg.deep_history + cfg.small_history:,} journals of history")
        t0 = time.perf_counter()
        build_history_sqlite(
            path, book, history_plan(book, ids, cfg.small_history, cfg.deep_history)
        )
        result["history_load_s"] = time.perf_counter() - t0
        log(f"  loaded in {result['history_load_s']:.1f} s")
        if cfg.verify or cfg.quick:
            result["verify_reads"] = await verify(db)
        lat = await read_latencies(db, book, {"small": SMALL, "deep": DEEP}, cfg.reads)
        result["reads"] = read_rows(lat, cfg.small_history, cfg.deep_history)
    finally:
        await db.close()
    return result


async def bench_postgres(
    cfg: Config, url: str, work: Path, log: Callable[[str], None]
) -> dict[str, Any]:
    import asyncpg

    info = await pg_server_info(url)
    result: dict[str, Any] = {
        "engine": "postgres",
        "server": (
            f"PostgreSQL {info['version']}, fsync={info['fsync']}, "
            f"synchronous_commit={info['synchronous_commit']}, "
            f"wal_sync_method={info['wal_sync_method']}"
        ),
        "settings": info,
    }
    stem = f"bench_ledger_{os.getpid()}"
    tpl, wdb, rdb = f"{stem}_tpl", f"{stem}_w", f"{stem}_r"
    drop = [f"DROP DATABASE IF EXISTS {name} WITH (FORCE)" for name in (wdb, rdb, tpl)]
    await pg_admin(url, *drop, f"CREATE DATABASE {tpl}")
    try:
        result["migrate_note"] = await asyncio.to_thread(run_migrate, with_database(url, tpl), work)
        await pg_admin(url, f"CREATE DATABASE {wdb} TEMPLATE {tpl}")
        await pg_admin(url, f"CREATE DATABASE {rdb} TEMPLATE {tpl}")

        # writes
        wurl = with_database(url, wdb)
        db = PostgresDatabase(wurl, min_size=WRITERS_PG, max_size=WRITERS_PG)
        pool = await asyncpg.create_pool(wurl, min_size=WRITERS_PG, max_size=WRITERS_PG)
        try:
            book = await setup_book(db, cfg.wallets, cfg.wallets, history=False)
            ids = await account_ids(db, book)
            # Statistics, as autovacuum gathers within a minute of the set-up: without them the
            # planner reads every account of the book to lock two (see README).
            await pg_admin(wurl, "ANALYZE")

            async def floor(sc: Scenario, tag: str, start: int, n: int) -> Timing:
                return await pg_floor(pool, book, ids, sc, tag, start, n, cfg.wallets)

            log(
                f"PostgreSQL: writes, {cfg.pg_journals:,} journals per run, "
                f"{WRITERS_PG} concurrent writers"
            )
            result["writes"] = await bench_writes(
                cfg,
                "postgres",
                db,
                floor,
                book,
                cfg.pg_journals,
                WRITERS_PG,
                log,
                await pg_cluster_cpu(wurl),
            )
            if cfg.verify or cfg.quick:
                result["verify_writes"] = await verify(db)
            if cfg.profile:
                sc = scenarios(cfg.wallets)[0]
                n = min(cfg.pg_journals, 5_000)
                result["profile"] = await profile_writes(
                    db, book, sc, n, WRITERS_PG, cfg.wallets, python=False
                )
                result["profile"] += await profile_writes(
                    db, book, sc, min(n, 1_000), 1, cfg.wallets, python=False
                )
        finally:
            await pool.close()
            await db.close()

        # reads
        rurl = with_database(url, rdb)
        db = PostgresDatabase(rurl, min_size=1, max_size=2)
        try:
            book = await setup_book(db, cfg.wallets, 0, history=True)
            ids = await account_ids(db, book)
            log(f"PostgreSQL: loading {cfg.deep_history + cfg.small_history:,} journals of history")
            t0 = time.perf_counter()
            await build_history_pg(
                rurl, book, history_plan(book, ids, cfg.small_history, cfg.deep_history)
            )
            result["history_load_s"] = time.perf_counter() - t0
            log(f"  loaded in {result['history_load_s']:.1f} s")
            if cfg.verify or cfg.quick:
                result["verify_reads"] = await verify(db)
            lat = await read_latencies(db, book, {"small": SMALL, "deep": DEEP}, cfg.reads)
            result["reads"] = read_rows(lat, cfg.small_history, cfg.deep_history)
        finally:
            await db.close()
    finally:
        await pg_admin(url, *drop)
    return result


# ---------------------------------------------------------------------------------------------
# Report.


def count_label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return f"{n:,}"


def print_engine(res: dict[str, Any]) -> None:
    title = "SQLite" if res["engine"] == "sqlite" else "PostgreSQL"
    print(f"\n== {title}: {res['server']}")
    if res.get("migrate_note"):
        print(f"   NOTE: {res['migrate_note']}")
    if res["engine"] == "postgres" and res["settings"].get("fsync") == "off":
        print("   WARNING: fsync=off, commits are not durable and the figures are optimistic")
    w = res["writes"]
    writers = w[0]["writers"]
    print(
        f"\n  Writes: {w[0]['journals']:,} journals per figure (in {ROUNDS} rounds alternating "
        "ledger and floor), each its own transaction; "
        + ("1 writer, sequential" if writers == 1 else f"{writers} concurrent writers")
    )
    server = all("ledger_server_cpu_us_per_journal" in r for r in w)
    head = (
        f"  {'scenario':<30} {'ledger j/s':>11} {'floor j/s':>10} {'ledger/floor':>13} "
        f"{'cpu% L/F':>9} {'cpu µs/j L/F':>13}{' srv µs/j L/F' if server else ''}  target"
    )
    print(head)
    print("  " + "-" * (len(head) + 30))
    for r in w:
        cpu = f"{r['ledger_client_cpu']:.0%}/{r['floor_client_cpu']:.0%}"
        cpu_us = f"{r['ledger_client_cpu_us_per_journal']:.0f}/{r['floor_client_cpu_us_per_journal']:.0f}"
        srv = (
            f"{r['ledger_server_cpu_us_per_journal']:.0f}/{r['floor_server_cpu_us_per_journal']:.0f}"
            if server
            else ""
        )
        srv = f" {srv:>13}" if server else ""
        print(
            f"  {r['title']:<30} {r['ledger_jps']:>11,.0f} {r['floor_jps']:>10,.0f} "
            f"{r['ratio']:>12.1%} {cpu:>9} {cpu_us:>13}{srv}  {r['target']}"
        )
    rd = res["reads"]
    s, d = count_label(rd[0]["small_postings"]), count_label(rd[0]["deep_postings"])
    print(
        f"\n  Reads: median (p95) in µs of {rd[0]['small']['n']:,} calls each, on a held "
        f"connection; history loaded in {res['history_load_s']:.1f} s"
    )
    head = f"  {'read':<30} {f'@{s} postings':>18} {f'@{d} postings':>18} {f'{d}/{s}':>8}  target"
    print(head)
    print("  " + "-" * (len(head) + 16))
    for r in rd:
        a, b = r["small"], r["deep"]
        cell_a = f"{a['median_us']:.1f} ({a['p95_us']:.1f})"
        cell_b = f"{b['median_us']:.1f} ({b['p95_us']:.1f})"
        verdict = "PASS" if r["pass"] else "MISS"
        print(
            f"  {r['title']:<30} {cell_a:>18} {cell_b:>18} {r['ratio']:>7.2f}x  "
            f"{r['target']}: {verdict}"
        )
    for key in ("verify_writes", "verify_reads"):
        if key in res:
            print(f"  {key.replace('_', ' of ')} database: {res[key]}")
    if "profile" in res:
        print()
        for line in res["profile"]:
            print(f"  {line}")


def print_summary(engines: dict[str, Any]) -> None:
    print("\n== Targets")
    for res in engines.values():
        name = "SQLite" if res["engine"] == "sqlite" else "PostgreSQL"
        for r in res["writes"]:
            print(
                f"  {'PASS' if r['pass'] else 'MISS'}  {name} writes, {r['title']}: "
                f"{r['ledger_jps']:,.0f} j/s, {r['ratio']:.1%} of floor ({r['target']})"
            )
        for r in res["reads"]:
            print(
                f"  {'PASS' if r['pass'] else 'MISS'}  {name} {r['title']}: "
                f"{r['ratio']:.2f}x from {count_label(r['small_postings'])} to "
                f"{count_label(r['deep_postings'])} postings ({r['target']})"
            )


def load_note() -> str:
    """The machine's load average: other processes share the CPUs the figures depend on."""
    one, five, _ = os.getloadavg()
    busy = one > 0.5 * (os.cpu_count() or 1)
    warn = " (BUSY: other processes compete for the CPUs, figures will be low and noisy)"
    return f"load average {one:.2f} (1 min) / {five:.2f} (5 min){warn if busy else ''}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke run")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="PostgreSQL server URL (a maintenance database, e.g. postgresql://postgres@host:port/"
        "postgres); the benchmark creates and drops its own databases. Without it PostgreSQL is "
        "skipped.",
    )
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    parser.add_argument(
        "--profile", action="store_true", help="also show where a journal's time goes"
    )
    parser.add_argument("--verify", action="store_true", help="run verify_ledger on every database")
    parser.add_argument("--journals", type=int, help="journals per write run (both engines)")
    parser.add_argument("--history", type=int, help="postings of the deep account (default 1M)")
    parser.add_argument("--reads", type=int, help="timed calls per read figure")
    parser.add_argument("--wallets", type=int, default=1_000, help="wallets (and sources)")
    parser.add_argument("--no-sqlite", action="store_true", help="skip SQLite")
    args = parser.parse_args(argv)

    q = args.quick
    cfg = Config(
        quick=q,
        sqlite_journals=args.journals or (2_000 if q else 10_000),
        pg_journals=args.journals or (500 if q else 5_000),
        warmup=50 if q else 500,
        wallets=args.wallets,
        small_history=1_000,
        deep_history=args.history or (20_000 if q else 1_000_000),
        reads=args.reads or (200 if q else 1_000),
        verify=args.verify,
        profile=args.profile,
    )
    if cfg.deep_history < cfg.small_history:
        parser.error(f"--history must be at least {cfg.small_history:,}")
    if min(cfg.sqlite_journals, cfg.pg_journals) < 10 * ROUNDS or cfg.reads < 10:
        parser.error(f"--journals must be at least {10 * ROUNDS}, --reads at least 10")
    started = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {msg}", flush=True)

    print(
        f"Ledger benchmark ({'quick' if q else 'full'} run): Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {platform.machine()} {platform.system()}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {load_note()}",
        flush=True,
    )
    results: dict[str, Any] = {"config": cfg.__dict__, "engines": {}}
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as tmp:
        work = Path(tmp)
        if not args.no_sqlite:
            results["engines"]["sqlite"] = asyncio.run(bench_sqlite(cfg, work, log))
        if args.postgres:
            results["engines"]["postgres"] = asyncio.run(
                bench_postgres(cfg, args.postgres, work, log)
            )
    log("done")

    for res in results["engines"].values():
        print_engine(res)
    if not args.postgres:
        print("\n== PostgreSQL: skipped (no --postgres URL given)")
    print_summary(results["engines"])
    results["elapsed_s"] = time.perf_counter() - started
    results["load_at_end"] = os.getloadavg()
    print(f"\nTotal time {results['elapsed_s']:.0f} s; at the end {load_note()}.")
    if args.json:
        print(json.dumps(results, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
