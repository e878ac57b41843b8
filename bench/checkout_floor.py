"""The floor under the counter benchmark on PostgreSQL: what the raw driver reaches sending a
checkout's statements, with no HTTP, no framework and none of the app's code.

    .venv/bin/python -m bench.checkout_floor --postgres URL [--seconds 10] [--counters 16]
        [--pools 4,16] [--shapes statements,one-call,mall_checkout]

On the database ``bench/checkout.py`` seeds (64 residents, one outlet, four goods), 16 counters in
one process (as one ``mall serve`` worker) each loop one checkout after another through an asyncpg
pool, in one of three shapes:

- ``statements``: the round trips a checkout made before ``mall_checkout`` (the Python path of
  ``mall/counter/checkout.py``, which SQLite still takes): the resident's session lookup, the pay code's
  transaction (BEGIN, INSERT, COMMIT), the volunteer's session lookup, and the order's
  transaction: BEGIN, 6 reads and checks, the code used, ``ledger_post``, the order, the stock
  level locked and updated, the movement, the order line, COMMIT.
- ``one-call``: the same statements, but each transaction in one round trip: the pay code as one
  INSERT, the order's statements inside a PL/pgSQL function made for the run (what a
  ``mall_checkout`` function could at best do: it has none of the real checks' error paths).
- ``mall_checkout``: what the app sends on PostgreSQL: ``mall_new_pay_code``, then
  ``mall_checkout`` with all its checks, each on a connection of its own (the app remembers
  sessions, so no lookups).

The run's database gets an ``ANALYZE`` late in the warm-up, as in ``bench/checkout.py``.
Each prints checkouts/s, p50/p99 and the CPU per checkout of this client and of PostgreSQL. With
the app server's CPU per checkout (``bench/checkout.py``, SQLite), they bound what any checkout
over HTTP can reach on this machine: cores / (PostgreSQL + app + load client) per checkout.
Writes real rows (the database is a fresh copy, dropped at the end). Never part of the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import secrets
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.checkout import Engine, pg_admin, pg_postmaster, tree_cpu

SESSION = (
    "SELECT s.id, s.kind, s.expires_at, s.revoked_at, u.id AS user_id, u.username, u.role, "
    "u.active, r.id AS resident_id, r.name, c.id AS community_id, c.slug "
    "FROM mall_session s LEFT JOIN mall_user u ON u.id = s.user_id "
    "LEFT JOIN mall_resident r ON r.id = s.resident "
    "LEFT JOIN mall_community c ON c.id = COALESCE(u.community, r.community) "
    "WHERE s.token_hash = $1"
)
INSERT_CODE = (
    "INSERT INTO mall_code (kind, ident, resident, created_at, expires_at, pin_hash, "
    "failed_pins, created_by) VALUES ('pay', $1, $2, $3, $4, NULL, 0, NULL)"
)

ORDER_STATEMENTS = {
    "outlet": "SELECT o.id, o.community_id, o.name, o.kind, o.active, c.book, c.slug "
    "FROM catalog_outlet o JOIN mall_community c ON c.id = o.community_id WHERE o.id = $1",
    "replay": "SELECT id, total, journal_id, resident, request_hash FROM mall_order "
    "WHERE outlet = $1 AND idempotency_key = $2",
    "code": "SELECT c.id, c.resident, c.expires_at, c.used_at, c.revoked_at, r.community "
    "FROM mall_code c JOIN mall_resident r ON r.id = c.resident "
    "WHERE c.ident = $1 AND c.kind = 'pay'",
    "items": "SELECT id, sku, name, kind, price_points, monthly_limit, active FROM catalog_item "
    "WHERE community_id = $1 AND sku IN ($2)",
    "levels": "SELECT item, level FROM catalog_stock_level WHERE outlet = $1 AND item IN ($2)",
    "use_code": "UPDATE mall_code SET used_at = $1 WHERE ident = $2 AND used_at IS NULL "
    "RETURNING id",
    "post": "SELECT status, journal_id, detail, versions, balances FROM ledger_post("
    "$1, 'redemption', NULL, $2, $3, $4, NULL, $5, $6, $7)",
    "order": "INSERT INTO mall_order (community, outlet, resident, user_id, total, status, "
    "journal_id, code_ident, idempotency_key, request_hash, created_at) "
    "VALUES ($1, $2, $3, $4, $5, 'completed', $6, $7, $8, $9, $10) RETURNING id",
    "lock_level": "SELECT id, level, version FROM catalog_stock_level "
    "WHERE outlet = $1 AND item = $2 FOR UPDATE",
    "update_level": "UPDATE catalog_stock_level SET level = $1, version = $2 WHERE id = $3",
    "movement": "INSERT INTO catalog_stock_movement (outlet, item, quantity, reason, reference, "
    "donor, memo, version, level_after, idempotency_key, request_hash, user_id, at) "
    "VALUES ($1, $2, -1, 'redemption', $3, NULL, '', $4, $5, NULL, NULL, $6, $7) RETURNING id",
    "line": 'INSERT INTO mall_order_line ("order", item, name, quantity, price_points) '
    "VALUES ($1, $2, $3, 1, $4)",
}

ONE_CALL_FUNCTION = """
CREATE FUNCTION bench_checkout(
    p_outlet bigint, p_community bigint, p_book bigint, p_resident bigint, p_user bigint,
    p_item bigint, p_sku text, p_name text, p_price bigint, p_ident text, p_key text,
    p_req text, p_memo text, p_accounts text[], p_now timestamptz
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    j record;
    lv record;
    order_id bigint;
    movement_id bigint;
BEGIN
    PERFORM o.id, o.community_id, o.name, o.kind, o.active, c.book, c.slug
        FROM catalog_outlet o JOIN mall_community c ON c.id = o.community_id WHERE o.id = p_outlet;
    PERFORM id, total, journal_id, resident, request_hash FROM mall_order
        WHERE outlet = p_outlet AND idempotency_key = p_key;
    PERFORM c.id, c.resident, c.expires_at, c.used_at, c.revoked_at, r.community
        FROM mall_code c JOIN mall_resident r ON r.id = c.resident
        WHERE c.ident = p_ident AND c.kind = 'pay';
    PERFORM id, sku, name, kind, price_points, monthly_limit, active FROM catalog_item
        WHERE community_id = p_community AND sku IN (p_sku);
    PERFORM item, level FROM catalog_stock_level WHERE outlet = p_outlet AND item IN (p_item);
    UPDATE mall_code SET used_at = p_now WHERE ident = p_ident AND used_at IS NULL;
    SELECT * INTO j FROM ledger_post(p_book, 'redemption', NULL, p_memo,
        'order:o' || p_outlet || ':' || p_key, p_req, NULL, p_now, p_accounts,
        ARRAY[-p_price, p_price]::bigint[]);
    INSERT INTO mall_order (community, outlet, resident, user_id, total, status, journal_id,
        code_ident, idempotency_key, request_hash, created_at)
        VALUES (p_community, p_outlet, p_resident, p_user, p_price, 'completed', j.journal_id,
        p_ident, p_key, p_req, p_now) RETURNING id INTO order_id;
    SELECT id, level, version INTO lv FROM catalog_stock_level
        WHERE outlet = p_outlet AND item = p_item FOR UPDATE;
    UPDATE catalog_stock_level SET level = lv.level - 1, version = lv.version + 1
        WHERE id = lv.id;
    INSERT INTO catalog_stock_movement (outlet, item, quantity, reason, reference, donor, memo,
        version, level_after, idempotency_key, request_hash, user_id, at)
        VALUES (p_outlet, p_item, -1, 'redemption', 'order:' || order_id, NULL, '',
        lv.version + 1, lv.level - 1, NULL, NULL, p_user, p_now) RETURNING id INTO movement_id;
    INSERT INTO mall_order_line ("order", item, name, quantity, price_points)
        VALUES (order_id, p_item, p_name, 1, p_price);
    RETURN order_id;
END $$;
"""


@dataclass(frozen=True)
class World:
    """The seeded rows a checkout names."""

    outlet: int
    community: int
    book: int
    user: int
    volunteer_hash: str
    residents: list[tuple[int, str]]  # (resident id, session token hash)
    items: list[tuple[int, str, str]]  # (item id, sku, name)
    price: int


async def load_world(url: str, volunteer_token: str, resident_tokens: list[str]) -> World:
    import asyncpg

    def th(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    conn = await asyncpg.connect(url)
    try:
        outlet = await conn.fetchrow("SELECT id, community_id FROM catalog_outlet ORDER BY id")
        book = await conn.fetchval(
            "SELECT book FROM mall_community WHERE id = $1", outlet["community_id"]
        )
        user = await conn.fetchval(
            "SELECT user_id FROM mall_session WHERE token_hash = $1", th(volunteer_token)
        )
        residents = [
            (
                int(
                    await conn.fetchval(
                        "SELECT resident FROM mall_session WHERE token_hash = $1", th(t)
                    )
                ),
                th(t),
            )
            for t in resident_tokens
        ]
        rows = await conn.fetch("SELECT id, sku, name, price_points FROM catalog_item ORDER BY id")
        await conn.execute(ONE_CALL_FUNCTION)
    finally:
        await conn.close()
    return World(
        outlet=int(outlet["id"]),
        community=int(outlet["community_id"]),
        book=int(book),
        user=int(user),
        volunteer_hash=th(volunteer_token),
        residents=residents,
        items=[(int(r["id"]), r["sku"], r["name"]) for r in rows],
        price=int(rows[0]["price_points"]),
    )


async def statements_checkout(pool: Any, w: World, resident: tuple[int, str], n: int) -> None:
    """One checkout as the app sends it: 19 round trips (2 session lookups, 3 + 14 in the two
    transactions, BEGIN and COMMIT included)."""
    rid, rhash = resident
    item, sku, name = w.items[n % len(w.items)]
    ident, key = secrets.token_urlsafe(15), secrets.token_hex(16)
    at = datetime.now(UTC)
    s = ORDER_STATEMENTS
    async with pool.acquire() as c:
        await c.fetchrow(SESSION, rhash)
    async with pool.acquire() as c, c.transaction():
        await c.execute(INSERT_CODE, ident, rid, at, at + timedelta(seconds=60))
    async with pool.acquire() as c:
        await c.fetchrow(SESSION, w.volunteer_hash)
    async with pool.acquire() as c, c.transaction():
        await c.fetchrow(s["outlet"], w.outlet)
        await c.fetchrow(s["replay"], w.outlet, key)
        await c.fetchrow(s["code"], ident)
        await c.fetch(s["items"], w.community, sku)
        await c.fetch(s["levels"], w.outlet, item)
        await c.fetchval(s["use_code"], at, ident)
        accounts = [f"wallet:r{rid}", f"redeemed:o{w.outlet}:{rid % 8}"]
        posted = await c.fetchrow(
            s["post"], w.book, f"{name}×1", f"order:o{w.outlet}:{key}", key, at, accounts,
            [-w.price, w.price],
        )  # fmt: skip
        assert posted["status"] == "posted", posted
        order_id = await c.fetchval(
            s["order"], w.community, w.outlet, rid, w.user, w.price, posted["journal_id"],
            ident, key, key, at,
        )  # fmt: skip
        level = await c.fetchrow(s["lock_level"], w.outlet, item)
        await c.execute(s["update_level"], level["level"] - 1, level["version"] + 1, level["id"])
        await c.fetchval(
            s["movement"], w.outlet, item, f"order:{order_id}", level["version"] + 1,
            level["level"] - 1, w.user, at,
        )  # fmt: skip
        await c.execute(s["line"], order_id, item, name, w.price)


async def one_call_checkout(pool: Any, w: World, resident: tuple[int, str], n: int) -> None:
    """The same statements, each transaction in one round trip: 2 + 1 + 1."""
    rid, rhash = resident
    item, sku, name = w.items[n % len(w.items)]
    ident, key = secrets.token_urlsafe(15), secrets.token_hex(16)
    at = datetime.now(UTC)
    async with pool.acquire() as c:
        await c.fetchrow(SESSION, rhash)
        await c.execute(INSERT_CODE, ident, rid, at, at + timedelta(seconds=60))
        await c.fetchrow(SESSION, w.volunteer_hash)
        await c.fetchval(
            "SELECT bench_checkout($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,"
            " $15)",
            w.outlet, w.community, w.book, rid, w.user, item, sku, name, w.price, ident, key,
            key, f"{name}×1", [f"wallet:r{rid}", f"redeemed:o{w.outlet}:{rid % 8}"], at,
        )  # fmt: skip


async def mall_checkout(pool: Any, w: World, resident: tuple[int, str], n: int) -> None:
    """What the app sends on PostgreSQL: ``mall_new_pay_code``, then ``mall_checkout`` (the
    functions the migrations install from mall/counter/sql/), with
    every check the app makes."""
    rid, _ = resident
    item, sku, name = w.items[n % len(w.items)]
    ident, key = secrets.token_urlsafe(15), secrets.token_hex(16)
    at = datetime.now(UTC)
    from mall.counter.basket import month_start  # China's calendar month, as the app passes it
    from mall.org.points import REDEEMED_SHARDS

    # as the app: two requests, each on a connection of its own; no session lookups (the app
    # remembers a session for a second, mall/people/auth.py)
    async with pool.acquire() as c:
        await c.execute("SELECT mall_new_pay_code($1, $2, $3, $4)", ident, rid, at,
                        at + timedelta(seconds=60))  # fmt: skip
    async with pool.acquire() as c:
        row = await c.fetchrow(
            "SELECT status FROM mall_checkout($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,"
            " $13, $14)",
            w.outlet, False, w.community, w.user, key, key, f"order:o{w.outlet}:{key}", ident,
            None, [sku], [1], at, month_start(at), REDEEMED_SHARDS,
        )  # fmt: skip
        assert row["status"] == "done", row


SHAPES = {
    "statements": statements_checkout,
    "one-call": one_call_checkout,
    "mall_checkout": mall_checkout,
}


async def run_shape(
    url: str, w: World, shape: str, pool_size: int, counters: int, warmup: float, seconds: float
) -> dict[str, Any]:
    import asyncpg

    class Connection(asyncpg.Connection):  # type: ignore[misc]  # asyncpg has no type information, so its Connection is Any
        def get_reset_query(self) -> str:  # as mall/db.py does
            return ""

    pool = await asyncpg.create_pool(
        url, min_size=pool_size, max_size=pool_size, connection_class=Connection
    )
    postmaster = await pg_postmaster(url)
    work = SHAPES[shape]
    latencies: list[int] = []
    errors: list[str] = []
    start = time.monotonic()
    measure_from, measure_to = start + warmup, start + warmup + seconds
    marks: dict[str, float] = {}

    async def counter(i: int) -> None:
        n = 0
        while True:
            t0 = time.monotonic()
            if t0 >= measure_to:
                return
            if t0 >= measure_from and "cpu" not in marks:
                marks["cpu"] = time.process_time()
                marks["pg"] = tree_cpu(postmaster) if postmaster else 0.0
            resident = w.residents[(i + n * counters) % len(w.residents)]
            try:
                await work(pool, w, resident, i * 1_000_000 + n)
            except Exception as exc:  # counted, and the run is marked
                errors.append(type(exc).__name__)
            t1 = time.monotonic()
            if t0 >= measure_from and t1 <= measure_to:
                latencies.append(int((t1 - t0) * 1e6))
            n += 1

    async def analyze() -> None:  # as bench/checkout.py does, and for the same reason
        await asyncio.sleep(warmup * 0.8)
        await pg_admin(url, "ANALYZE")

    try:
        await asyncio.gather(analyze(), *(counter(i) for i in range(counters)))
        cpu = time.process_time() - marks["cpu"]
        pg = (tree_cpu(postmaster) - marks["pg"]) if postmaster else float("nan")
    finally:
        await pool.close()
    done = len(latencies)
    lat = sorted(latencies)
    return {
        "shape": shape,
        "pool": pool_size,
        "cps": done / seconds,
        "p50_ms": statistics.median(lat) / 1000 if lat else float("nan"),
        "p99_ms": lat[min(len(lat) - 1, int(0.99 * len(lat)))] / 1000 if lat else float("nan"),
        "client_us": cpu / max(done, 1) * 1e6,
        "pg_us": pg / max(done, 1) * 1e6,
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
    }


def measure(engine: Engine, seed: Any, shape: str, pool_size: int, args: Any) -> dict[str, Any]:
    """One shape with one pool size, on a fresh copy of the seeded database."""
    url = engine.fresh()
    try:
        w = asyncio.run(load_world(url, seed.volunteer_token, seed.resident_tokens))
        run = run_shape(url, w, shape, pool_size, args.counters, args.warmup, args.seconds)
        return asyncio.run(run)
    finally:
        engine.discard(url)


def describe(r: dict[str, Any]) -> str:
    return (
        f"  {r['shape']:>10}, pool {r['pool']:>2}: {r['cps']:7,.0f} checkouts/s, "
        f"p50 {r['p50_ms']:5.1f} ms, p99 {r['p99_ms']:6.1f} ms, CPU per checkout: client "
        f"{r['client_us']:,.0f} µs + PostgreSQL {r['pg_us']:,.0f} µs; errors {r['errors']}"
        + (f" ({r['first_error']})" if r["errors"] else "")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", required=True, help="a server and maintenance database")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--counters", type=int, default=16)
    parser.add_argument("--pools", default="4,16", help="pool sizes to try, e.g. 4,16")
    parser.add_argument("--shapes", default="statements,one-call,mall_checkout")
    args = parser.parse_args(argv)
    pools = [int(p) for p in args.pools.split(",")]
    shapes = args.shapes.split(",")
    print(
        f"Checkout floor on PostgreSQL: {os.cpu_count()} CPUs, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {os.getloadavg()[0]:.2f}; "
        f"{args.counters} counters in one process, {args.warmup:.0f} s warm-up + "
        f"{args.seconds:.0f} s per run"
    )
    with tempfile.TemporaryDirectory(prefix="bench-checkout-floor-") as tmp:
        engine = Engine("postgres", Path(tmp), args.postgres)
        try:
            seed = engine.prepare(64, 1)
            rows = []
            for shape in shapes:
                for pool_size in pools:
                    rows.append(measure(engine, seed, shape, pool_size, args))
                    print(describe(rows[-1]))
        finally:
            engine.close()
    print(f"At the end: load average {os.getloadavg()[0]:.2f} (1 min).")
    return 1 if any(r["errors"] for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
