"""The volunteer's shift summary counts refunds: the points of the orders handed out net of what
refunds gave back, the items less what came back, and a line of its own for the refunds (how
many, how many points), so that the hand-over agrees with the ledger."""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.testing import TestClient

import ledger
from mall.counter import orders, refunds
from mall.counter.orders import HandedOut
from mall.db import Database
from mall.org import points
from mall.people import auth
from tests.shop_fixtures import Shop, build_shop
from tests.unit.counter.test_redemption import check_out
from tests.web.test_pages_counter import at_counter, choose


async def a_shift(shop: Shop) -> int:
    """Three orders: one stands whole, one is partly refunded (1 oil of 2: 10 points), one is
    refunded whole (rice: 20 points). The resident started with 500."""
    rid = await shop.new_resident("李海", 500)
    await check_out(shop, await shop.pay_code(rid), [("soap", 2)], "k1")
    partly = await check_out(shop, await shop.pay_code(rid), [("oil", 2), ("soap", 1)], "k2")
    whole = await check_out(shop, await shop.pay_code(rid), [("rice", 1)], "k3")
    await refunds.refund(shop.db, shop.staff, partly.id, idempotency_key="r1", lines=[("oil", 1)])
    await refunds.refund(shop.db, shop.staff, whole.id, idempotency_key="r2")
    return rid


async def test_the_summary_is_net_of_refunds_and_lists_them_apart(db: Database) -> None:
    shop = await build_shop(db)
    rid = await a_shift(shop)
    shift = await orders.shift_summary(db, shop.volunteer)
    assert (shift.orders, shift.points) == (2, 6 + 23 - 10)
    assert (shift.refunds, shift.refunded_points) == (2, 10 + 20)
    assert shift.items == [HandedOut(name="香皂", quantity=3), HandedOut(name="食用油", quantity=1)]
    async with db.connection() as conn:  # what the ledger says the resident spent
        wallet = await ledger.get_balance(conn, shop.book, points.wallet(rid))
    assert 500 - wallet.balance == shift.points
    assert (await orders.shift_summary(db, shop.staff)).refunds == 0  # not staff's shift


async def test_the_counter_page_shows_the_net_points_and_the_refunds(
    db: Database, client: TestClient[Litestar]
) -> None:
    shop = await at_counter(db, client)
    await a_shift(shop)
    choose(client, shop)
    page = client.get("/counter")
    assert page.status_code == 200
    net = re.search(r"<dd data-shift-points>(\d+)</dd>", page.text)
    assert net is not None and net.group(1) == "19"
    given = re.search(r"<dd data-shift-refunds>(.*?)</dd>", page.text)
    assert given is not None and "2" in given.group(1) and "30" in given.group(1)
    assert "<li>香皂 × 3</li>" in page.text and "<li>食用油 × 1</li>" in page.text
    assert "大米" not in page.text.split('class="shift"')[1].split("</section>")[0]


async def test_the_api_gives_the_refunds_beside_the_net_points(
    db: Database, client: TestClient[Litestar]
) -> None:
    shop = await build_shop(db)
    async with db.transaction() as conn:
        token = await auth.create_session(
            conn, "api", user_id=shop.volunteer.user_id, ttl=auth.API_TOKEN
        )
    await a_shift(shop)
    found = client.get("/api/v1/me/shift", headers={"Authorization": f"Bearer {token}"})
    assert found.status_code == 200, found.text
    body = found.json()
    assert (body["orders"], body["points"]) == (2, 19)
    assert (body["refunds"], body["refunded_points"]) == (2, 30)
