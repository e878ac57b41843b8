"""Fixtures: a fresh, migrated database for every test, on the engine ``MALL_DATABASE_URL`` names.

SQLite (the default): the schema is migrated once into a template file, copied for each test.
PostgreSQL: the URL names a server and a maintenance database; the schema is migrated once into
a template database and a test gets ``CREATE DATABASE ... TEMPLATE`` of it. Creating one took
0.3-0.5 s, most of a test's time, so a database a test has finished with is emptied (every row
deleted, every sequence back at 1: about 10 ms) and given to the next test, unless its schema no
longer matches the template's (a test that changed a table, a trigger or a function): then it is
dropped.
Migrations run in a subprocess through ``mall migrate``, exactly as a user would run them.
"""

from __future__ import annotations

import functools
import itertools
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import pytest

# argon2id with its smallest parameters: hashing took over half of the run (mall/people/auth.py).
# Set before mall is imported; the servers the tests start inherit it.
os.environ.setdefault("MALL_PASSWORD_HASH", "fast")

from mall.db import Database, dialect_of, open_database
from mall.settings import get_settings

ENGINE_URL = os.environ.get("MALL_DATABASE_URL", "")
ENGINE = dialect_of(ENGINE_URL) if ENGINE_URL else "sqlite"
_counter = itertools.count()
T = TypeVar("T")
#: PostgreSQL: emptied databases of this process, ready for the next test
_clean: list[str] = []
#: what a database's schema must still be to be emptied and reused: relations, columns,
#: constraints, triggers and functions, and the migrations recorded
SCHEMA_PRINT = """
SELECT md5(string_agg(x, ',' ORDER BY x)) FROM (
  SELECT c.relname || ':' || c.relkind::text FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
  UNION ALL
  SELECT a.attrelid::regclass::text || '.' || a.attname || ':' || a.atttypid::text || ':' || a.attnotnull::text
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT conname || ':' || md5(pg_get_constraintdef(oid)) FROM pg_constraint
  WHERE connamespace = 'public'::regnamespace
  UNION ALL
  SELECT t.tgname || ':' || t.tgenabled::text || ':' || t.tgfoid::text FROM pg_trigger t
  JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = 'public'::regnamespace
  UNION ALL
  SELECT p.proname || ':' || md5(p.prosrc) FROM pg_proc p
  WHERE p.pronamespace = 'public'::regnamespace
  UNION ALL
  SELECT 'migrations:' || (SELECT string_agg(name || app_name, ',' ORDER BY id) FROM migration)
) s(x)
"""


def run_mall(
    *args: str, url: str, stdin: str | None = None, check: bool = True, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the ``mall`` command in a subprocess against ``url``."""
    env = {**os.environ, "MALL_DATABASE_URL": url, "PICCOLO_CONF": "mall.piccolo_conf"}
    return subprocess.run(
        [sys.executable, "-m", "mall.cli", *args],
        env=env,
        input=stdin,
        text=True,
        capture_output=True,
        check=check,
        cwd=cwd,
        timeout=300,
    )


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def pg_admin(url: str, *statements: str) -> None:
    """Run statements outside any transaction, in a thread of its own (a test may hold a loop)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(url)
        try:
            for sql in statements:
                await conn.execute(sql)
        finally:
            await conn.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()


@pytest.fixture(scope="session")
def template_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if ENGINE == "sqlite":
        path = tmp_path_factory.mktemp("template") / "template.db"
        url = f"sqlite:///{path}"
        run_mall("migrate", url=url)
        yield url
        return
    name = f"mall_tpl_{os.getpid()}"
    pg_admin(ENGINE_URL, f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}")
    url = with_database(ENGINE_URL, name)
    run_mall("migrate", url=url)
    yield url
    for clean in _clean:
        pg_admin(ENGINE_URL, f"DROP DATABASE IF EXISTS {clean} WITH (FORCE)")
    pg_admin(ENGINE_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _on(url: str, work: Callable[[Any], Awaitable[T]]) -> T:
    """``work(connection)`` on a connection of its own to ``url``, in a thread of its own."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    import asyncpg

    async def run() -> T:
        conn = await asyncpg.connect(url)
        try:
            return await work(conn)
        finally:
            await conn.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


async def _schema_print(conn: Any) -> str:
    return str(await conn.fetchval(SCHEMA_PRINT))


def _emptied(url: str, template_print: str) -> bool:
    """Empty the database at ``url`` for the next test, if its schema is still the template's
    (False when it is not: then it must go). Other connections to it are ended first, and the
    append-only triggers, which refuse a DELETE, are off for this one session only
    (``session_replication_role``, as a restore does)."""

    async def empty(conn: Any) -> bool:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        if await _schema_print(conn) != template_print:
            return False
        tables = await conn.fetch(
            "SELECT quote_ident(tablename) AS t FROM pg_tables "
            "WHERE schemaname = 'public' AND tablename <> 'migration'"
        )
        deletes = "; ".join(f"DELETE FROM {r['t']}" for r in tables)
        # DELETE, not TRUNCATE: a test leaves a few rows, and TRUNCATE makes new files for
        # every table and index (0.1-0.7 s); DELETE of a few rows takes about 10 ms
        await conn.execute(
            f"SET session_replication_role = replica; {deletes}; "
            "SELECT setval(c.oid, 1, false) FROM pg_class c WHERE c.relkind = 'S' "
            "AND c.relnamespace = 'public'::regnamespace AND c.relname <> 'migration_id_seq'"
        )
        return True

    try:
        return _on(url, empty)
    except Exception:  # noqa: BLE001  (anything amiss: drop it, the next test gets a new one)
        return False


@pytest.fixture
def db_url(new_db_url: Callable[[], str]) -> str:
    """The URL of a fresh database holding the migrated, empty schema."""
    return new_db_url()


@pytest.fixture
def new_db_url(template_url: str, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """``new_db_url()``: the URL of one more fresh database holding the migrated, empty schema
    (a test comparing two databases calls it twice); all are removed after the test."""

    def make() -> str:
        n = next(_counter)
        if ENGINE == "sqlite":
            path = tmp_path / f"mall-{n}.db"
            shutil.copyfile(template_url.removeprefix("sqlite:///"), path)
            return f"sqlite:///{path}"
        if _clean:
            name = _clean.pop()
        else:
            name = f"mall_t_{os.getpid()}_{n}"
            template = urlsplit(template_url).path.lstrip("/")
            pg_admin(ENGINE_URL, f"CREATE DATABASE {name} TEMPLATE {template}")
        used.append(name)
        return with_database(ENGINE_URL, name)

    used: list[str] = []
    yield make
    if not used:
        return
    template_print = _template_print(template_url)
    for name in used:
        if _emptied(with_database(ENGINE_URL, name), template_print):
            _clean.append(name)
        else:
            pg_admin(ENGINE_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@functools.cache
def _template_print(template_url: str) -> str:
    return _on(template_url, _schema_print)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = open_database(db_url)
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def setting(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str, str], None]]:
    """``setting(name, value)``: set a ``MALL_*`` variable for this test; the settings are read
    again at once, and again after the test, once the variable is back as it was."""

    def set_to(name: str, value: str) -> None:
        monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield set_to
    monkeypatch.undo()
    get_settings.cache_clear()


#: ``MALL_TEST_BROWSER=0`` leaves the browser tests out of a run that has other tests to run.
#: ``scripts/test`` sets it for its PostgreSQL run: the pages' behaviour is the same on both
#: engines (every service, API and page test runs on both), and Chromium's share of two cores made
#: that run the CI's long pole. A run of nothing but browser tests keeps them (never an empty run).
BROWSER_TESTS = "tests/browser/"
_LEFT_OUT = pytest.StashKey[int]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("MALL_TEST_BROWSER") != "0":
        return
    browser = [item for item in items if item.nodeid.startswith(BROWSER_TESTS)]
    if not browser or len(browser) == len(items):
        return
    config.hook.pytest_deselected(items=browser)
    items[:] = [item for item in items if not item.nodeid.startswith(BROWSER_TESTS)]
    config.stash[_LEFT_OUT] = len(browser)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    left_out = config.stash.get(_LEFT_OUT, 0)
    if left_out:
        terminalreporter.write_line(
            f"{left_out} browser tests left out of this run (MALL_TEST_BROWSER=0); "
            "they run in the SQLite run of scripts/test"
        )
