"""Helpers for tests: real concurrency, from separate threads with their own connections, and a
real server process (``mall serve``) to send real concurrent HTTP requests to."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from mall.access import Admin, ResidentPrincipal, Staff, Volunteer
from mall.db import Database, open_database

T = TypeVar("T")


def on_database(url: str, fn: Callable[[Database], Awaitable[T]]) -> T:
    """Run ``fn(db)`` on its own connection and event loop, outside the racing threads: to
    prepare a race or to look at what it left."""

    async def run() -> T:
        db = open_database(url)
        try:
            return await fn(db)
        finally:
            await db.close()

    return asyncio.run(run())


def race(url: str, n: int, work: Callable[[Database, int], Awaitable[Any]]) -> list[Any]:
    """Run ``work(db, i)`` in ``n`` threads at once, each with its own event loop and connection.

    All threads connect first, then start together at a barrier. Returns each result, or the
    exception it raised, in order.
    """
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        loop = asyncio.new_event_loop()
        db = open_database(url, **({"min_size": 1, "max_size": 1} if "postgres" in url else {}))
        try:
            loop.run_until_complete(_warm(db))
            barrier.wait(timeout=60)
            results[i] = loop.run_until_complete(work(db, i))
        except BaseException as exc:  # collected and asserted by the test
            results[i] = exc
        finally:
            loop.run_until_complete(db.close())
            loop.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return results


async def _warm(db: Database) -> None:
    async with db.connection() as conn:
        await conn.fetchval("SELECT 1")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving(database_url: str, tmp: Path) -> Iterator[str]:
    """``mall serve`` on a free port and ``database_url``; yields its base URL once it answers."""
    import httpx
    import pytest

    port = free_port()
    env = {
        **os.environ,
        "MALL_DATABASE_URL": database_url,
        "MALL_VAR_DIR": str(tmp / "var"),
        "MALL_BASE_URL": f"http://127.0.0.1:{port}",
    }
    log_path = tmp / "server.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "mall.cli", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        try:
            while True:
                try:
                    httpx.get(f"{base}/healthz", timeout=2)
                    break
                except httpx.TransportError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"server did not start: {log_path.read_text()}")
                    time.sleep(0.2)
            yield base
        finally:
            server.terminate()
            server.wait(timeout=30)


# Comparing two databases row by row (tests/unit/counter/test_parity.py, tests/unit/ledger/test_write_path.py)


#: Columns whose values differ between two runs of the same calls, per table; everything else, in
#: every table, is compared exactly (tables the cases leave empty, such as the earning ones, are
#: not listed: a case that writes them fails until their clock columns are). Both lists are checked against the schema (a renamed column
#: must be renamed here too, or the comparison fails).
#:
#: ``set_or_not``: compared only as NULL or not NULL (a time read from the clock, or a salted hash).
#: ``named``: random values, compared by the stable name ``names`` maps them to (a code's ident
#: becomes ``code#<its id>``), so that a row pointing at the wrong code still differs.
EXPECTED_TO_DIFFER: dict[str, dict[str, tuple[str, ...]]] = {
    # ledger: the hash chain covers ids, versions, amounts and balances, not times: compared
    "ledger_book": {"set_or_not": ("created_at",)},  # now() when opened
    "ledger_account": {"set_or_not": ("created_at",)},  # now() when opened
    "ledger_journal": {"set_or_not": ("created_at",)},  # now(), or the checkout's moment
    # ledger_hold.expires_at: the checkout's "now + days", or what the test passes
    "ledger_hold": {"set_or_not": ("expires_at",)},
    # catalog
    "catalog_outlet": {"set_or_not": ("created_at",)},
    "catalog_donor": {"set_or_not": ("created_at",)},
    "catalog_item": {"set_or_not": ("created_at",)},
    "catalog_stock_movement": {"set_or_not": ("at",)},  # now() when moved
    # mall
    "mall_community": {"set_or_not": ("created_at",)},
    "mall_resident": {"set_or_not": ("created_at",)},
    "mall_user": {"set_or_not": ("created_at", "locked_until")},
    "mall_session": {
        "set_or_not": (
            "token_hash",  # the hash of a random token
            "created_at",
            "expires_at",
        ),
    },
    "mall_code": {
        "named": ("ident",),  # random, signed into the code
        "set_or_not": (
            "created_at",
            "expires_at",  # now() + the code's lifetime
            "used_at",  # the checkout's moment: set or not is what matters
            "revoked_at",
            "pin_hash",  # argon2 with a random salt
            "approved_at",  # now() when a second staff member approved a printed card
        ),
    },
    "mall_audit": {"set_or_not": ("at",)},
    "mall_throttle": {"set_or_not": ("reset_at",)},
    "mall_order": {
        "named": ("code_ident",),  # the pay code's random ident
        "set_or_not": ("created_at", "refunded_at"),
    },
    "mall_reservation": {"set_or_not": ("created_at", "expires_at", "closed_at")},
    "mall_refund": {"set_or_not": ("created_at",)},  # now() when refunded
    "mall_message": {"set_or_not": ("created_at", "read_at", "sent_at")},  # now() when written
}

#: Tables not compared: Piccolo's record of the migrations run.
NOT_COMPARED = frozenset({"migration"})


async def table_names(db: Database) -> list[str]:
    async with db.connection() as conn:
        if conn.dialect == "postgres":
            rows = await conn.fetch(
                "SELECT table_name AS name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1"
            )
        else:
            rows = await conn.fetch(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY 1"
            )
    return [r["name"] for r in rows if r["name"] not in NOT_COMPARED]


async def code_names(db: Database) -> dict[str, str]:
    """Each code's random ident → ``code#<id>``, the same in two databases built alike."""
    async with db.connection() as conn:
        rows = await conn.fetch("SELECT id, ident FROM mall_code ORDER BY id")
    return {r["ident"]: f"code#{r['id']}" for r in rows}


async def table_rows(
    db: Database, names: dict[str, str] | None = None, tables: list[str] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table (or of ``tables``), ordered by id (or key), with the columns of
    ``EXPECTED_TO_DIFFER`` reduced to what two runs should still agree on."""
    names = await code_names(db) if names is None else names
    rows_of: dict[str, list[dict[str, Any]]] = {}
    async with db.connection() as conn:
        for table in tables or await table_names(db):
            differ = EXPECTED_TO_DIFFER.get(table, {})
            # by the first column: the id, or the key of a table without one (mall_opening_given)
            rows = [dict(r) for r in await conn.fetch(f'SELECT * FROM "{table}" ORDER BY 1')]
            for row in rows:
                for column in differ.get("set_or_not", ()):
                    row[column] = "<NULL>" if row[column] is None else "<set>"
                for column in differ.get("named", ()):
                    row[column] = names.get(row[column], row[column])
            rows_of[table] = rows
    return rows_of


def row_differences(
    left: dict[str, list[dict[str, Any]]],
    right: dict[str, list[dict[str, Any]]],
    labels: tuple[str, str] = ("left", "right"),
) -> list[str]:
    """What differs, one line per column of a row: ``mall_order id=2 total: 31 (left) != 30
    (right)``; a row only one side has is shown whole."""
    a, b = labels
    out = []
    for table in sorted(set(left) | set(right)):
        rows_a = {r["id"]: r for r in left.get(table, [])}
        rows_b = {r["id"]: r for r in right.get(table, [])}
        for row_id in sorted(set(rows_a) | set(rows_b)):
            ra, rb = rows_a.get(row_id), rows_b.get(row_id)
            if ra is None or rb is None:
                only, row = (a, rb) if ra is None else (b, ra)
                out.append(f"{table} id={row_id}: missing in {only}: {row}")
                continue
            for column in ra:
                if ra[column] != rb.get(column):
                    out.append(
                        f"{table} id={row_id} {column}: "
                        f"{ra[column]!r} ({a}) != {rb.get(column)!r} ({b})"
                    )
    return out


def assert_same_rows(rows: dict[str, dict[str, list[dict[str, Any]]]]) -> None:
    """``rows``: two labels → ``table_rows`` of each database; fails listing what differs."""
    (a, left), (b, right) = rows.items()
    differences = row_differences(left, right, (a, b))
    assert not differences, "the paths wrote different rows:\n" + "\n".join(differences)


def outcome(result: Any) -> Any:
    """What a call returned, or the class and arguments of what it raised, comparable across two
    databases: dataclasses and Structs as dicts, without the clock's ``created_at`` and
    ``expires_at``."""
    if isinstance(result, BaseException):
        return (
            f"{type(result).__module__}.{type(result).__qualname__}",
            result.args,
            {k: v for k, v in vars(result).items() if not k.startswith("__")},
        )
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return outcome(dataclasses.asdict(result))
    if isinstance(result, msgspec.Struct):
        return outcome(msgspec.structs.asdict(result))
    if isinstance(result, dict):
        return {k: outcome(v) for k, v in result.items() if k not in ("created_at", "expires_at")}
    if isinstance(result, list | tuple):
        return [outcome(v) for v in result]
    return result


def assert_same_outcomes(outcomes: dict[str, list[tuple[str, Any]]]) -> None:
    """``outcomes``: two labels → ``(call, outcome)`` of each run; fails listing what differs."""
    (a, left), (b, right) = outcomes.items()
    assert [what for what, _ in left] == [what for what, _ in right]
    differences = [
        f"{what}:\n    {one!r} ({a})\n    {other!r} ({b})"
        for (what, one), (_, other) in zip(left, right, strict=True)
        if one != other
    ]
    assert not differences, "the calls came out differently:\n" + "\n".join(differences)


async def check_expected_to_differ(db: Database) -> None:
    """Every table and column ``EXPECTED_TO_DIFFER`` names is in the schema."""
    async with db.connection() as conn:
        for table, differ in EXPECTED_TO_DIFFER.items():
            if conn.dialect == "postgres":
                sql = "SELECT column_name AS name FROM information_schema.columns WHERE table_name = ?"
            else:
                sql = "SELECT name FROM pragma_table_info(?)"
            columns = {r["name"] for r in await conn.fetch(sql, table)}
            assert columns, f"EXPECTED_TO_DIFFER names a table {table!r} the schema lacks"
            for column in (*differ.get("set_or_not", ()), *differ.get("named", ())):
                assert column in columns, f"EXPECTED_TO_DIFFER: {table}.{column} is not a column"


# Principals --------------------------------------------------------------------------------
# Tests make the principal a session would give, without signing in. ``support.staff(...)``
# rather than a bare name: tests name their own variables ``staff`` and ``resident``.


def admin(username: str = "admin", user_id: int | None = None) -> Admin:
    """A street administrator; without ``user_id``, the server itself (as the CLI acts)."""
    return Admin(user_id=user_id, username=username)


ADMIN = admin()


def staff(user_id: int, community_id: int, slug: str, username: str = "staff") -> Staff:
    return Staff(user_id=user_id, username=username, community_id=community_id, community_slug=slug)


def volunteer(
    user_id: int,
    community_id: int,
    slug: str,
    username: str = "volunteer",
    outlets: frozenset[int] | None = None,
) -> Volunteer:
    return Volunteer(
        user_id=user_id,
        username=username,
        community_id=community_id,
        community_slug=slug,
        outlets=outlets,
    )


def resident(resident_id: int, community_id: int, slug: str, name: str = "") -> ResidentPrincipal:
    """A resident's own session (``community_id`` 0 where the service under test reads none)."""
    return ResidentPrincipal(
        resident_id=resident_id, community_id=community_id, community_slug=slug, name=name
    )
