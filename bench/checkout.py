"""Benchmark of the counter: checkouts per second over HTTP against a real ``mall serve``.

    .venv/bin/python -m bench.checkout [--quick] [--postgres URL] [--workers 1,2,4]
        [--counters 16] [--seconds S] [--server-cpus 0,1] [--clients N] [--client raw|httpx]
        [--json] [--profile]

1. Per engine, one database migrated with ``mall migrate`` and seeded through the services: a
   community with its budget, an outlet, goods with large stock, a volunteer with an API token
   and 64 residents, each with a phone bound by activation (a resident token) and a large balance.
2. Per number of server workers (and, with ``--server-cpus``, unpinned then pinned): a fresh copy
   of that database, ``mall serve --workers N`` on it as a subprocess, then on the same server
   - the floor: as many keep-alive connections as counters, each looping ``GET /healthz``;
   - the checkout: each counter loops GET /api/v1/me/pay-code with a resident's token (round
     robin over the residents, no two counters on one resident), then POST
     /api/v1/outlets/{id}/orders with the volunteer's token, one line of quantity 1 and a fresh
     Idempotency-Key.
   Each is warmed up, then measured for a fixed time by client processes (``bench/_load.py``).
3. After each run: orders in the database = the 201s the clients saw, the outlet's redeemed
   accounts (eight, by resident) = the orders' totals, and ``ledger.verify_ledger`` and ``catalog.verify_stock`` clean.

See bench/README.md. Never part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import multiprocessing
import os
import platform
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench._load import Plan, Result, run_process

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-checkout-secret"  # the seeding process and the server must share it
SLUG = "bench"
PASSWORD = "bench-password-not-secret"
ITEMS = (("rice", "大米 5kg"), ("oil", "食用油 1.8L"), ("soap", "肥皂"), ("paste", "牙膏"))
PRICE = 3  # points per unit
STOCK = 100_000  # units of each item at the outlet (one receipt's most)
BALANCE = 100_000  # points per resident
TARGET_CPS = 600
TARGET_P99_MS = 50.0


@dataclass(frozen=True)
class Config:
    quick: bool
    seconds: float
    warmup: float
    counters: int
    residents: int
    outlets: int
    workers: list[int]
    server_cpus: list[int] | None
    clients: int
    client: str
    profile: bool
    nice: int | None


@dataclass(frozen=True)
class Seed:
    book: int
    outlet_ids: list[int]
    skus: list[str]
    volunteer_token: str
    resident_tokens: list[str]


# ---------------------------------------------------------------------------------------------
# Databases: migrate and seed once per engine, copy for each run.


def bench_env(url: str, workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "MALL_DATABASE_URL": url,
        "PICCOLO_CONF": "mall.piccolo_conf",
        "MALL_SECRET_KEY": SECRET,
        "MALL_VAR_DIR": str(workdir / "var"),
    }


def migrate(url: str, workdir: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mall.cli", "migrate"],
        env=bench_env(url, workdir),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"mall migrate failed for {url}:\n{proc.stdout}\n{proc.stderr}")


async def seed(url: str, residents_n: int, outlets_n: int = 1) -> Seed:
    """Everything a checkout needs, made through the services (as staff would, in-process)."""
    import ledger
    from mall.access import Admin
    from mall.db import open_database
    from mall.org import communities, points
    from mall.people import auth, credentials, residents, users
    from mall.shop import items, outlets, stock

    admin = Admin(user_id=None, username="(bench)")
    db = open_database(url)
    try:
        community = await communities.create_community(db, admin, SLUG, "基准社区")
        need = residents_n * BALANCE
        for n in itertools.count():
            if need <= 0:
                break
            grant = min(need, 10_000_000)
            await communities.grant_budget(
                db, admin, SLUG, grant, "基准预算", idempotency_key=f"bench:grant:{n}"
            )
            need -= grant
        for username, role in (("bench-staff", "staff"), ("bench-volunteer", "volunteer")):
            await users.create_user_unchecked(db, username, PASSWORD, role, SLUG)
        staff_token = await auth.sign_in(db, "bench-staff", PASSWORD, ip="bench", kind="api")
        staff = await auth.principal_for(db, staff_token)
        assert staff is not None
        volunteer_token = await auth.sign_in(
            db, "bench-volunteer", PASSWORD, ip="bench", kind="api"
        )
        async with db.connection() as conn:
            book = int(
                await conn.fetchval("SELECT book FROM mall_community WHERE id = ?", community.id)
            )
        outlet_ids = [
            (await outlets.create_outlet(db, staff, SLUG, f"基准积分超市{n + 1}", "supermarket")).id
            for n in range(outlets_n)
        ]
        for sku, name in ITEMS:
            await items.create_item(
                db, staff, SLUG, sku=sku, name=name, kind="goods", price_points=PRICE, unit="件"
            )
            for outlet_id in outlet_ids:
                await stock.change_stock(
                    db,
                    staff,
                    outlet_id,
                    sku=sku,
                    quantity=STOCK,
                    reason="receipt",
                    idempotency_key=f"bench:stock:{outlet_id}:{sku}",
                )
        tokens = []
        for i in range(residents_n):
            made = await residents.create_resident(db, staff, SLUG, f"居民{i:03d}", None, None)
            activation = await credentials.issue_activation(db, staff, made.id)
            token, _ = await credentials.activate(db, activation.code, ip=f"bench-{i}")
            tokens.append(token)
            async with db.transaction() as conn:  # the award service's journal, without a rule
                await ledger.post_journal(
                    conn,
                    book,
                    "award",
                    [(points.BUDGET, -BALANCE), (points.wallet(made.id), BALANCE)],
                    idempotency_key=f"bench:award:{made.id}",
                    path="timely_help",
                    memo="基准",
                )
        return Seed(book, outlet_ids, [sku for sku, _ in ITEMS], volunteer_token, tokens)
    finally:
        await db.close()


def with_database(url: str, name: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def urlsplit_path_name(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path.lstrip("/")


async def pg_admin(url: str, *statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        for sql in statements:
            await conn.execute(sql)
    finally:
        await conn.close()


async def pg_postmaster(url: str) -> int | None:
    """The PostgreSQL server's postmaster pid, when it runs on this machine and /proc shows it."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:  # while the backend lives: its parent is the postmaster
        parent = int(proc_stat(await conn.fetchval("SELECT pg_backend_pid()"))[1])
        return parent if Path(f"/proc/{parent}/comm").read_text().startswith("postgres") else None
    except (OSError, ValueError, IndexError):
        return None
    finally:
        await conn.close()


class Engine:
    """Where the runs' databases come from: a seeded template, copied for each run."""

    def __init__(self, kind: str, work: Path, admin_url: str | None = None) -> None:
        self.kind, self.work, self.admin_url = kind, work, admin_url
        self.stem = f"bench_checkout_{os.getpid()}"
        self.runs = itertools.count(1)
        self.made: list[str] = []

    def template_url(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.work / 'template.db'}"
        assert self.admin_url
        return with_database(self.admin_url, f"{self.stem}_tpl")

    def prepare(self, residents_n: int, outlets_n: int) -> Seed:
        url = self.template_url()
        if self.kind == "postgres":
            assert self.admin_url
            name = f"{self.stem}_tpl"
            asyncio.run(
                pg_admin(
                    self.admin_url,
                    f"DROP DATABASE IF EXISTS {name} WITH (FORCE)",
                    f"CREATE DATABASE {name}",
                )
            )
            self.made.append(name)
        migrate(url, self.work)
        made = asyncio.run(seed(url, residents_n, outlets_n))
        if self.kind == "sqlite":
            with sqlite3.connect(url.removeprefix("sqlite:///")) as raw:
                raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        else:  # statistics, as autovacuum gathers within a minute; copied with the template
            asyncio.run(pg_admin(url, "ANALYZE"))
        return made

    def fresh(self) -> str:
        n = next(self.runs)
        if self.kind == "sqlite":
            path = self.work / f"run{n}.db"
            shutil.copyfile(self.work / "template.db", path)
            return f"sqlite:///{path}"
        assert self.admin_url
        name = f"{self.stem}_{n}"
        asyncio.run(pg_admin(self.admin_url, f"CREATE DATABASE {name} TEMPLATE {self.stem}_tpl"))
        self.made.append(name)
        return with_database(self.admin_url, name)

    def discard(self, url: str) -> None:
        if self.kind == "sqlite":
            path = Path(url.removeprefix("sqlite:///"))
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            return
        assert self.admin_url
        name = urlsplit_path_name(url)
        asyncio.run(pg_admin(self.admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        self.made.remove(name)

    def close(self) -> None:
        if self.kind == "postgres" and self.admin_url and self.made:
            drops = [f"DROP DATABASE IF EXISTS {n} WITH (FORCE)" for n in reversed(self.made)]
            asyncio.run(pg_admin(self.admin_url, *drops))
            self.made.clear()


# ---------------------------------------------------------------------------------------------
# CPU time from /proc.

TICK = os.sysconf("SC_CLK_TCK")


def proc_stat(pid: int | str) -> list[str]:
    """The fields of /proc/PID/stat after "(comm)", from the state on."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def tree_cpu(root: int) -> float:
    """CPU seconds (user + system) used so far by ``root`` and all its descendants alive now."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = proc_stat(entry.name)
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        cpu[pid] = (int(fields[11]) + int(fields[12])) / TICK
    total = 0.0
    for pid, seconds in cpu.items():
        p = pid
        while p not in (0, 1) and p != root:
            p = parents.get(p, 0)
        if p == root:
            total += seconds
    return total


def tree_pids(root: int) -> list[int]:
    pids = [root]
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                p = int(entry.name)
                while p not in (0, 1) and p != root:
                    p = int(proc_stat(p)[1])
            except (OSError, ValueError):
                continue
            if p == root and int(entry.name) != root:
                pids.append(int(entry.name))
    return pids


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    total = sum(values[:8])
    idle = values[3] + values[4]
    return (total - idle) / TICK, total / TICK


def pin_tree(root: int, cpus: list[int]) -> dict[int, set[int]]:
    """Pin ``root`` and its descendants (children forked later inherit it); returns the old
    affinities to restore."""
    old = {}
    for pid in tree_pids(root):
        try:
            old[pid] = os.sched_getaffinity(pid)
            os.sched_setaffinity(pid, cpus)
        except OSError:
            pass
    return old


def renice(pid: int, nice: int) -> int | None:
    """Give the scheduling group of ``pid`` the priority ``nice``; returns the old one.

    Linux schedules each session as a group ("autogroup") and shares the CPUs fairly between
    groups whatever the nice values of their processes; the group's own nice value is what
    weighs against the other sessions' work. Without autogroups, the process's nice value.
    """
    path = Path(f"/proc/{pid}/autogroup")
    try:
        old = int(path.read_text().split("nice")[1])
        path.write_text(str(nice))
        return old
    except (OSError, IndexError, ValueError):
        with contextlib.suppress(OSError):
            old = os.getpriority(os.PRIO_PROCESS, pid)
            os.setpriority(os.PRIO_PROCESS, pid, nice)
            return old
    return None


def restore_nice(pid: int, old: int | None) -> None:
    if old is not None:
        renice(pid, old)


def unpin(old: dict[int, set[int]]) -> None:
    for pid, cpus in old.items():
        with contextlib.suppress(OSError):
            os.sched_setaffinity(pid, cpus)


# ---------------------------------------------------------------------------------------------
# The server.


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    """``mall serve`` as a subprocess, under ``taskset`` when pinned."""

    def __init__(
        self,
        url: str,
        workers: int,
        cpus: list[int] | None,
        workdir: Path,
        command: list[str] | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.workers = workers
        self.log_path = workdir / f"server-{self.port}.log"
        env = {
            **bench_env(url, workdir),
            "MALL_BASE_URL": f"http://127.0.0.1:{self.port}",
            **(extra_env or {}),
        }
        cmd = command or [sys.executable, "-m", "mall.cli", "serve"]
        cmd = [*cmd, "--port", str(self.port), "--workers", str(workers)]
        if cpus:
            cmd = ["taskset", "-c", ",".join(map(str, cpus)), *cmd]  # execs: same pid
        self._log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            cmd, env=env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the server did not start:\n{self.log_path.read_text()}")
            time.sleep(0.2)
        if self.workers > 1:  # every worker up, not only the first to answer
            while len(tree_pids(self.proc.pid)) < self.workers + 1:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"only some workers started:\n{self.log_path.read_text()}")
                time.sleep(0.2)
            time.sleep(1.0)

    def cpu(self) -> float:
        return tree_cpu(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                for pid in reversed(tree_pids(self.proc.pid)):
                    with contextlib.suppress(OSError):
                        os.kill(pid, 9)
                self.proc.wait(timeout=10)
        self._log.close()

    def log_problems(self) -> list[str]:
        """The server log's ERROR lines, and the first traceback in full."""
        lines = self.log_path.read_text(errors="replace").splitlines()
        errors = [line for line in lines if line.startswith("ERROR")]
        start = next((i for i, line in enumerate(lines) if line.startswith("Traceback")), None)
        if start is None:
            return errors
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i] and not lines[i][0].isspace()),
            len(lines) - 1,
        )
        return [
            *errors[:5],
            f"({len(errors)} ERROR lines; the first traceback:)",
            *lines[start : end + 1],
        ]


# ---------------------------------------------------------------------------------------------
# One load phase: client processes started together, their results merged.


def percentile(values: list[int], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] / 1000  # µs → ms


def merge(results: list[Result]) -> Result:
    out = Result()
    for r in results:
        out.done += r.done
        out.requests += r.requests
        out.total_us += r.total_us
        out.pay_code_us += r.pay_code_us
        out.order_us += r.order_us
        out.errors.update(r.errors)
        out.warmup_errors.update(r.warmup_errors)
        out.orders_created += r.orders_created
        out.completed += r.completed
        out.cpu_s += r.cpu_s
        out.window_s = max(out.window_s, r.window_s)
    return out


def client_cpus(server_cpus: list[int] | None) -> list[int] | None:
    """The CPUs the clients may use: those the server does not, if there are any."""
    if not server_cpus:
        return None
    rest = sorted(os.sched_getaffinity(0) - set(server_cpus))
    return rest or None


def run_phase(
    cfg: Config,
    mode: str,
    server: Server,
    seed: Seed,
    tag: str,
    other_cpu: Callable[[], float] | None,
    client_cpu_list: list[int] | None = None,
    late_in_warmup: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Start the client processes together, call ``late_in_warmup`` at 80% of the warm-up, sample
    the CPU counters at both ends of the measured window, and merge what the clients report."""
    ctx = multiprocessing.get_context("fork")  # nothing runs in this process meanwhile
    queue = ctx.Queue()
    start_at = time.time() + 1.0
    measure_from = start_at + cfg.warmup
    measure_to = measure_from + cfg.seconds
    procs = []
    for p in range(min(cfg.clients, cfg.counters)):
        plan = Plan(
            host="127.0.0.1",
            port=server.port,
            mode=mode,
            counters=list(range(p, cfg.counters, cfg.clients)),
            total_counters=cfg.counters,
            resident_tokens=seed.resident_tokens,
            volunteer_token=seed.volunteer_token,
            outlet_ids=seed.outlet_ids,
            skus=seed.skus,
            start_at=start_at,
            measure_from=measure_from,
            measure_to=measure_to,
            client=cfg.client,
            tag=tag,
            cpus=client_cpu_list,
        )
        proc = ctx.Process(target=run_process, args=(plan, queue), daemon=True)
        proc.start()
        procs.append(proc)

    def sample() -> tuple[float, float, float, float]:
        busy, total = machine_cpu()
        return server.cpu(), other_cpu() if other_cpu else 0.0, busy, total

    if late_in_warmup:
        time.sleep(max(0.0, start_at + cfg.warmup * 0.8 - time.time()))
        late_in_warmup()
    time.sleep(max(0.0, measure_from - time.time()))
    before = sample()
    time.sleep(max(0.0, measure_to - time.time()))
    after = sample()
    results = [queue.get(timeout=cfg.seconds + cfg.warmup + 120) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
    r = merge(results)
    wall = measure_to - measure_from
    srv, other, busy, total = (a - b for a, b in zip(after, before, strict=True))
    n = max(r.done, 1)
    return {
        "mode": mode,
        "seconds": wall,
        "done": r.done,
        "per_s": r.done / wall,
        "requests_per_s": r.requests / wall,
        "p50_ms": percentile(r.total_us, 0.50),
        "p95_ms": percentile(r.total_us, 0.95),
        "p99_ms": percentile(r.total_us, 0.99),
        "max_ms": max(r.total_us, default=0) / 1000,
        "mean_ms": statistics.fmean(r.total_us) / 1000 if r.total_us else float("nan"),
        "pay_code_p50_ms": percentile(r.pay_code_us, 0.50),
        "pay_code_p99_ms": percentile(r.pay_code_us, 0.99),
        "order_p50_ms": percentile(r.order_us, 0.50),
        "order_p99_ms": percentile(r.order_us, 0.99),
        "errors": dict(r.errors),
        "warmup_errors": dict(r.warmup_errors),
        "orders_created": r.orders_created,
        "completed": r.completed,
        # CPU, in cores (CPU seconds per second of the window) and in µs per checkout/request
        "cpu_server": srv / wall,
        "cpu_db": other / wall,
        "cpu_client": r.cpu_s / wall,
        "cpu_machine": busy / wall,
        "cores": total / wall,
        "us_server": srv / n * 1e6,
        "us_db": other / n * 1e6,
        "us_client": r.cpu_s / n * 1e6,
        # what the machine's cores could do if this work had them all, CPU being the limit
        "cpu_ceiling_per_s": (total / wall) / max((srv + other + r.cpu_s) / n, 1e-9),
    }


# ---------------------------------------------------------------------------------------------
# Consistency after a run.


async def consistency(url: str, seed: Seed, created: int) -> dict[str, Any]:
    import catalog
    import ledger
    from mall.db import open_database
    from mall.org import points

    db = open_database(url)
    orders = total = redeemed = levels = 0
    try:
        async with db.connection() as conn:
            for outlet_id in seed.outlet_ids:
                row = await conn.fetchrow(
                    "SELECT COUNT(*) AS n, COALESCE(SUM(total), 0) AS points FROM mall_order "
                    "WHERE outlet = ?",
                    outlet_id,
                )
                assert row is not None  # an aggregate always has its one row
                orders += int(row["n"])
                total += int(row["points"])
                for account in points.redeemed_accounts(outlet_id):
                    redeemed += (await ledger.get_balance(conn, seed.book, account)).balance
                levels += int(
                    await conn.fetchval(
                        "SELECT COALESCE(SUM(level), 0) FROM catalog_stock_level WHERE outlet = ?",
                        outlet_id,
                    )
                )
            ledger_report = await ledger.verify_ledger(conn)
            stock_report = await catalog.verify_stock(conn)
    finally:
        await db.close()
    sold = STOCK * len(seed.skus) * len(seed.outlet_ids) - levels
    checks = {
        "orders in the database = 201s seen": (orders, created),
        "points redeemed at the outlets = orders' totals": (redeemed, total),
        "units gone from stock = units ordered": (sold, created),
        "orders' totals = units x price": (total, created * PRICE),
    }
    problems = [f"{k}: {a:,} != {b:,}" for k, (a, b) in checks.items() if a != b]
    problems += [f"verify_ledger: {p}" for p in ledger_report.problems[:5]]
    problems += [f"verify_stock: {p}" for p in stock_report.problems[:5]]
    return {
        "ok": not problems,
        "orders": orders,
        "created": created,
        "journals": ledger_report.journals,
        "stock_movements": stock_report.movements,
        "problems": problems,
    }


# ---------------------------------------------------------------------------------------------
# One run: a fresh database, a server, the floor and the checkout.


@dataclass
class RunSpec:
    engine: str
    workers: int
    cpus: list[int] | None

    @property
    def label(self) -> str:
        pin = f"pinned to CPUs {','.join(map(str, self.cpus))}" if self.cpus else "unpinned"
        return f"{self.engine}, {self.workers} worker{'s' if self.workers > 1 else ''}, {pin}"


@dataclass
class RunResult:
    spec: RunSpec
    floor: dict[str, Any]
    checkout: dict[str, Any]
    consistency: dict[str, Any]
    server_log_problems: list[str] = field(default_factory=list)

    @property
    def errors(self) -> int:
        """Every failed request of the run, floor and checkout, warm-ups included."""
        return sum(
            sum(phase[kind].values())
            for phase in (self.floor, self.checkout)
            for kind in ("errors", "warmup_errors")
        )

    @property
    def passed(self) -> bool:
        return (
            self.checkout["per_s"] >= TARGET_CPS
            and self.checkout["p99_ms"] < TARGET_P99_MS
            and self.errors == 0
            and self.consistency["ok"]
        )


def one_run(
    cfg: Config,
    engine: Engine,
    seed: Seed,
    spec: RunSpec,
    work: Path,
    log: Callable[[str], None],
) -> RunResult:
    url = engine.fresh()
    pg_cpu: Callable[[], float] | None = None
    pinned_pg: dict[int, set[int]] = {}
    reniced_pg: tuple[int, int | None] | None = None
    if engine.kind == "postgres":
        postmaster = asyncio.run(pg_postmaster(url))
        if postmaster is not None:
            pg_cpu = lambda: tree_cpu(postmaster)  # noqa: E731
            if spec.cpus:
                pinned_pg = pin_tree(postmaster, spec.cpus)
            if cfg.nice is not None:
                reniced_pg = (postmaster, renice(postmaster, cfg.nice))
    analyze: Callable[[], None] | None = None
    if engine.kind == "postgres":
        # Statistics for a database with orders in it, as autovacuum gathers in a live one. The
        # run's database is seconds old: its tables held a handful of rows when the pooled
        # connections planned their statements, and PostgreSQL keeps those plans (sequential
        # scans) until the next ANALYZE, which autovacuum runs within a minute; until then each
        # checkout gets slower as the tables grow (see README).
        analyze = lambda: asyncio.run(pg_admin(url, "ANALYZE"))  # noqa: E731
    server = Server(url, spec.workers, spec.cpus, work)
    try:
        server.wait_ready()
        tag = f"r{os.getpid()}-{time.time_ns()}"
        clients_on = client_cpus(spec.cpus)
        floor = run_phase(cfg, "floor", server, seed, tag, pg_cpu, clients_on)
        log(
            f"  floor: {floor['per_s']:,.0f} req/s, p99 {floor['p99_ms']:.1f} ms, "
            f"errors {sum(floor['errors'].values())}"
        )
        checkout = run_phase(cfg, "checkout", server, seed, tag, pg_cpu, clients_on, analyze)
        errors = sum(checkout["errors"].values()) + sum(checkout["warmup_errors"].values())
        log(
            f"  checkout: {checkout['per_s']:,.0f}/s, p50 {checkout['p50_ms']:.1f} ms, "
            f"p99 {checkout['p99_ms']:.1f} ms, errors {errors}"
            + (f" {checkout['errors'] or checkout['warmup_errors']}" if errors else "")
        )
    finally:
        server.stop()
        unpin(pinned_pg)
        if reniced_pg:
            restore_nice(*reniced_pg)
    problems = server.log_problems()
    check = asyncio.run(consistency(url, seed, checkout["orders_created"]))
    log(
        f"  consistency: {'ok' if check['ok'] else 'PROBLEMS'} ({check['orders']:,} orders, "
        f"{check['journals']:,} journals, {check['stock_movements']:,} stock movements)"
        + "".join(f"\n    {p}" for p in check["problems"])
    )
    engine.discard(url)
    return RunResult(spec, floor, checkout, check, problems[:60])


# ---------------------------------------------------------------------------------------------
# Report.


def fmt_cpu(row: dict[str, Any], db: bool) -> str:
    parts = [f"srv {row['cpu_server']:.2f}"]
    if db:
        parts.append(f"pg {row['cpu_db']:.2f}")
    parts += [f"cli {row['cpu_client']:.2f}", f"all {row['cpu_machine']:.2f}/{row['cores']:.0f}"]
    return " ".join(parts)


def print_results(cfg: Config, runs: list[RunResult]) -> None:
    for engine in dict.fromkeys(r.spec.engine for r in runs):
        mine = [r for r in runs if r.spec.engine == engine]
        db = engine == "postgres"
        print(f"\n== {'SQLite' if engine == 'sqlite' else 'PostgreSQL'}")
        head = (
            f"  {'workers':>7} {'pinned':>7} | {'floor/s':>8} {'p99':>6} | {'checkouts/s':>11} "
            f"{'p50':>6} {'p95':>6} {'p99':>6} | {'pay p50/p99':>12} {'order p50/p99':>13} | "
            f"{'req/s':>7} {'co/floor':>8} {'errors':>6} | cores used (of the machine)"
        )
        print(head)
        print("  " + "-" * (len(head) + 12))
        for r in mine:
            f, c = r.floor, r.checkout
            pin = ",".join(map(str, r.spec.cpus)) if r.spec.cpus else "no"
            print(
                f"  {r.spec.workers:>7} {pin:>7} | {f['per_s']:>8,.0f} {f['p99_ms']:>6.1f} | "
                f"{c['per_s']:>11,.0f} {c['p50_ms']:>6.1f} {c['p95_ms']:>6.1f} "
                f"{c['p99_ms']:>6.1f} | {c['pay_code_p50_ms']:>5.1f}/{c['pay_code_p99_ms']:<6.1f} "
                f"{c['order_p50_ms']:>6.1f}/{c['order_p99_ms']:<6.1f} | "
                f"{c['requests_per_s']:>7,.0f} {c['requests_per_s'] / f['per_s']:>8.1%} "
                f"{r.errors:>6} | {fmt_cpu(c, db)}"
            )
        print(
            "  CPU per checkout (µs): "
            + "; ".join(
                f"{r.spec.workers}w{' pinned' if r.spec.cpus else ''}: server "
                f"{r.checkout['us_server']:,.0f}"
                + (f" + PostgreSQL {r.checkout['us_db']:,.0f}" if db else "")
                + f" + client {r.checkout['us_client']:,.0f}"
                + f" (CPU-bound ceiling ~{r.checkout['cpu_ceiling_per_s']:,.0f}/s)"
                for r in mine
            )
        )
        print(
            "  CPU per floor request (µs): "
            + "; ".join(
                f"{r.spec.workers}w: server {r.floor['us_server']:,.0f} + client "
                f"{r.floor['us_client']:,.0f} (client ceiling ~{1e6 / max(r.floor['us_client'], 1):,.0f} req/s per core)"
                for r in mine
                if not r.spec.cpus
            )
        )
        for r in mine:
            if r.server_log_problems:
                print(f"  server log of {r.spec.label}:")
                for line in r.server_log_problems:
                    print(f"    {line}")
    print("\n== Targets (>= 600 checkouts/s, p99 < 50 ms, 0 errors, consistent)")
    for r in runs:
        c = r.checkout
        print(
            f"  {'PASS' if r.passed else 'MISS'}  {r.spec.label}: {c['per_s']:,.0f}/s, "
            f"p99 {c['p99_ms']:.1f} ms, {r.errors} errors, consistency "
            f"{'ok' if r.consistency['ok'] else 'PROBLEMS'}"
        )
    best: dict[str, RunResult] = {}
    for r in runs:
        if r.errors == 0 and r.consistency["ok"]:
            b = best.get(r.spec.engine)
            if b is None or r.checkout["per_s"] > b.checkout["per_s"]:
                best[r.spec.engine] = r
    for engine, r in best.items():
        print(f"  best on {engine}: {r.spec.label}, {r.checkout['per_s']:,.0f} checkouts/s")
    if "sqlite" in best and "postgres" in best:
        ok = best["postgres"].checkout["per_s"] >= best["sqlite"].checkout["per_s"]
        print(f"  {'PASS' if ok else 'MISS'}  PostgreSQL at least as many checkouts/s as SQLite")


def load_note() -> str:
    one, five, _ = os.getloadavg()
    busy = one > 0.5 * (os.cpu_count() or 1)
    warn = " (BUSY: other processes compete for the CPUs, figures will be low and noisy)"
    return f"load average {one:.2f} (1 min) / {five:.2f} (5 min){warn if busy else ''}"


def cpu_list(text: str) -> list[int]:
    cpus: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        cpus += range(int(lo), int(hi or lo) + 1)
    return cpus


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 s per phase: a smoke run")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="PostgreSQL server URL (a maintenance database); the benchmark creates and drops "
        "its own databases there. Without it PostgreSQL is skipped.",
    )
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument(
        "--workers", default="1,2,4", help="server worker counts to try, e.g. 1,2,4 (default)"
    )
    parser.add_argument("--counters", type=int, default=16, help="concurrent counters (16)")
    parser.add_argument("--residents", type=int, default=64, help="residents with a phone (64)")
    parser.add_argument(
        "--outlets",
        type=int,
        default=1,
        help="outlets (1); counter i serves at outlet i mod N: more than 1 spreads the hot rows "
        "(the outlet's redeemed accounts, its stock levels)",
    )
    parser.add_argument("--seconds", type=float, help="measured seconds per phase (15; quick 3)")
    parser.add_argument("--warmup", type=float, help="warm-up seconds per phase (3; quick 1)")
    parser.add_argument(
        "--server-cpus",
        metavar="LIST",
        help="also run with the server (and a local PostgreSQL) pinned to these CPUs, e.g. 0,1; "
        "the clients then use the other CPUs, if any",
    )
    parser.add_argument("--clients", type=int, default=2, help="client processes (2)")
    parser.add_argument(
        "--client", choices=("raw", "httpx"), default="raw", help="HTTP client (raw asyncio)"
    )
    parser.add_argument(
        "--nice",
        type=int,
        help="run the server, the clients and a local PostgreSQL at this priority (e.g. -10, "
        "as root) so that other work on a shared machine disturbs the figures less",
    )
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    parser.add_argument(
        "--profile", action="store_true", help="also profile the server during one checkout run"
    )
    args = parser.parse_args(argv)
    if args.no_sqlite and not args.postgres:
        parser.error("--no-sqlite needs --postgres")
    cfg = Config(
        quick=args.quick,
        seconds=args.seconds or (3.0 if args.quick else 15.0),
        warmup=args.warmup if args.warmup is not None else (1.0 if args.quick else 3.0),
        counters=args.counters,
        residents=max(args.residents, args.counters),
        outlets=max(1, min(args.outlets, args.counters)),
        workers=[int(w) for w in args.workers.split(",")],
        server_cpus=cpu_list(args.server_cpus) if args.server_cpus else None,
        clients=args.clients,
        client=args.client,
        profile=args.profile,
        nice=args.nice,
    )
    started = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {msg}", flush=True)

    print(
        f"Checkout benchmark ({'quick' if cfg.quick else 'full'} run): Python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs, {datetime.now(UTC):%Y-%m-%d %H:%M} "
        f"UTC, {load_note()}; {cfg.counters} counters at {cfg.outlets} outlet"
        f"{'s' if cfg.outlets > 1 else ''}, {cfg.clients} {cfg.client} client "
        f"processes, {cfg.warmup:.0f} s warm-up + {cfg.seconds:.0f} s per phase"
        + (f", at nice {cfg.nice}" if cfg.nice is not None else ""),
        flush=True,
    )
    if cfg.server_cpus and not client_cpus(cfg.server_cpus):
        print(
            f"NOTE: the server's CPUs {args.server_cpus} are all this machine has: pinned runs "
            "share them with the clients, as unpinned runs do."
        )
    own_nice = None
    if cfg.nice is not None:  # the server and the clients run in this process's group
        own_nice = renice(os.getpid(), cfg.nice)
    os.environ.update(MALL_SECRET_KEY=SECRET, PICCOLO_CONF="mall.piccolo_conf")
    runs: list[RunResult] = []
    profiles: dict[str, list[str]] = {}
    engines = ([] if args.no_sqlite else ["sqlite"]) + (["postgres"] if args.postgres else [])
    try:
        with tempfile.TemporaryDirectory(prefix="bench-checkout-") as tmp:
            work = Path(tmp)
            os.environ["MALL_VAR_DIR"] = str(work / "var")
            for kind in engines:
                engine = Engine(kind, work, args.postgres)
                try:
                    log(f"{kind}: migrating and seeding ({cfg.residents} residents)")
                    seed_ = engine.prepare(cfg.residents, cfg.outlets)
                    if kind == "postgres":
                        log(f"  {asyncio.run(pg_settings_note(args.postgres))}")
                    for workers in cfg.workers:
                        for cpus in [None, cfg.server_cpus] if cfg.server_cpus else [None]:
                            spec = RunSpec(kind, workers, cpus)
                            log(spec.label)
                            runs.append(one_run(cfg, engine, seed_, spec, work, log))
                    if cfg.profile:
                        from bench._profile import profile_run

                        profiles[kind] = profile_run(cfg, engine, seed_, work, log)
                finally:
                    engine.close()
    finally:
        if cfg.nice is not None:
            restore_nice(os.getpid(), own_nice)
    log("done")
    print_results(cfg, runs)
    for kind, lines in profiles.items():
        print(f"\n== Profile, {'SQLite' if kind == 'sqlite' else 'PostgreSQL'}, 1 worker")
        print("\n".join(lines))
    if not args.postgres:
        print("\n(PostgreSQL skipped: no --postgres URL given)")
    print(f"\nAt the end: {load_note()}.")
    if args.json:
        print(
            json.dumps(
                [
                    {
                        **asdict(r.spec),
                        "floor": r.floor,
                        "checkout": r.checkout,
                        "consistency": r.consistency,
                    }
                    for r in runs
                ],
                default=str,
            )
        )
    return 0 if all(r.errors == 0 and r.consistency["ok"] for r in runs) else 1


async def pg_settings_note(url: str) -> str:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        version = await conn.fetchval("SHOW server_version")
        fsync = await conn.fetchval("SHOW fsync")
        sync = await conn.fetchval("SHOW synchronous_commit")
    finally:
        await conn.close()
    warn = " WARNING: fsync=off makes commits look cheaper than they are" if fsync == "off" else ""
    return f"PostgreSQL {version}, fsync={fsync}, synchronous_commit={sync}{warn}"


if __name__ == "__main__":
    sys.exit(main())
