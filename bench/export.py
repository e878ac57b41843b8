"""Benchmark of the exports: every passbook of a community as CSV and XLSX over HTTP against a
real ``mall serve``, with 100,000 wallet postings and with 10,000, to show the server's memory
stays flat as the table grows.

    .venv/bin/python -m bench.export [--postings 100000] [--small 10000] [--postgres URL]

1. Per engine, one database migrated with ``mall migrate`` and seeded through the services: two
   communities (``big`` and ``small``) with a staff member holding an API token, 1,000 residents
   (100 in ``small``), a budget, and then one award journal per wallet posting (budget → a
   resident's wallet, round robin), written with ``ledger.post_journal`` in a loop, 500 journals
   to a transaction (the ledger has no bulk path: this is its own write path, hash chain and all).
2. For each community and format, a fresh ``mall serve`` (one worker): one small export first
   (so the code and the pool are loaded), then its resident memory (VmRSS, the whole process
   tree, with its peak reset through ``/proc/PID/clear_refs``), then ``GET /api/v1/communities/<slug>/exports/passbook.<fmt>`` read as a stream by
   the client (never held whole), timed; then the tree's peak resident memory (VmHWM). The file
   is checked: one header row and one row per posting.
3. Floors measured in the same run, in this process: the raw driver reading the same postings
   (one query, no paging) and writing them with the ``csv`` module to memory; and xlsxwriter
   alone writing the same number of rows of ten cells in constant-memory mode.

Never part of the test suite; see docs/performance.md ("Exports") for figures.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import xlsxwriter

from bench.checkout import ROOT, Server, migrate, pg_admin, tree_pids, with_database

PASSWORD = "bench-password-not-secret"
RESIDENTS = {"big": 1000, "small": 100}
BATCH = 500
PASSBOOK_SQL = (
    "SELECT p.id, p.journal, p.amount, p.balance_after, p.version, a.code, j.created_at, "
    "j.kind, j.path, j.memo FROM ledger_posting p JOIN ledger_account a ON a.id = p.account "
    "JOIN ledger_journal j ON j.id = p.journal WHERE a.book = {mark} "
    "AND substr(a.code, 1, 8) = 'wallet:r' ORDER BY p.id"
)


@dataclass(frozen=True)
class Seeded:
    tokens: dict[str, str]
    books: dict[str, int]
    postings: dict[str, int]


async def seed(url: str, postings: dict[str, int]) -> tuple[Seeded, float]:
    """The two communities, made through the services; returns the seconds the postings took."""
    import ledger
    from mall.access import Admin
    from mall.db import open_database
    from mall.org import communities, points
    from mall.people import auth, residents, users

    admin = Admin(user_id=None, username="(bench)")
    db = open_database(url)
    tokens, books, loading = {}, {}, 0.0
    try:
        for slug, count in postings.items():
            made = await communities.create_community(db, admin, slug, f"{slug}社区")
            await communities.grant_budget(db, admin, slug, count, "基准预算", idempotency_key=slug)
            await users.create_user_unchecked(db, f"{slug}-staff", PASSWORD, "staff", slug)
            tokens[slug] = await auth.sign_in(db, f"{slug}-staff", PASSWORD, ip="b", kind="api")
            people = [
                (await residents.create_resident(db, admin, slug, f"居民{i:04d}", None, None)).id
                for i in range(RESIDENTS[slug])
            ]
            async with db.connection() as conn:
                books[slug] = int(
                    await conn.fetchval("SELECT book FROM mall_community WHERE id = ?", made.id)
                )
            t0 = time.perf_counter()
            for start in range(0, count, BATCH):
                async with db.transaction() as conn:
                    for n in range(start, min(count, start + BATCH)):
                        who = points.wallet(people[n % len(people)])
                        await ledger.post_journal(
                            conn,
                            books[slug],
                            "award",
                            [(points.BUDGET, -1), (who, 1)],
                            idempotency_key=f"bench:{slug}:{n}",
                            path="adding_to_good",
                            memo="参加议事会",
                        )
            loading += time.perf_counter() - t0
    finally:
        await db.close()
    return Seeded(tokens, books, postings), loading


def memory_kb(root: int, field: str) -> int:
    """The sum over the process tree of a /proc/PID/status field (VmRSS or VmHWM), in kB."""
    total = 0
    for pid in tree_pids(root):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def reset_peak(root: int) -> None:
    """Start VmHWM afresh from the current RSS (``/proc/PID/clear_refs``, Linux 4.0 and later),
    so the peak measured is the export's, not the server's start-up's."""
    for pid in tree_pids(root):
        Path(f"/proc/{pid}/clear_refs").write_text("5")


@dataclass(frozen=True)
class Run:
    slug: str
    fmt: str
    rows: int
    seconds: float
    size: int
    rss_before_kb: int
    peak_kb: int


def one_export(url: str, work: Path, seeded: Seeded, slug: str, fmt: str) -> Run:
    from mall import days

    server = Server(url, 1, None, work)
    try:
        server.wait_ready()
        today = days.today()
        window = {"from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat()}
        headers = {"Authorization": f"Bearer {seeded.tokens[slug]}"}
        base = f"{server.base}/api/v1/communities/{slug}/exports"
        with httpx.Client(timeout=600, headers=headers) as client:
            warm = client.get(f"{base}/awards.{fmt}", params=window)
            assert warm.status_code == 200, warm.text
            time.sleep(0.5)
            reset_peak(server.proc.pid)
            before = memory_kb(server.proc.pid, "VmRSS")
            t0 = time.perf_counter()
            body = io.BytesIO()
            with client.stream("GET", f"{base}/passbook.{fmt}", params=window) as answer:
                assert answer.status_code == 200, answer.read()
                for chunk in answer.iter_bytes():
                    body.write(chunk)  # the client keeps it, to count rows; the server never does
            seconds = time.perf_counter() - t0
            peak = memory_kb(server.proc.pid, "VmHWM")
        data = body.getvalue()
        rows = count_rows(data, fmt)
        expected = seeded.postings[slug]
        if rows != expected:
            raise RuntimeError(f"{slug}.{fmt}: {rows} rows, expected {expected}")
        return Run(slug, fmt, rows, seconds, len(data), before, peak)
    finally:
        server.stop()


def count_rows(data: bytes, fmt: str) -> int:
    if fmt == "csv":
        return sum(1 for _ in csv.reader(io.StringIO(data.decode("utf-8-sig")))) - 1
    from python_calamine import CalamineWorkbook

    return (
        len(CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()) - 1
    )


async def floor_read(url: str, book: int) -> tuple[float, list[tuple[object, ...]]]:
    """The raw driver reading every wallet posting of the book in one query, and the rows."""
    t0 = time.perf_counter()
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        rows = conn.execute(PASSBOOK_SQL.format(mark="?"), (book,)).fetchall()
        conn.close()
    else:
        import asyncpg

        pg = await asyncpg.connect(url)
        rows = [tuple(r) for r in await pg.fetch(PASSBOOK_SQL.format(mark="$1"), book)]
        await pg.close()
    return time.perf_counter() - t0, rows


def floor_csv(rows: list[tuple[object, ...]]) -> float:
    t0 = time.perf_counter()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerows(rows)
    out.getvalue().encode("utf-8")
    return time.perf_counter() - t0


def floor_xlsx(count: int) -> float:
    """xlsxwriter alone: ``count`` rows like the passbook's (ten cells, four of them text)."""
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        book = xlsxwriter.Workbook(f"{folder}/floor.xlsx", {"constant_memory": True})
        page = book.add_worksheet("passbook")
        for n in range(count):
            page.write_number(n, 0, n)
            page.write_string(n, 1, "2026-12-05 09:30")
            page.write_number(n, 2, n % 1000)
            page.write_string(n, 3, "居民0001")
            page.write_string(n, 4, "获得积分")
            page.write_string(n, 5, "锦上添花")
            page.write_string(n, 6, "参加议事会")
            page.write_number(n, 7, 1)
            page.write_number(n, 8, n // 1000)
            page.write_number(n, 9, n)
        book.close()
        return time.perf_counter() - t0


def engine_run(kind: str, url: str, work: Path, postings: dict[str, int]) -> None:
    print(f"\n== {kind}: seeding {postings['big']:,} + {postings['small']:,} postings", flush=True)
    migrate(url, work)
    seeded, loading = asyncio.run(seed(url, postings))
    total = sum(postings.values())
    print(
        f"   postings written with ledger.post_journal: {loading:.1f} s ({total / loading:,.0f}/s)"
    )
    runs = [
        one_export(url, work, seeded, slug, fmt)
        for fmt in ("csv", "xlsx")
        for slug in ("small", "big")
    ]
    print(
        f"   {'export':<22} {'rows':>8} {'seconds':>8} {'rows/s':>9} {'MB':>6} {'RSS before':>11} {'peak RSS':>9} {'growth':>7}"
    )
    for r in runs:
        print(
            f"   passbook.{r.fmt} {r.slug:<8}    {r.rows:>8,} {r.seconds:>8.2f} {r.rows / r.seconds:>9,.0f} "
            f"{r.size / 1e6:>6.1f} {r.rss_before_kb / 1024:>9.1f}MB {r.peak_kb / 1024:>7.1f}MB "
            f"{(r.peak_kb - r.rss_before_kb) / 1024:>5.1f}MB"
        )
    read_s, rows = asyncio.run(floor_read(url, seeded.books["big"]))
    csv_s = floor_csv(rows)
    xlsx_s = floor_xlsx(len(rows))
    print(
        f"   floor, {len(rows):,} rows: raw driver read {read_s:.2f} s; + csv module {csv_s:.2f} s; xlsxwriter alone {xlsx_s:.2f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--postings", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--postgres", metavar="URL", help="also measure PostgreSQL on this server")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--engine", metavar="URL", help=argparse.SUPPRESS)  # one engine, in a child
    args = parser.parse_args(argv)
    postings = {"big": args.postings, "small": args.small}
    if args.engine:  # Piccolo picks its dialect once per process: one process per engine
        kind = "SQLite" if args.engine.startswith("sqlite") else "PostgreSQL"
        with tempfile.TemporaryDirectory(prefix="bench-export-") as folder:
            engine_run(kind, args.engine, Path(folder), postings)
        return 0
    print(
        f"bench.export on {platform.node()}, Python {sys.version.split()[0]}, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    sizes = ["--postings", str(args.postings), "--small", str(args.small)]
    failed = 0
    with tempfile.TemporaryDirectory(prefix="bench-export-") as folder:
        urls = [] if args.no_sqlite else [f"sqlite:///{folder}/export.db"]
        name = f"bench_export_{os.getpid()}"
        if args.postgres:
            asyncio.run(pg_admin(args.postgres, f"CREATE DATABASE {name}"))
            urls.append(with_database(args.postgres, name))
        try:
            for url in urls:
                env = {**os.environ, "MALL_DATABASE_URL": url, "PICCOLO_CONF": "mall.piccolo_conf"}
                cmd = [sys.executable, "-m", "bench.export", "--engine", url, *sizes]
                failed |= subprocess.run(cmd, env=env, cwd=ROOT).returncode
        finally:
            if args.postgres:
                asyncio.run(pg_admin(args.postgres, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    return failed


if __name__ == "__main__":
    raise SystemExit(main())
