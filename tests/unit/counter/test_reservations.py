"""Reservations: points on a hold and goods set aside until collected, cancelled or lapsed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

import catalog
import ledger
from mall.counter import checkout, housekeeping, lookup, orders, refunds, reservations
from mall.counter.values import Receipt, Reservation
from mall.db import Database, open_database
from mall.errors import CodeInvalid, Forbidden, InsufficientPoints, Invalid, NotFound
from mall.org import points
from mall.people import residents
from tests.shop_fixtures import Shop, build_shop, clean
from tests.support import race


async def reserve(
    shop: Shop, rid: int, lines: list[tuple[str, int]], key: str = "r1"
) -> Reservation:
    return await reservations.reserve(
        shop.db, shop.resident(rid), shop.outlet, lines, idempotency_key=key, req_hash=str(lines)
    )


async def held(shop: Shop, rid: int) -> int:
    async with shop.db.connection() as conn:
        return (await residents.balances(conn, shop.book, rid)).held


async def test_reserving_holds_points_and_sets_goods_aside(db: Database) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("李海", 100)
    made = await reserve(shop, rid, [("oil", 1), ("soap", 2)])
    assert made.status == "held" and made.total == 16
    assert made.expires_at > datetime.now(UTC) + timedelta(days=2, hours=23)
    assert await shop.balance(rid) == 84 and await held(shop, rid) == 16
    assert await shop.level("oil") == 9 and await shop.level("soap") == 48
    again = await reserve(shop, rid, [("oil", 1), ("soap", 2)])
    assert again.id == made.id and again.replayed is True
    with pytest.raises(ledger.IdempotencyKeyReused):
        await reserve(shop, rid, [("oil", 1)])
    mine = await reservations.my_reservations(db, shop.resident(rid))
    assert [r.id for r in mine] == [made.id]
    await clean(db)


async def test_reserving_refuses_services_too_much_and_other_communities(db: Database) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("李海", 30)
    with pytest.raises(Invalid):
        await reserve(shop, rid, [("haircut", 1)])
    with pytest.raises(InsufficientPoints):
        await reserve(shop, rid, [("rice", 2)])
    rich = await shop.new_resident("富", 1000)
    with pytest.raises(catalog.OutOfStock):
        await reserve(shop, rich, [("soap", 51)])
    with pytest.raises(NotFound):
        await reservations.reserve(
            db, shop.resident(rid), shop.outlet_b, [("soap", 1)], idempotency_key="x", req_hash=""
        )
    with pytest.raises(Forbidden):
        await reservations.reserve(
            db, shop.volunteer, shop.outlet, [("soap", 1)], idempotency_key="x", req_hash=""
        )
    assert await shop.balance(rid) == 30 and await held(shop, rid) == 0


async def test_cancel_releases_points_and_stock_once(db: Database) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("李海", 100)
    made = await reserve(shop, rid, [("rice", 2)])
    other = await shop.new_resident("别人", 0)
    with pytest.raises(NotFound):
        await reservations.cancel(db, shop.resident(other), made.id)
    with pytest.raises(NotFound):
        await reservations.cancel(db, shop.staff_b, made.id)
    done = await reservations.cancel(db, shop.resident(rid), made.id)
    assert done.status == "cancelled"
    assert (await reservations.cancel(db, shop.resident(rid), made.id)).status == "cancelled"
    assert await shop.balance(rid) == 100 and await held(shop, rid) == 0
    assert await shop.level("rice") == 5
    await clean(db)


async def test_collect_at_the_counter_makes_an_order_and_keeps_the_pay_code(db: Database) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("李海", 100)
    made = await reserve(shop, rid, [("oil", 2)])
    code = await shop.pay_code(rid)
    found = await lookup.lookup(db, shop.volunteer, shop.outlet, code)
    assert [r.id for r in found.reservations] == [made.id]
    assert found.available == 80 and found.held == 20
    stranger = await shop.pay_code(await shop.new_resident("别人", 0))
    with pytest.raises(CodeInvalid):
        await reservations.collect(db, shop.volunteer, made.id, code=stranger)
    order = await reservations.collect(db, shop.volunteer, made.id, code=code)
    assert order.total == 20 and order.balance_after == 80
    again = await reservations.collect(db, shop.volunteer, made.id, code=code)
    assert again.id == order.id and again.replayed is True
    shown = await orders.get_order(db, shop.staff, order.id)
    assert shown.reservation_id == made.id and shown.lines[0].quantity == 2
    assert await held(shop, rid) == 0 and await shop.balance(rid) == 80
    assert await shop.level("oil") == 8
    await checkout.checkout(  # the same pay code still pays for more
        db,
        shop.volunteer,
        shop.outlet,
        code=code,
        lines=[("soap", 1)],
        idempotency_key="k",
        req_hash="h",
    )
    refunded = await refunds.refund(db, shop.staff, order.id, idempotency_key="r")
    assert refunded.status == "refunded"
    assert await shop.balance(rid) == 97 and await shop.level("oil") == 10
    # the refund took the points back from the account the collection paid them into
    async with db.connection() as conn:
        takings = {
            code: (await ledger.get_balance(conn, shop.book, code)).balance
            for code in points.redeemed_accounts(shop.outlet)
        }
    assert takings[points.redeemed(shop.outlet, rid)] == 3 and sum(takings.values()) == 3
    await clean(db)


async def test_unclaimed_reservations_lapse_and_release_points_and_stock(db: Database) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("李海", 100)
    made = await reserve(shop, rid, [("rice", 3)])
    kept = await reserve(shop, rid, [("soap", 1)], "r2")
    assert await housekeeping.lapse_reservations(db, datetime.now(UTC)) == 0
    later = datetime.now(UTC) + timedelta(days=reservations.lapse_days(), minutes=1)
    assert await housekeeping.lapse_reservations(db, later) == 2
    assert await housekeeping.lapse_reservations(db, later) == 0
    mine = {r.id: r.status for r in await reservations.my_reservations(db, shop.resident(rid))}
    assert mine == {made.id: "lapsed", kept.id: "lapsed"}
    assert await shop.balance(rid) == 100 and await held(shop, rid) == 0
    assert await shop.level("rice") == 5 and await shop.level("soap") == 50
    statement = await residents.passbook(db, shop.resident(rid), rid, limit=1)
    assert statement.entries[0].kind == "lapse"
    with pytest.raises(reservations.ReservationClosed):
        await reservations.collect(db, shop.volunteer, made.id, code=await shop.pay_code(rid))
    await clean(db)


async def test_the_lapse_days_come_from_the_setting(setting: Callable[[str, str], None]) -> None:
    from mall.settings import SettingsError

    assert reservations.lapse_days() == 3
    setting("MALL_RESERVATION_DAYS", "7")
    assert reservations.lapse_days() == 7
    for wrong in ("a week", "0", "61", "-2"):  # refused, not quietly taken as 3 or clamped
        setting("MALL_RESERVATION_DAYS", wrong)
        with pytest.raises(SettingsError, match="MALL_RESERVATION_DAYS must be a whole"):
            reservations.lapse_days()


async def test_a_reservation_waits_the_configured_days_then_lapses(
    db: Database, setting: Callable[[str, str], None]
) -> None:
    setting("MALL_RESERVATION_DAYS", "7")
    shop = await build_shop(db)
    rid = await shop.new_resident("李海", 100)
    made = await reserve(shop, rid, [("rice", 2)])
    due = made.expires_at
    assert due - made.created_at == timedelta(days=7)
    async with db.connection() as conn:
        hold = await conn.fetchval("SELECT hold_id FROM mall_reservation WHERE id = ?", made.id)
        assert (await ledger.get_hold(conn, hold)).expires_at == due
    three_days = made.created_at + timedelta(days=3, minutes=1)  # the default has passed
    for early in (three_days, due - timedelta(seconds=1)):
        assert await housekeeping.lapse_reservations(db, early) == 0
    mine = await reservations.my_reservations(db, shop.resident(rid))
    assert [r.status for r in mine] == ["held"]
    assert await shop.balance(rid) == 60 and await held(shop, rid) == 40
    assert await shop.level("rice") == 3
    assert await housekeeping.lapse_reservations(db, due + timedelta(seconds=1)) == 1
    mine = await reservations.my_reservations(db, shop.resident(rid))
    assert [r.status for r in mine] == ["lapsed"]
    assert await shop.balance(rid) == 100 and await held(shop, rid) == 0
    assert await shop.level("rice") == 5
    await clean(db)


async def test_old_unused_pay_codes_are_purged_and_used_ones_kept(db: Database) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("李海", 100)
    used = await shop.pay_code(rid)
    await checkout.checkout(
        db,
        shop.volunteer,
        shop.outlet,
        code=used,
        lines=[("soap", 1)],
        idempotency_key="k",
        req_hash="h",
    )
    await shop.pay_code(rid)
    assert await housekeeping.purge_pay_codes(db, datetime.now(UTC)) == 0
    assert (
        await housekeeping.purge_pay_codes(db, datetime.now(UTC) + timedelta(days=1, minutes=2))
        == 1
    )
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT COUNT(*) FROM mall_code WHERE resident = ?", rid) == 1


def test_a_collect_racing_the_lapse_settles_the_reservation_once(db_url: str) -> None:
    async def setup() -> tuple[Shop, int, int, str]:
        db = open_database(db_url)
        try:
            shop = await build_shop(db)
            rid = await shop.new_resident("李海", 100)
            made = await reserve(shop, rid, [("rice", 1)])
            async with db.transaction() as conn:  # due in a moment
                soon = datetime.now(UTC) + timedelta(seconds=2)
                await conn.execute(
                    "UPDATE mall_reservation SET expires_at = ? WHERE id = ?", soon, made.id
                )
            return shop, rid, made.id, await shop.pay_code(rid)
        finally:
            await db.close()

    shop, rid, reservation_id, code = asyncio.run(setup())
    later = datetime.now(UTC) + timedelta(seconds=3)

    async def work(db: Database, i: int) -> object:
        if i % 2:
            return await housekeeping.lapse_reservations(db, later)
        return await reservations.collect(db, shop.volunteer, reservation_id, code=code)

    results = race(db_url, 6, work)
    collected = [r for r in results if isinstance(r, Receipt)]
    lapsed = sum(r for r in results if isinstance(r, int))
    assert len({r.id for r in collected}) <= 1
    assert (1 if collected else 0) + lapsed == 1, results

    async def after() -> None:
        db = open_database(db_url)
        try:
            await clean(db)
        finally:
            await db.close()

    asyncio.run(after())
