"""The reservation pages' edges (issue #19): a reservation's page is its resident's alone, the
confirmation step refuses an empty basket, and a stepper never goes below zero or past the shelf."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient

from mall.counter import reservations
from mall.db import Database
from mall.people import auth
from tests.shop_fixtures import build_shop
from tests.web.test_pages_counter import form


async def signed_in(db: Database, client: TestClient[Litestar], rid: int) -> None:
    async with db.transaction() as conn:
        token = await auth.create_session(
            conn, "resident", resident_id=rid, ttl=auth.RESIDENT_SESSION
        )
    client.cookies.set("mall_session", token)


async def test_a_reservation_page_is_shown_to_its_resident_only(
    db: Database, client: TestClient[Litestar]
) -> None:
    shop = await build_shop(db)
    owner = await shop.new_resident("李海", 100)
    neighbour = await shop.new_resident("王芳", 100)
    other_community = await shop.new_resident("陈强", 100, community="b")
    made = await reservations.reserve(
        db, shop.resident(owner), shop.outlet, [("oil", 1)], idempotency_key="k", req_hash="h"
    )
    await signed_in(db, client, owner)
    page = client.get(f"/me/reservations/{made.id}?made=1")
    assert page.status_code == 200
    assert "食用油 × 1" in page.text and "预约成功" in page.text and "shop-a积分超市" in page.text
    for stranger in (neighbour, other_community):
        await signed_in(db, client, stranger)
        refused = client.get(f"/me/reservations/{made.id}")
        assert refused.status_code == 404 and "食用油" not in refused.text
    client.cookies.clear()
    assert client.get(f"/me/reservations/{made.id}", follow_redirects=False).status_code in (
        303,
        302,
    )


async def test_the_confirmation_step_refuses_an_empty_basket_and_steppers_stay_in_bounds(
    db: Database, client: TestClient[Litestar]
) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("李海", 100)
    await signed_in(db, client, rid)
    outlet = str(shop.outlet)
    empty = form(client, "/me/reservations/review", {"outlet": outlet, "q_oil": "0"})
    assert empty.status_code == 400 and "请至少选一件商品" in empty.text
    less = form(client, "/me/reservations/new", {"outlet": outlet, "q_oil": "0", "step": "oil:-1"})
    assert (
        less.status_code == 200
        and 'name="q_oil" type="number" inputmode="numeric" min="0" max="10" value="0"' in less.text
    )
    rice = form(client, "/me/reservations/new", {"outlet": outlet, "q_rice": "5", "step": "rice:1"})
    assert 'max="5" value="5"' in rice.text  # five on the shelf: + does not go past them
    assert await shop.balance(rid) == 100  # neither step nor review writes anything
