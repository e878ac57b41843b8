"""`GET /me/orders` (issue #19): the signed-in resident's own orders, newest first, with what
refunds gave back; each opens with `GET /orders/{id}`, another resident's is `not_found`; only
residents may ask, and the page number is checked."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.api.helpers import Api, problem
from tests.api.test_counter import order, pay_code, shopper
from tests.api.world import World, new_token


def test_my_orders_newest_first_with_refunds_and_only_mine(api: Api, world: World) -> None:
    vol = api.run(new_token, world, "vol-a")
    staff = api.run(new_token, world, "staff-a")
    _, me = shopper(api, 40, "冯秀兰")
    _, other = shopper(api, 40, "褚桂芳")
    made = []
    for n in (3, 1):
        placed = order(
            api, world, vol, {"code": pay_code(api, me), "lines": [{"sku": "SOAP", "quantity": n}]}
        )
        assert placed.status_code == 201, placed.text
        made.append(int(placed.json()["id"]))
    theirs = order(
        api, world, vol, {"code": pay_code(api, other), "lines": [{"sku": "SOAP", "quantity": 1}]}
    )
    assert theirs.status_code == 201, theirs.text
    given = api.post(
        f"/orders/{made[0]}/refund",
        staff,
        json={"reason": "买多了", "lines": [{"sku": "SOAP", "quantity": 2}]},
        headers={"Idempotency-Key": "my-orders-1"},
    )
    assert given.status_code == 201, given.text

    mine = api.get("/me/orders", me)
    assert mine.status_code == 200 and mine.headers["cache-control"] == "no-store"
    body = mine.json()
    assert [o["id"] for o in body["orders"]] == [made[1], made[0]]
    assert (body["page"], body["more"]) == (1, False)
    first = body["orders"][1]
    assert (first["total"], first["refunded"], first["status"]) == (15, 10, "completed")
    assert first["outlet"] == world.outlets["outlet-a"] and first["outlet_name"]
    assert body["orders"][0]["refunded"] == 0
    assert api.get("/me/orders?page=2", me).json() == {"orders": [], "page": 2, "more": False}

    assert (
        api.get(f"/orders/{made[0]}", me).json()["refunds"][0]["balance_after"] == 40 - 15 - 5 + 10
    )
    problem(api.get(f"/orders/{theirs.json()['id']}", me), 404, "not_found")
    assert theirs.json()["id"] not in [o["id"] for o in body["orders"]]


@pytest.mark.parametrize("who", ["admin", "staff-a", "vol-a"])
def test_my_orders_are_for_residents_only(
    api: Api, world: World, token: Callable[[str], str], who: str
) -> None:
    problem(api.get("/me/orders", token(who)), 403, "forbidden")
    problem(api.get("/me/orders"), 401, "unauthenticated")


def test_my_orders_page_is_validated(api: Api, world: World, token: Callable[[str], str]) -> None:
    for bad in ("0", "501", "x"):
        problem(api.get(f"/me/orders?page={bad}", token("target")), 400, "validation_error")
