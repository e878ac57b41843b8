"""Refunds of chosen lines (issue #19): never more than was bought less refunded already, with a
reason, the points and goods back, the order refunded once every line is, and the trust rules."""

from __future__ import annotations

import pytest

import ledger
from mall.counter import orders, refunds
from mall.db import Database
from mall.errors import AlreadyRefunded, Forbidden, Invalid, NotFound, SelfDealing
from tests.shop_fixtures import Shop, build_shop
from tests.unit.counter.test_redemption import check_out


async def bought(shop: Shop, pts: int = 100) -> tuple[int, int]:
    """A resident who bought 3 soap (9) and 2 oil (20) and has 71 points left."""
    rid = await shop.new_resident("李海", pts)
    done = await check_out(shop, await shop.pay_code(rid), [("soap", 3), ("oil", 2)])
    return rid, done.id


async def test_a_chosen_line_comes_back_with_its_reason_and_the_balance_after(
    db: Database,
) -> None:
    shop = await build_shop(db)
    rid, order_id = await bought(shop)
    done = await refunds.refund(
        db, shop.staff, order_id, idempotency_key="r1", reason="包装破了", lines=[("soap", 2)]
    )
    assert (done.points, done.balance_after, done.order_status) == (6, 77, "completed")
    assert await shop.balance(rid) == 77 and await shop.level("soap") == 49
    assert await shop.level("oil") == 8
    order = await orders.get_order(db, shop.staff, order_id)
    assert order.status == "completed"
    assert {x.sku: (x.quantity, x.refunded) for x in order.lines} == {
        "soap": (3, 2),
        "oil": (2, 0),
    }
    [given] = order.refunds
    assert (given.points, given.reason, given.balance_after) == (6, "包装破了", 77)
    assert [(x.sku, x.quantity) for x in given.lines] == [("soap", 2)]


async def test_never_more_than_bought_less_refunded(db: Database) -> None:
    shop = await build_shop(db)
    rid, order_id = await bought(shop)
    with pytest.raises(Invalid):
        await refunds.refund(db, shop.staff, order_id, idempotency_key="a", lines=[("soap", 4)])
    await refunds.refund(db, shop.staff, order_id, idempotency_key="b", lines=[("soap", 2)])
    with pytest.raises(Invalid):
        await refunds.refund(db, shop.staff, order_id, idempotency_key="c", lines=[("soap", 2)])
    with pytest.raises(Invalid):  # not a line of this order
        await refunds.refund(db, shop.staff, order_id, idempotency_key="d", lines=[("rice", 1)])
    with pytest.raises(Invalid):  # nothing chosen
        await refunds.refund(db, shop.staff, order_id, idempotency_key="e", lines=[("soap", 0)])
    with pytest.raises(Invalid):
        await refunds.refund(db, shop.staff, order_id, idempotency_key="f", lines=[("oil", -1)])
    assert await shop.balance(rid) == 77 and await shop.level("soap") == 49


async def test_the_last_lines_refund_the_order_and_then_nothing_is_left(db: Database) -> None:
    shop = await build_shop(db)
    rid, order_id = await bought(shop)
    await refunds.refund(db, shop.staff, order_id, idempotency_key="a", lines=[("soap", 1)])
    rest = await refunds.refund(db, shop.staff, order_id, idempotency_key="b", reason="不要了")
    assert (rest.points, rest.balance_after, rest.order_status) == (26, 100, "refunded")
    assert await shop.balance(rid) == 100
    assert await shop.level("soap") == 50 and await shop.level("oil") == 10
    order = await orders.get_order(db, shop.staff, order_id)
    assert order.status == "refunded" and len(order.refunds) == 2
    assert {x.sku: x.refunded for x in order.lines} == {"soap": 3, "oil": 2}
    with pytest.raises(AlreadyRefunded):
        await refunds.refund(db, shop.staff, order_id, idempotency_key="c")
    with pytest.raises(AlreadyRefunded):
        await refunds.refund(db, shop.staff, order_id, idempotency_key="d", lines=[("oil", 1)])


async def test_a_retry_with_the_same_key_refunds_once_and_another_body_is_refused(
    db: Database,
) -> None:
    shop = await build_shop(db)
    rid, order_id = await bought(shop)
    first = await refunds.refund(
        db, shop.staff, order_id, idempotency_key="k", lines=[("oil", 1)], req_hash="h1"
    )
    again = await refunds.refund(
        db, shop.staff, order_id, idempotency_key="k", lines=[("oil", 1)], req_hash="h1"
    )
    assert again.replayed and (again.refund_id, again.points) == (first.refund_id, 10)
    with pytest.raises(ledger.IdempotencyKeyReused):
        await refunds.refund(
            db, shop.staff, order_id, idempotency_key="k", lines=[("oil", 2)], req_hash="h2"
        )
    assert await shop.balance(rid) == 81
    assert len((await orders.get_order(db, shop.staff, order_id)).refunds) == 1


async def test_volunteers_other_communities_and_self_dealing_refund_nothing(
    db: Database,
) -> None:
    shop = await build_shop(db)
    rid, order_id = await bought(shop)
    with pytest.raises(Forbidden):
        await refunds.refund(db, shop.volunteer, order_id, idempotency_key="a", lines=[("oil", 1)])
    with pytest.raises(Forbidden):
        await refunds.preview(db, shop.volunteer, order_id, None)
    with pytest.raises(NotFound):
        await refunds.refund(db, shop.staff_b, order_id, idempotency_key="a", lines=[("oil", 1)])
    with pytest.raises(NotFound):
        await refunds.preview(db, shop.staff_b, order_id, None)
    with pytest.raises(Forbidden):
        await refunds.refund(db, shop.resident(rid), order_id, idempotency_key="a")
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE mall_user SET resident = ? WHERE id = ?", rid, shop.staff.user_id
        )
    with pytest.raises(SelfDealing):
        await refunds.refund(db, shop.staff, order_id, idempotency_key="a", lines=[("oil", 1)])
    with pytest.raises(SelfDealing):
        await refunds.preview(db, shop.staff, order_id, [("oil", 1)])
    assert await shop.balance(rid) == 71 and await shop.level("oil") == 8
    assert (await orders.get_order(db, shop.staff, order_id)).refunds == []


async def test_preview_names_the_lines_and_points_and_writes_nothing(db: Database) -> None:
    shop = await build_shop(db)
    rid, order_id = await bought(shop)
    seen = await refunds.preview(db, shop.staff, order_id, [("soap", 1), ("oil", 2)])
    assert {x.sku: x.quantity for x in seen.lines} == {"soap": 1, "oil": 2}
    assert seen.points == 23
    whole = await refunds.preview(db, shop.staff, order_id, None)
    assert whole.points == 29
    assert await shop.balance(rid) == 71


async def test_a_long_reason_is_refused(db: Database) -> None:
    shop = await build_shop(db)
    _rid, order_id = await bought(shop)
    with pytest.raises(Invalid):
        await refunds.refund(db, shop.staff, order_id, idempotency_key="a", reason="很" * 201)
