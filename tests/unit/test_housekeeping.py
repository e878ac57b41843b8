"""``mall housekeeping``: overdue reservations lapse, what served its time is deleted, a second
run finds nothing, and two runs at once never do the work twice."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from mall.access import throttle
from mall.counter import reservations
from mall.db import Database, open_database, sqlite_path
from mall.housekeeping import LOCK_KEY, Done, run
from mall.people import auth, credentials, uploads
from tests.conftest import ENGINE, run_mall
from tests.shop_fixtures import SLUGS, Shop, build_shop

LONG_AGO = datetime.now(UTC) - timedelta(days=400)


async def backdate(db: Database, sql: str, *args: object) -> None:
    async with db.transaction() as conn:
        await conn.execute(sql, *args)


async def count(db: Database, sql: str) -> int:
    async with db.connection() as conn:
        return int(await conn.fetchval(sql))


async def reserve(shop: Shop, rid: int, key: str) -> int:
    made = await reservations.reserve(
        shop.db, shop.resident(rid), shop.outlet, [("soap", 1)], idempotency_key=key, req_hash=key
    )
    return made.id


async def test_housekeeping_deletes_what_served_its_time_and_a_second_run_finds_nothing(
    db: Database, db_url: str
) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("李海", 100)
    await credentials.new_pay_code(db, shop.resident(rid))  # fresh: stays
    await credentials.new_pay_code(db, shop.resident(rid))  # made old below
    await credentials.issue_activation(db, shop.staff, rid)
    async with db.transaction() as conn:
        for _ in ("recent", "made old below"):
            await auth.create_session(conn, "resident", resident_id=rid, ttl=timedelta(days=1))
        await throttle.hit(conn, "sign-in:old", limit=5, window=timedelta(minutes=1))
        await throttle.hit(conn, "sign-in:now", limit=5, window=timedelta(minutes=10))
    await backdate(db, "UPDATE mall_code SET expires_at = ? WHERE id = "
                   "(SELECT MAX(id) FROM mall_code WHERE kind = 'pay')", LONG_AGO)  # fmt: skip
    await backdate(db, "UPDATE mall_code SET expires_at = ? WHERE kind = 'activation'", LONG_AGO)
    await backdate(db, "UPDATE mall_session SET expires_at = ? WHERE id = "
                   "(SELECT MAX(id) FROM mall_session)", LONG_AGO)  # fmt: skip
    await backdate(db, "UPDATE mall_throttle SET reset_at = ? WHERE key = 'sign-in:old'", LONG_AGO)
    for name in ("left.xlsx", "just now.xlsx"):  # previewed, never confirmed
        await uploads.keep(db, shop.staff, SLUGS["a"], "roster", name, b"PK")
    await backdate(
        db, "UPDATE mall_upload SET created_at = ? WHERE filename = 'left.xlsx'", LONG_AGO
    )

    first = run_mall("housekeeping", url=db_url)
    assert (
        "0 reservations lapsed, 1 pay codes, 1 activation papers, 1 sessions and "
        "1 rate-limit counters deleted; 1 spreadsheets kept for a preview deleted" in first.stdout
    ), first.stdout
    second = run_mall("housekeeping", url=db_url)
    assert "0 pay codes, 0 activation papers, 0 sessions and 0 rate-limit counters" in second.stdout
    assert await count(db, "SELECT COUNT(*) FROM mall_code WHERE kind = 'pay'") == 1
    assert await count(db, f"SELECT COUNT(*) FROM mall_session WHERE resident = {rid}") == 1
    assert await count(db, "SELECT COUNT(*) FROM mall_throttle") == 1
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT filename FROM mall_upload") == "just now.xlsx"
    assert "no problems found" in run_mall("verify", url=db_url).stdout


async def test_overdue_reservations_lapse_and_give_back_points_and_goods(
    db: Database, db_url: str
) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("王芳", 100)
    await reserve(shop, rid, "r1")
    later = datetime.now(UTC) + timedelta(days=reservations.lapse_days(), minutes=1)
    assert (await run(db, db_url, later)).lapsed == 1
    assert (await run(db, db_url, later)).lapsed == 0
    assert await shop.balance(rid) == 100 and await shop.level("soap") == 50


@contextlib.asynccontextmanager
async def lock_held_elsewhere(db_url: str) -> AsyncIterator[None]:
    """The housekeeping lock, taken the way another run would take it."""
    if ENGINE == "sqlite":
        with open(sqlite_path(db_url) + ".housekeeping.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        return
    other = open_database(db_url)
    try:
        async with other.connection() as conn:
            assert await conn.fetchval("SELECT pg_try_advisory_lock(?)", LOCK_KEY)
            yield
            await conn.fetchval("SELECT pg_advisory_unlock(?)", LOCK_KEY)
    finally:
        await other.close()


async def test_a_run_that_finds_another_under_way_does_nothing(db: Database, db_url: str) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("赵六", 100)
    await reserve(shop, rid, "r1")
    later = datetime.now(UTC) + timedelta(days=reservations.lapse_days(), minutes=1)
    async with lock_held_elsewhere(db_url):
        assert await run(db, db_url, later) == Done(ran=False)
        said = run_mall("housekeeping", url=db_url)
        assert "another housekeeping run is under way" in said.stdout
    assert (await run(db, db_url, later)).lapsed == 1  # once the lock is free


async def test_two_runs_at_once_lapse_each_reservation_once(db: Database, db_url: str) -> None:
    shop = await build_shop(db)
    for n in range(5):
        await reserve(shop, await shop.new_resident(f"居民{n}", 100), f"r{n}")
    later = datetime.now(UTC) + timedelta(days=reservations.lapse_days(), minutes=1)
    second = open_database(db_url)
    try:
        done = await asyncio.gather(run(db, db_url, later), run(second, db_url, later))
    finally:
        await second.close()
    assert sum(d.lapsed for d in done) == 5
    assert await shop.level("soap") == 50
    assert "no problems found" in run_mall("verify", url=db_url).stdout
