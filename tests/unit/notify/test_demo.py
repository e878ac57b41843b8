"""``mall demo`` holds issue #20's community: announcements to the whole community and to one
grid, ratings of resolved submissions that the statistics count, and residents' inboxes filled
by the events the demo made."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mall.access import Admin
from mall.db import open_database
from mall.reports import stats
from tests.conftest import ENGINE, ENGINE_URL, pg_admin, run_mall, with_database


@pytest.fixture
def empty_url(tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it, not even the schema (as tests/unit/test_cli.py's)."""
    if ENGINE == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"mall_empty_notify_{os.getpid()}"
    pg_admin(ENGINE_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}")
    yield with_database(ENGINE_URL, name)
    pg_admin(ENGINE_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def contents(url: str) -> dict[str, Any]:
    db = open_database(url)
    try:
        async with db.connection() as conn:
            found = {
                "announcements": [
                    (r["slug"], r["title"], r["grid"], int(r["recipients"]))
                    for r in await conn.fetch(
                        "SELECT c.slug, a.title, a.grid, a.recipients FROM mall_announcement a "
                        "JOIN mall_community c ON c.id = a.community ORDER BY a.id"
                    )
                ],
                "ratings": int(await conn.fetchval("SELECT COUNT(*) FROM mall_submission_rating")),
                "kinds": {
                    r["kind"] for r in await conn.fetch("SELECT DISTINCT kind FROM mall_message")
                },
            }
        report = await stats.street_report(db, Admin(user_id=None, username="test"))
        found["stats"] = report.total.figures
    finally:
        await db.close()
    return found


def test_the_demo_announces_rates_and_fills_the_inboxes(empty_url: str) -> None:
    run_mall("demo", url=empty_url)
    found = asyncio.run(contents(empty_url))
    slugs = {slug for slug, *_ in found["announcements"]}
    assert slugs == {"xingfuli", "heping"}
    assert any(grid is not None for _, _, grid, _ in found["announcements"])
    assert all(n > 0 for *_, n in found["announcements"])
    assert found["ratings"] == 4  # two resolved submissions in each community
    assert found["stats"].ratings == 4 and found["stats"].average_rating == 4.5
    assert {
        "announcement",
        "points_received",
        "points_reversed",
        "submission_resolved",
        "submission_rejected",
        "reservation_ready",
        "objection_dismissed",
    } <= found["kinds"]
