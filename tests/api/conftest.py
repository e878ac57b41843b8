"""Fixtures for the JSON API: the world built once, copied into one database and app per module.

Hashing a password is the slow part (about 50 ms on a quiet machine, ten times that on a busy
one), so the people of ``tests.api.world`` are built once per session into a seed database, and
each test module gets a copy of it (a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on
PostgreSQL) that its tests share. A test that needs a clean slate (the rate limits) takes the
per-test ``db_url`` through ``fresh_api``. A caller's bearer token is a fresh session each time
it is asked for, so a test that signs out or changes a password never spoils the next one.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from litestar.testing import TestClient

from mall.db import open_database
from tests.api.helpers import Api
from tests.api.world import World, build, new_token
from tests.conftest import ENGINE, ENGINE_URL, pg_admin, with_database
from web.app import create_app

_counter = itertools.count()


def copy_database(source_url: str, directory: Path) -> str:
    """A new database holding what ``source_url`` holds; no one may be connected to the source."""
    if ENGINE == "sqlite":
        path = directory / f"mall-{next(_counter)}.db"
        shutil.copyfile(source_url.removeprefix("sqlite:///"), path)
        return f"sqlite:///{path}"
    name = f"mall_api_{os.getpid()}_{next(_counter)}"
    source = urlsplit(source_url).path.lstrip("/")
    pg_admin(ENGINE_URL, f"CREATE DATABASE {name} TEMPLATE {source}")
    return with_database(ENGINE_URL, name)


def drop_database(url: str) -> None:
    if ENGINE != "sqlite":
        name = urlsplit(url).path.lstrip("/")
        pg_admin(ENGINE_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def _build_into(url: str) -> World:
    db = open_database(url)
    try:
        return await build(db)
    finally:
        await db.close()


@pytest.fixture(scope="session")
def seed(
    template_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, World]]:
    """The URL of a database holding the world, and the world; never used directly."""
    url = copy_database(template_url, tmp_path_factory.mktemp("seed"))
    world = asyncio.run(_build_into(url))
    yield url, world
    drop_database(url)


@pytest.fixture(scope="module")
def world(seed: tuple[str, World]) -> World:
    return seed[1]


@pytest.fixture(scope="module")
def api(seed: tuple[str, World], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The app on this module's own copy of the world."""
    url = copy_database(seed[0], tmp_path_factory.mktemp("api"))
    try:
        with TestClient(create_app(url)) as client:
            yield Api(client)
    finally:
        drop_database(url)


@pytest.fixture
def token(api: Api, world: World) -> Callable[[str], str]:
    """``token("staff-a")``: a fresh bearer token for a caller of the world."""
    return lambda who: api.run(new_token, world, who)


@pytest.fixture
def fresh_api(db_url: str) -> Iterator[Api]:
    """An app on an empty database of its own, for tests that use up a rate limit."""
    with TestClient(create_app(db_url)) as client:
        yield Api(client)
