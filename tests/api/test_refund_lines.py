"""`POST /orders/{id}/refund` with chosen lines and a reason (issue #19, v1.2 additions): the v1
call without a body still refunds what is left; quantities are checked; the receipt lists the
refunds; scope and roles hold."""

from __future__ import annotations

from tests.api.helpers import Api, problem
from tests.api.test_counter import order, pay_code, shopper
from tests.api.world import World, new_token


def bought(api: Api, world: World) -> tuple[str, str, int]:
    """A resident of A who bought 3 SOAP (5 points each): ``(staff token, their token, order)``."""
    vol = api.run(new_token, world, "vol-a")
    staff = api.run(new_token, world, "staff-a")
    _, me = shopper(api, 40)
    placed = order(
        api, world, vol, {"code": pay_code(api, me), "lines": [{"sku": "SOAP", "quantity": 3}]}
    )
    assert placed.status_code == 201, placed.text
    return staff, me, int(placed.json()["id"])


def test_refund_chosen_lines_with_a_reason_then_the_rest(api: Api, world: World) -> None:
    staff, me, order_id = bought(api, world)
    body = {"reason": "过期了", "lines": [{"sku": "SOAP", "quantity": 2}]}
    some = api.post(
        f"/orders/{order_id}/refund", staff, json=body, headers={"Idempotency-Key": "p1"}
    )
    assert some.status_code == 201, some.text
    got = some.json()
    assert (got["status"], got["order_status"], got["points"]) == ("refunded", "completed", 10)
    assert got["balance_after"] == 35 == api.get("/me", me).json()["available"]
    seen = api.get(f"/orders/{order_id}", staff).json()
    assert seen["status"] == "completed" and seen["lines"][0]["refunded"] == 2
    [given] = seen["refunds"]
    assert (given["reason"], given["points"], given["balance_after"]) == ("过期了", 10, 35)
    again = api.post(
        f"/orders/{order_id}/refund", staff, json=body, headers={"Idempotency-Key": "p1"}
    )
    assert again.status_code == 201 and again.json()["refund_id"] == got["refund_id"]
    problem(
        api.post(
            f"/orders/{order_id}/refund",
            staff,
            json={"lines": [{"sku": "SOAP", "quantity": 1}]},
            headers={"Idempotency-Key": "p1"},
        ),
        422,
        "idempotency_key_reused",
    )
    problem(
        api.post(
            f"/orders/{order_id}/refund",
            staff,
            json={"lines": [{"sku": "SOAP", "quantity": 2}]},
            headers={"Idempotency-Key": "p2"},
        ),
        400,
        "validation_error",
    )
    rest = api.post(f"/orders/{order_id}/refund", staff, headers={"Idempotency-Key": "p3"})
    assert rest.status_code == 201 and rest.json()["order_status"] == "refunded"
    assert rest.json()["points"] == 5 and api.get("/me", me).json()["available"] == 40
    problem(
        api.post(f"/orders/{order_id}/refund", staff, headers={"Idempotency-Key": "p4"}),
        409,
        "already_refunded",
    )


def test_others_refund_nothing(api: Api, world: World) -> None:
    staff, me, order_id = bought(api, world)
    body = {"reason": "x", "lines": [{"sku": "SOAP", "quantity": 1}]}
    for who, status, code in (
        (api.run(new_token, world, "vol-a"), 403, "forbidden"),
        (api.run(new_token, world, "staff-b"), 404, "not_found"),
        (me, 403, "forbidden"),
    ):
        problem(
            api.post(
                f"/orders/{order_id}/refund", who, json=body, headers={"Idempotency-Key": "o"}
            ),
            status,
            code,
        )
    assert api.get("/me", me).json()["available"] == 25
    assert api.get(f"/orders/{order_id}", staff).json()["refunds"] == []


def test_bad_bodies_are_validation_errors(api: Api, world: World) -> None:
    staff, me, order_id = bought(api, world)
    for body in (
        {"lines": [{"sku": "SOAP", "quantity": 0}]},
        {"lines": [{"sku": "SOAP", "quantity": 4}]},
        {"lines": [{"sku": "RICE", "quantity": 1}]},
        {"reason": "长" * 201},
    ):
        problem(
            api.post(
                f"/orders/{order_id}/refund", staff, json=body, headers={"Idempotency-Key": "b"}
            ),
            400,
            "validation_error",
        )
    assert api.get("/me", me).json()["available"] == 25
