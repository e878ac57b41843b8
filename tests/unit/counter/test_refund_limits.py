"""A refund gives its quantity back to the item's monthly limit: of chosen lines (the order stays
``completed``) as of the whole order, on both checkout paths, at the counter's look-up and for a
reservation alike."""

from __future__ import annotations

import pytest

from mall.counter import lookup, refunds, reservations
from mall.db import Database
from mall.errors import LimitExceeded
from tests.shop_fixtures import Shop, build_shop, clean
from tests.support import table_rows
from tests.unit.counter.test_redemption import check_out


async def oil_left(shop: Shop, rid: int) -> int:
    """What the counter's look-up says is left of the oil's monthly limit (2)."""
    visit = await lookup.lookup(shop.db, shop.volunteer, shop.outlet, await shop.pay_code(rid))
    return next(x.left for x in visit.limits if x.sku == "oil")


async def test_a_refunded_line_gives_its_quantity_back_to_the_limit(
    db: Database, one_call: bool
) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("王秀英", 100)
    first = await check_out(shop, await shop.pay_code(rid), [("oil", 2), ("soap", 1)], "k1")
    with pytest.raises(LimitExceeded):
        await check_out(shop, await shop.pay_code(rid), [("oil", 1)], "k2")
    await refunds.refund(db, shop.staff, first.id, idempotency_key="x1", lines=[("oil", 1)])
    assert await oil_left(shop, rid) == 1
    code = await shop.pay_code(rid)
    before = await table_rows(db)
    with pytest.raises(LimitExceeded) as refused:  # 2 more: only 1 is left
        await check_out(shop, code, [("oil", 2)], "k3")
    assert refused.value.params["left"] == 1
    assert await table_rows(db) == before  # nothing moved
    assert (await check_out(shop, code, [("oil", 1)], "k4")).balance_after == 100 - 23 + 10 - 10
    assert await oil_left(shop, rid) == 0
    with pytest.raises(LimitExceeded):
        await check_out(shop, await shop.pay_code(rid), [("oil", 1)], "k5")
    await clean(db)


async def test_a_whole_order_refund_gives_everything_back(db: Database, one_call: bool) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("王秀英", 100)
    first = await check_out(shop, await shop.pay_code(rid), [("oil", 2)], "k1")
    await refunds.refund(db, shop.staff, first.id, idempotency_key="x1", lines=[("oil", 1)])
    await refunds.refund(db, shop.staff, first.id, idempotency_key="x2")  # the rest
    assert await oil_left(shop, rid) == 2
    await check_out(shop, await shop.pay_code(rid), [("oil", 2)], "k2")
    with pytest.raises(LimitExceeded):
        await check_out(shop, await shop.pay_code(rid), [("oil", 1)], "k3")
    await clean(db)


async def test_a_reservation_counts_the_refund_as_the_checkout_does(db: Database) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("王秀英", 100)
    first = await check_out(shop, await shop.pay_code(rid), [("oil", 2)], "k1")
    await refunds.refund(db, shop.staff, first.id, idempotency_key="x1", lines=[("oil", 1)])
    me = shop.resident(rid)
    with pytest.raises(LimitExceeded):
        await reservations.reserve(
            db, me, shop.outlet, [("oil", 2)], idempotency_key="r1", req_hash="r1"
        )
    await reservations.reserve(
        db, me, shop.outlet, [("oil", 1)], idempotency_key="r2", req_hash="r2"
    )
    assert await oil_left(shop, rid) == 0  # the held one counts
    with pytest.raises(LimitExceeded):
        await check_out(shop, await shop.pay_code(rid), [("oil", 1)], "k2")
    await clean(db)
