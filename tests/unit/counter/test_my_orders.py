"""The resident's own orders (issue #19): newest first, a page at a time, with the points refunds
gave back; only the signed-in resident's, never a neighbour's; nobody but a resident may ask. And
``my_balances``: the one value the phone's pages show, available and held."""

from __future__ import annotations

import pytest

from mall.counter import my_orders, refunds, reservations
from mall.db import Database
from mall.errors import Forbidden
from mall.people import residents
from tests.shop_fixtures import build_shop
from tests.unit.counter.test_redemption import check_out


async def test_newest_first_a_page_at_a_time_only_mine(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(my_orders, "PER_PAGE", 2)
    shop = await build_shop(db)
    rid = await shop.new_resident("蒋桂香", 100)
    other = await shop.new_resident("沈玉梅", 100)
    made = [
        (await check_out(shop, await shop.pay_code(rid), [("soap", 1)], f"mine-{n}")).id
        for n in range(3)
    ]
    await check_out(shop, await shop.pay_code(other), [("soap", 1)], "theirs")
    await refunds.refund(db, shop.staff, made[0], idempotency_key="mine-r1")
    me = shop.resident(rid)

    first = await my_orders.my_orders(db, me)
    assert [o.id for o in first.orders] == [made[2], made[1]] and first.more
    second = await my_orders.my_orders(db, me, page=2)
    assert [o.id for o in second.orders] == [made[0]] and not second.more
    [oldest] = second.orders
    assert (oldest.total, oldest.refunded, oldest.status) == (3, 3, "refunded")
    assert oldest.outlet == shop.outlet and oldest.outlet_name
    assert first.orders[0].refunded == 0
    assert (await my_orders.my_orders(db, me, page=0)).page == 1


async def test_only_a_resident_may_ask(db: Database) -> None:
    shop = await build_shop(db)
    for who in (shop.staff, shop.volunteer):
        with pytest.raises(Forbidden):
            await my_orders.my_orders(db, who)
        with pytest.raises(Forbidden):
            await residents.my_balances(db, who)


async def test_my_balances_splits_available_and_held(db: Database) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("韩秀珍", 50)
    me = shop.resident(rid)
    assert await residents.my_balances(db, me) == residents.Balances(
        balance=50, held=0, available=50
    )
    made = await reservations.reserve(
        db, me, shop.outlet, [("oil", 1)], idempotency_key="bal-hold", req_hash="bal-hold"
    )
    assert await residents.my_balances(db, me) == residents.Balances(
        balance=50, held=10, available=40
    )
    await reservations.cancel(db, me, made.id)
    assert (await residents.my_balances(db, me)).available == 50
