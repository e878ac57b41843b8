"""``mall backup`` and ``mall restore``, run as an operator runs them, on the engine under test."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mall.counter import checkout
from mall.db import Database, open_database
from tests.conftest import ENGINE, ENGINE_URL, pg_admin, run_mall, with_database
from tests.shop_fixtures import build_shop
from tests.unit.test_cli import tamper

SUFFIX = ".sqlite" if ENGINE == "sqlite" else ".dump"


@pytest.fixture
def empty_target(tmp_path: Path) -> Iterator[str]:
    """The URL of a database to restore into: no schema, no rows."""
    if ENGINE == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    name = f"mall_restored_{os.getpid()}"
    pg_admin(ENGINE_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}")
    yield with_database(ENGINE_URL, name)
    pg_admin(ENGINE_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def order_ids(url: str) -> set[int]:
    db = open_database(url)
    try:
        async with db.connection() as conn:
            return {int(r["id"]) for r in await conn.fetch("SELECT id FROM mall_order")}
    finally:
        await db.close()


async def test_a_backup_taken_under_load_restores_every_order_acknowledged_before_it(
    db: Database, db_url: str, empty_target: str, tmp_path: Path
) -> None:
    shop = await build_shop(db, budget=2_000_000)
    residents = [await shop.new_resident(f"居民{n}", 300_000) for n in range(6)]
    acknowledged: list[tuple[float, int]] = []  # (when the counter was told, order id)
    stop = asyncio.Event()

    async def counter(resident_id: int) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            done = await checkout.checkout(
                db,
                shop.volunteer,
                shop.outlet,
                code=await shop.pay_code(resident_id),
                lines=[("haircut", 1)],
                idempotency_key=f"load:{resident_id}:{n}",
                req_hash=f"load:{resident_id}:{n}",
            )
            acknowledged.append((time.monotonic(), done.id))
            await asyncio.sleep(0.005)  # a busy counter, not a benchmark

    counters = [asyncio.create_task(counter(rid)) for rid in residents]
    while len(acknowledged) < 30:  # the counters are busy before the backup starts
        await asyncio.sleep(0.01)
    folder = tmp_path / "backups"
    env = {**os.environ, "MALL_DATABASE_URL": db_url, "PICCOLO_CONF": "mall.piccolo_conf"}
    began = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mall.cli", "backup", str(folder),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    during = sum(1 for at, _ in acknowledged if at > began)
    stop.set()
    await asyncio.gather(*counters)
    assert proc.returncode == 0, err.decode()
    assert "backed up and verified" in out.decode()
    assert during > 0, "no checkout ran while the backup was taken: the test proves nothing"
    [copy] = list(folder.iterdir())
    assert copy.name.startswith("mall-") and copy.name.endswith(SUFFIX)

    restored = run_mall("restore", str(copy), url=empty_target)
    assert "restored and verified" in restored.stdout
    assert "no problems found" in run_mall("verify", url=empty_target).stdout
    before = {order for at, order in acknowledged if at < began}
    kept = await order_ids(empty_target)
    assert before <= kept, sorted(before - kept)
    assert kept <= {order for _, order in acknowledged}  # nothing that was never acknowledged


def test_backup_keeps_the_newest_copies_it_is_told_to(db_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "usb"
    for _ in range(3):
        run_mall("backup", str(folder), "--keep", "2", url=db_url)
    copies = sorted(p.name for p in folder.iterdir())
    assert len(copies) == 2 and all(name.endswith(SUFFIX) for name in copies), copies
    last = run_mall("backup", str(folder), "--keep", "2", url=db_url)
    assert f"removed an older backup: {folder / copies[0]}" in last.stdout
    assert copies[1] in {p.name for p in folder.iterdir()}


def test_a_copy_that_does_not_verify_is_reported_and_not_kept(db_url: str, tmp_path: Path) -> None:
    run_mall("demo", url=db_url)
    tamper(db_url)
    folder = tmp_path / "backups"
    failed = run_mall("backup", str(folder), url=db_url, check=False)
    assert failed.returncode == 1
    assert "ledger_posting #7: hash chain" in failed.stderr
    assert list(folder.iterdir()) == []


def test_restore_refuses_a_bad_copy_and_a_database_with_journals_unless_told(
    db_url: str, empty_target: str, tmp_path: Path
) -> None:
    run_mall("demo", url=db_url)
    good = tmp_path / "good"
    run_mall("backup", str(good), url=db_url)
    [copy] = list(good.iterdir())
    # a database that already holds journals is not overwritten by accident
    run_mall("demo", url=empty_target)
    refused = run_mall("restore", str(copy), url=empty_target, check=False)
    assert refused.returncode == 1 and "--replace" in refused.stderr
    assert (
        "restored and verified"
        in run_mall("restore", str(copy), "--replace", url=empty_target).stdout
    )
    # a file that is not a backup at all
    junk = tmp_path / f"mall-junk{SUFFIX}"
    junk.write_bytes(b"not a database" * 100)
    bad = run_mall("restore", str(junk), "--replace", url=empty_target, check=False)
    assert bad.returncode == 1 and "not restored" in bad.stderr
    assert "no problems found" in run_mall("verify", url=empty_target).stdout
