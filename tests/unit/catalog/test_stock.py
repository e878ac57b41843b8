"""Stock levels and movements: the rules, a stocktake, verify after tampering, a Hypothesis
property test of the invariants, and the last units raced by real concurrent connections."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import catalog
from mall.db import Database, open_database
from tests.conftest import ENGINE, run_mall
from tests.support import race

TAKING = ("redemption", "reservation", "adjustment", "stocktake")
GIVING = ("receipt", "donation", "refund", "release", "adjustment", "stocktake")


async def shop(db: Database, community: int = 1) -> tuple[int, dict[str, int]]:
    """An outlet and three goods of one community: (outlet id, {sku: item id})."""
    async with db.transaction() as conn:
        outlet = await catalog.create_outlet(conn, community, "积分超市", "supermarket")
        items = {}
        for sku, name in (("SOAP", "香皂"), ("OIL", "食用油"), ("RICE", "大米")):
            found = await catalog.get_item_by_sku(conn, community, sku)
            if found is None:
                found = await catalog.create_item(
                    conn, community, sku=sku, name=name, kind="goods", price_points=10
                )
            items[sku] = found["id"]
    return outlet["id"], items


async def move(
    db: Database, outlet: int, item: int, quantity: int, reason: str, **kw: Any
) -> catalog.Movement:
    async with db.transaction() as conn:
        return await catalog.move_stock(conn, outlet, item, quantity, reason, **kw)


async def verified(db: Database) -> catalog.StockReport:
    async with db.connection() as conn:
        return await catalog.verify_stock(conn)


async def level(db: Database, outlet: int, item: int) -> int:
    async with db.connection() as conn:
        return await catalog.stock_level(conn, outlet, item)


async def test_movements_keep_a_running_level_and_versions(db: Database) -> None:
    outlet, items = await shop(db)
    first = await move(db, outlet, items["OIL"], 5, "receipt")
    second = await move(db, outlet, items["OIL"], -2, "redemption", reference="order:1")
    assert (first.level_after, second.level_after) == (5, 3)
    async with db.connection() as conn:
        versions = await conn.fetch(
            "SELECT version, level_after FROM catalog_stock_movement ORDER BY id"
        )
    assert [(r["version"], r["level_after"]) for r in versions] == [(1, 5), (2, 3)]
    assert await level(db, outlet, items["OIL"]) == 3
    assert (await verified(db)).ok


async def test_taking_more_than_is_there_is_refused_and_says_what_is_left(db: Database) -> None:
    outlet, items = await shop(db)
    await move(db, outlet, items["OIL"], 2, "receipt")
    with pytest.raises(catalog.OutOfStock) as refused:
        await move(db, outlet, items["OIL"], -3, "redemption")
    assert (refused.value.name, refused.value.level, refused.value.wanted) == ("食用油", 2, 3)
    assert await level(db, outlet, items["OIL"]) == 2


@pytest.mark.parametrize(("quantity", "reason"), [(0, "receipt"), (3, "gift"), (True, "receipt")])
async def test_a_wrong_movement_is_refused(db: Database, quantity: int, reason: str) -> None:
    outlet, items = await shop(db)
    with pytest.raises(catalog.InvalidMovement):
        await move(db, outlet, items["SOAP"], quantity, reason)
    assert (await verified(db)).movements == 0


async def test_a_replayed_key_returns_the_first_movement_and_a_reused_key_is_refused(
    db: Database,
) -> None:
    outlet, items = await shop(db)
    first = await move(
        db, outlet, items["RICE"], 4, "receipt", idempotency_key="k", request_hash="h"
    )
    again = await move(
        db, outlet, items["RICE"], 4, "receipt", idempotency_key="k", request_hash="h"
    )
    assert again.replayed and again.id == first.id and again.level_after == 4
    with pytest.raises(catalog.MovementKeyReused):
        await move(db, outlet, items["RICE"], 9, "receipt", idempotency_key="k", request_hash="x")
    assert await level(db, outlet, items["RICE"]) == 4


async def test_stocktake_posts_the_differences_only(db: Database) -> None:
    outlet, items = await shop(db)
    await move(db, outlet, items["SOAP"], 10, "receipt")
    await move(db, outlet, items["OIL"], 4, "receipt")
    counts = {items["SOAP"]: 7, items["OIL"]: 4, items["RICE"]: 2}
    async with db.transaction() as conn:
        moved = await catalog.stocktake(conn, outlet, counts, 42, "月底盘点")
    assert sorted((m.item_id, m.quantity, m.level_after) for m in moved) == sorted(
        [(items["SOAP"], -3, 7), (items["RICE"], 2, 2)]
    )
    assert {m.reason for m in moved} == {"stocktake"}
    for sku, counted in (("SOAP", 7), ("OIL", 4), ("RICE", 2)):
        assert await level(db, outlet, items[sku]) == counted
    async with db.connection() as conn:
        memo = await conn.fetch(
            "SELECT memo, user_id FROM catalog_stock_movement WHERE reason = 'stocktake'"
        )
    assert {(r["memo"], r["user_id"]) for r in memo} == {("月底盘点", 42)}
    assert (await verified(db)).ok


async def test_a_stocktake_replayed_with_its_key_posts_nothing_more(db: Database) -> None:
    outlet, items = await shop(db)
    await move(db, outlet, items["SOAP"], 10, "receipt")
    counts = {items["SOAP"]: 8}
    async with db.transaction() as conn:
        first = await catalog.stocktake(
            conn, outlet, counts, 1, "", idempotency_key="t", request_hash="h"
        )
    await move(db, outlet, items["SOAP"], -1, "redemption")
    async with db.transaction() as conn:
        again = await catalog.stocktake(
            conn, outlet, counts, 1, "", idempotency_key="t", request_hash="h"
        )
        with pytest.raises(catalog.MovementKeyReused):
            await catalog.stocktake(
                conn, outlet, {items["SOAP"]: 3}, 1, "", idempotency_key="t", request_hash="x"
            )
    assert [m.id for m in again] == [m.id for m in first] and again[0].replayed
    assert await level(db, outlet, items["SOAP"]) == 7


async def test_a_negative_count_is_refused_and_nothing_is_posted(db: Database) -> None:
    outlet, items = await shop(db)
    await move(db, outlet, items["SOAP"], 3, "receipt")
    with pytest.raises(catalog.InvalidMovement):
        async with db.transaction() as conn:
            await catalog.stocktake(conn, outlet, {items["OIL"]: 1, items["SOAP"]: -1}, 1, "")
    assert (await verified(db)).movements == 1


async def movements(db: Database) -> list[dict[str, Any]]:
    async with db.connection() as conn:
        return [
            dict(r) for r in await conn.fetch("SELECT * FROM catalog_stock_movement ORDER BY id")
        ]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE catalog_stock_movement SET quantity = 99 WHERE reason = 'redemption'",
        "UPDATE catalog_stock_movement SET id = id",
        "DELETE FROM catalog_stock_movement WHERE reason = 'redemption'",
        "DELETE FROM catalog_stock_movement",
    ],
)
async def test_database_refuses_to_change_or_delete_stock_movements(
    db: Database, statement: str
) -> None:
    outlet, items = await shop(db)
    await move(db, outlet, items["OIL"], 5, "receipt")
    await move(db, outlet, items["OIL"], -2, "redemption", reference="order:1")
    before = await movements(db)
    with pytest.raises(Exception, match="append-only"):
        async with db.transaction() as conn:
            await conn.execute(statement)
    assert await movements(db) == before and len(before) == 2
    assert (await verified(db)).ok


# --- verify after tampering --------------------------------------------------------------


async def drop_append_only_triggers(db: Database) -> None:
    """What an insider with database access would do before editing history."""
    async with db.transaction() as conn:
        if ENGINE == "sqlite":
            for op in ("update", "delete"):
                await conn.execute(f"DROP TRIGGER catalog_stock_movement_no_{op}")
        else:
            await conn.execute(
                "DROP TRIGGER catalog_stock_movement_append_only ON catalog_stock_movement"
            )


async def history(db: Database) -> tuple[int, dict[str, int]]:
    outlet, items = await shop(db)
    await move(db, outlet, items["OIL"], 10, "receipt")
    await move(db, outlet, items["OIL"], -3, "redemption")
    await move(db, outlet, items["OIL"], 2, "donation")
    await move(db, outlet, items["SOAP"], 5, "receipt")
    assert (await verified(db)).ok
    return outlet, items


def named(report: catalog.StockReport) -> set[tuple[str, str, int]]:
    return {(p.check, p.table, p.row) for p in report.problems}


async def test_verify_names_a_movement_quantity_edited_behind_the_apps_back(db: Database) -> None:
    outlet, items = await history(db)
    await drop_append_only_triggers(db)
    async with db.transaction() as conn:
        target = await conn.fetchval(
            "SELECT id FROM catalog_stock_movement WHERE reason = 'redemption'"
        )
        await conn.execute("UPDATE catalog_stock_movement SET quantity = -1 WHERE id = ?", target)
        level_id = await conn.fetchval(
            "SELECT id FROM catalog_stock_level WHERE item = ?", items["OIL"]
        )
    report = await verified(db)
    assert not report.ok
    assert ("level = sum of movements", "catalog_stock_level", level_id) in named(report)
    assert ("level_after = running sum", "catalog_stock_movement", target) in named(report)


async def test_verify_names_a_forged_level(db: Database) -> None:
    outlet, items = await history(db)
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE catalog_stock_level SET level = level + 5 WHERE item = ?", items["SOAP"]
        )
        level_id = await conn.fetchval(
            "SELECT id FROM catalog_stock_level WHERE item = ?", items["SOAP"]
        )
    checks = named(await verified(db))
    assert ("level = sum of movements", "catalog_stock_level", level_id) in checks
    assert ("level = last level_after", "catalog_stock_level", level_id) in checks


async def test_verify_names_a_deleted_movement_as_a_version_gap(db: Database) -> None:
    outlet, items = await history(db)
    await drop_append_only_triggers(db)
    async with db.transaction() as conn:
        gone = await conn.fetchval(
            "SELECT id FROM catalog_stock_movement WHERE reason = 'redemption'"
        )
        after = await conn.fetchval(
            "SELECT id FROM catalog_stock_movement WHERE reason = 'donation'"
        )
        await conn.execute("DELETE FROM catalog_stock_movement WHERE id = ?", gone)
    checks = named(await verified(db))
    assert ("versions 1..n without gaps", "catalog_stock_movement", after) in checks


async def test_verify_names_a_level_without_movements(db: Database) -> None:
    outlet, items = await shop(db)
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO catalog_stock_level (outlet, item, level, version) VALUES (?, ?, 4, 1)",
            outlet,
            items["RICE"],
        )
        level_id = await conn.fetchval("SELECT id FROM catalog_stock_level")
    assert ("level has movements", "catalog_stock_level", level_id) in named(await verified(db))


# --- property: random movements keep the invariants ---------------------------------------

steps = st.lists(
    st.tuples(
        st.sampled_from(("SOAP", "OIL", "RICE")),
        st.integers(min_value=-6, max_value=6).filter(bool),
        st.sampled_from(sorted(set(TAKING) | set(GIVING))),
    ),
    max_size=25,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=steps)
def test_random_movements_never_go_below_zero_and_always_verify(
    db_url: str, steps: list[tuple[str, int, str]]
) -> None:
    """Each example uses a new outlet of the same database, so examples never share levels."""

    async def run() -> None:
        db = open_database(db_url)
        try:
            outlet, items = await shop(db)
            model: Counter[str] = Counter()
            for sku, quantity, reason in steps:
                if model[sku] + quantity < 0:
                    with pytest.raises(catalog.OutOfStock):
                        await move(db, outlet, items[sku], quantity, reason)
                else:
                    moved = await move(db, outlet, items[sku], quantity, reason)
                    model[sku] += quantity
                    assert moved.level_after == model[sku]
            async with db.connection() as conn:
                for sku, item in items.items():
                    assert await catalog.stock_level(conn, outlet, item) == model[sku]
                    total = await conn.fetchval(
                        "SELECT COALESCE(SUM(quantity), 0) FROM catalog_stock_movement"
                        " WHERE outlet = ? AND item = ?",
                        outlet,
                        item,
                    )
                    assert total == model[sku]
                    lowest = await conn.fetchval(
                        "SELECT MIN(level_after) FROM catalog_stock_movement"
                        " WHERE outlet = ? AND item = ?",
                        outlet,
                        item,
                    )
                    assert lowest is None or lowest >= 0
            report = await verified(db)
            assert report.ok, report.problems
        finally:
            await db.close()

    asyncio.run(run())


# --- real concurrency ----------------------------------------------------------------------


def test_ten_connections_taking_one_of_three_last_units_three_succeed(db_url: str) -> None:
    async def prepare() -> tuple[int, int]:
        db = open_database(db_url)
        try:
            outlet, items = await shop(db)
            await move(db, outlet, items["OIL"], 3, "receipt")
            return outlet, items["OIL"]
        finally:
            await db.close()

    outlet, oil = asyncio.run(prepare())

    async def take(db: Database, i: int) -> catalog.Movement:
        return await move(db, outlet, oil, -1, "redemption", reference=f"order:{i}")

    results = race(db_url, 10, take)
    assert Counter(type(r).__name__ for r in results) == Counter(
        {"Movement": 3, "OutOfStock": 7}
    ), results
    assert sorted(r.level_after for r in results if isinstance(r, catalog.Movement)) == [0, 1, 2]

    async def after() -> tuple[int, catalog.StockReport]:
        db = open_database(db_url)
        try:
            return await level(db, outlet, oil), await verified(db)
        finally:
            await db.close()

    final, report = asyncio.run(after())
    assert final == 0 and report.ok, report.problems


def test_ten_connections_stocking_a_new_item_at_once_keep_one_level(db_url: str) -> None:
    async def prepare() -> tuple[int, int]:
        db = open_database(db_url)
        try:
            outlet, items = await shop(db)
            return outlet, items["RICE"]
        finally:
            await db.close()

    outlet, rice = asyncio.run(prepare())

    async def give(db: Database, i: int) -> catalog.Movement:
        return await move(db, outlet, rice, 2, "receipt")

    results = race(db_url, 10, give)
    assert all(isinstance(r, catalog.Movement) for r in results), results

    async def after() -> tuple[int, catalog.StockReport]:
        db = open_database(db_url)
        try:
            return await level(db, outlet, rice), await verified(db)
        finally:
            await db.close()

    final, report = asyncio.run(after())
    assert final == 20 and report.ok, report.problems


def test_mall_verify_exits_non_zero_and_names_a_tampered_movement(db_url: str) -> None:
    async def prepare() -> int:
        db = open_database(db_url)
        try:
            outlet, items = await history(db)
            await drop_append_only_triggers(db)
            async with db.transaction() as conn:
                target: int = await conn.fetchval(
                    "SELECT id FROM catalog_stock_movement WHERE reason = 'donation'"
                )
                await conn.execute(
                    "UPDATE catalog_stock_movement SET quantity = 20 WHERE id = ?", target
                )
            return target
        finally:
            await db.close()

    clean = run_mall("verify", url=db_url, check=False)
    assert clean.returncode == 0 and "库存 stock: 0 levels" in clean.stdout
    target = asyncio.run(prepare())
    result = run_mall("verify", url=db_url, check=False)
    assert result.returncode == 1, result.stdout
    assert f"catalog_stock_movement #{target}: level_after = running sum" in result.stdout
    assert "problems found" in result.stdout


async def test_a_stocktake_key_is_matched_literally_not_as_a_pattern(db: Database) -> None:
    outlet, items = await shop(db)
    await move(db, outlet, items["SOAP"], 10, "receipt")
    async with db.transaction() as conn:
        await catalog.stocktake(
            conn, outlet, {items["SOAP"]: 8}, 1, "", idempotency_key="a-b", request_hash="h"
        )
        other = await catalog.stocktake(
            conn, outlet, {items["SOAP"]: 5}, 1, "", idempotency_key="a_b", request_hash="x"
        )
        pattern = await catalog.stocktake(
            conn, outlet, {items["SOAP"]: 4}, 1, "", idempotency_key="%", request_hash="y"
        )
    assert [(m.quantity, m.replayed) for m in other] == [(-3, False)]
    assert [(m.quantity, m.replayed) for m in pattern] == [(-1, False)]
    assert await level(db, outlet, items["SOAP"]) == 4


def test_one_key_raced_by_ten_connections_moves_stock_once(db_url: str) -> None:
    async def prepare() -> tuple[int, dict[str, int]]:
        db = open_database(db_url)
        try:
            return await shop(db)
        finally:
            await db.close()

    outlet, items = asyncio.run(prepare())
    skus = ("SOAP", "OIL", "RICE")

    async def same(db: Database, i: int) -> catalog.Movement:
        return await move(
            db, outlet, items["SOAP"], 5, "receipt", idempotency_key="k", request_hash="h"
        )

    async def other(db: Database, i: int) -> catalog.Movement:
        sku = skus[i % 3]
        return await move(
            db, outlet, items[sku], 1 + i, "receipt", idempotency_key="j", request_hash=f"h{i}"
        )

    first = race(db_url, 10, same)
    assert all(isinstance(r, catalog.Movement) for r in first), first
    assert len({r.id for r in first}) == 1 and sum(not r.replayed for r in first) == 1
    second = race(db_url, 10, other)
    assert Counter(type(r).__name__ for r in second) == Counter(
        {"Movement": 1, "MovementKeyReused": 9}
    ), second

    async def after() -> catalog.StockReport:
        db = open_database(db_url)
        try:
            assert await level(db, outlet, items["SOAP"]) >= 5
            return await verified(db)
        finally:
            await db.close()

    report = asyncio.run(after())
    assert report.ok and report.movements == 2, report
