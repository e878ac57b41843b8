"""Fixtures: a fresh, migrated database for every test, on the engine ``MALL_DATABASE_URL`` names.

SQLite (the default): the schema is migrated once into a template file, copied for each test.
PostgreSQL: the URL names a server and a maintenance database; the schema is migrated once into
a template database and each test gets ``CREATE DATABASE ... TEMPLATE`` of it, dropped afterwards.
Migrations run in a subprocess through ``mall migrate``, exactly as a user would run them.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
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
    pg_admin(ENGINE_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def db_url(new_db_url: Callable[[], str]) -> str:
    """The URL of a fresh database holding the migrated, empty schema."""
    return new_db_url()


@pytest.fixture
def new_db_url(template_url: str, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """``new_db_url()``: the URL of one more fresh database holding the migrated, empty schema
    (a test comparing two databases calls it twice); all are removed after the test."""
    dropped: list[str] = []

    def make() -> str:
        n = next(_counter)
        if ENGINE == "sqlite":
            path = tmp_path / f"mall-{n}.db"
            shutil.copyfile(template_url.removeprefix("sqlite:///"), path)
            return f"sqlite:///{path}"
        name = f"mall_t_{os.getpid()}_{n}"
        template = urlsplit(template_url).path.lstrip("/")
        pg_admin(ENGINE_URL, f"CREATE DATABASE {name} TEMPLATE {template}")
        dropped.append(name)
        return with_database(ENGINE_URL, name)

    yield make
    for name in dropped:
        pg_admin(ENGINE_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


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
