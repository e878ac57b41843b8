"""Expired points go back to the budget, one journal per resident per cutoff: ``mall
housekeeping`` runs it, a second run posts nothing, two runs at once (on real connections, with
and without the housekeeping lock) post one journal per resident, and the books stay true."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

import ledger
import ledger.journals
from mall import days
from mall.db import Database, open_database
from mall.earning import expiring
from mall.housekeeping import run
from mall.org import points, policy
from tests.conftest import run_mall
from tests.shop_fixtures import ADMIN, SLUGS, Shop, build_shop
from tests.support import race

EARNED = date(2025, 3, 1)
RUN_AT = days.midnight(date(2026, 1, 2)) + timedelta(hours=3)


async def year_end_since_long_ago(db: Database, slug: str = SLUGS["a"]) -> None:
    await policy.set_policy(db, ADMIN, slug, expiry="year_end")
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE mall_community SET expiry_since = ? WHERE slug = ?",
            datetime(2024, 1, 1, tzinfo=UTC),
            slug,
        )


async def earn(shop: Shop, rid: int, amount: int, key: str) -> None:
    async with shop.db.transaction() as conn:
        await ledger.post_journal(
            conn,
            shop.book,
            "award",
            [(points.BUDGET, -amount), (points.wallet(rid), amount)],
            idempotency_key=key,
        )


async def books(db: Database) -> list[tuple[str, int, int]]:
    async with db.connection() as conn:
        rows = await conn.fetch("SELECT code, balance, version FROM ledger_account ORDER BY id")
    return [(r["code"], int(r["balance"]), int(r["version"])) for r in rows]


async def expiry_journals(db: Database) -> list[str]:
    async with db.connection() as conn:
        rows = await conn.fetch(
            "SELECT idempotency_key FROM ledger_journal WHERE kind = 'expiry' ORDER BY id"
        )
    return [r["idempotency_key"] for r in rows]


@pytest.fixture
async def shop(db: Database, monkeypatch: pytest.MonkeyPatch) -> Shop:
    built = await build_shop(db)
    await year_end_since_long_ago(db)
    monkeypatch.setattr(ledger.journals, "now", lambda: days.midnight(EARNED))
    return built


async def residents(shop: Shop, n: int) -> list[int]:
    """``n`` residents who earned 40 points in 2025 and spent 15 of them, and 10 in 2026."""
    made = []
    for i in range(n):
        rid = await shop.new_resident(f"居民{i}", 0)
        await earn(shop, rid, 40, f"e{rid}")
        async with shop.db.transaction() as conn:
            await ledger.post_journal(
                conn,
                shop.book,
                "redemption",
                [(points.wallet(rid), -15), (points.redeemed(shop.outlet, rid), 15)],
                idempotency_key=f"s{rid}",
            )
        made.append(rid)
    return made


async def test_housekeeping_returns_expired_points_to_the_budget_and_a_second_run_posts_nothing(
    shop: Shop, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rids = await residents(shop, 3)
    other = await shop.new_resident("外社区", 30, community="b")
    monkeypatch.setattr(ledger.journals, "now", lambda: RUN_AT)
    for rid in rids:
        await earn(shop, rid, 10, f"new{rid}")
    async with shop.db.connection() as conn:
        budget = (await ledger.get_balance(conn, shop.book, points.BUDGET)).balance
    done = await run(shop.db, db_url, RUN_AT)
    assert done.ran and done.expired == 3
    assert [await shop.balance(rid) for rid in rids] == [10, 10, 10]
    async with shop.db.connection() as conn:
        book_b = await conn.fetchval("SELECT book FROM mall_community WHERE slug = 'shop-b'")
        kept = await ledger.get_balance(conn, book_b, points.wallet(other))
    assert kept.balance == 30  # community b's points never expire
    async with shop.db.connection() as conn:
        assert (await ledger.get_balance(conn, shop.book, points.BUDGET)).balance == budget + 75
        entry = (await ledger.get_statement(conn, shop.book, points.wallet(rids[0]))).entries[0]
    assert (entry.kind, entry.amount, entry.memo) == ("expiry", -25, "2025-12-31 到期")
    assert await expiry_journals(shop.db) == [f"expiry:r{rid}:2026-01-01" for rid in rids]
    after = await books(shop.db)
    again = await run(shop.db, db_url, RUN_AT + timedelta(hours=5))
    assert again.ran and again.expired == 0
    assert await books(shop.db) == after
    assert "no problems found" in run_mall("verify", url=db_url).stdout


async def test_the_command_says_how_many_residents_points_expired(shop: Shop, db_url: str) -> None:
    await residents(shop, 2)  # earned in 2025: long expired by now
    first = run_mall("housekeeping", url=db_url)
    assert "2 residents' expired points back to the budget" in first.stdout, first.stdout
    second = run_mall("housekeeping", url=db_url)
    assert "0 residents' expired points back to the budget" in second.stdout, second.stdout


@pytest.mark.parametrize("locked", [True, False], ids=["housekeeping", "expiry step alone"])
async def test_runs_at_once_on_real_connections_post_one_journal_per_resident(
    shop: Shop, db_url: str, monkeypatch: pytest.MonkeyPatch, locked: bool
) -> None:
    rids = await residents(shop, 6)
    monkeypatch.setattr(ledger.journals, "now", lambda: RUN_AT)

    async def work(db: Database, _: int) -> int:
        if not locked:
            return await expiring.expire_points(db, RUN_AT)
        # a run holds its lock on one connection and works on others: a pool of its own
        own = open_database(db_url)
        try:
            return (await run(own, db_url, RUN_AT)).expired
        finally:
            await own.close()

    results = race(db_url, 4, work)
    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 6
    assert sorted(await expiry_journals(shop.db)) == sorted(
        f"expiry:r{rid}:2026-01-01" for rid in rids
    )
    assert [await shop.balance(rid) for rid in rids] == [0] * 6
    assert "no problems found" in run_mall("verify", url=db_url).stdout


async def test_points_under_a_reservation_stay_and_only_what_is_available_expires(
    shop: Shop, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (rid,) = await residents(shop, 1)
    async with shop.db.transaction() as conn:
        await ledger.place_hold(
            conn,
            shop.book,
            points.wallet(rid),
            20,
            expires_at=datetime.now(UTC) + timedelta(days=400),
            idempotency_key="hold",
        )
    monkeypatch.setattr(ledger.journals, "now", lambda: RUN_AT)
    assert await expiring.expire_points(shop.db, RUN_AT) == 1
    async with shop.db.connection() as conn:
        assert await ledger.held_amount(conn, shop.book, points.wallet(rid)) == 20
    assert await shop.balance(rid) == 0
