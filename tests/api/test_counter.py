"""The counter and reservations over the JSON API: problem codes, idempotency, scope, receipts."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from httpx import Response

from mall.db import Database
from mall.people import auth, residents
from mall.shop import items, stock
from tests.api.helpers import Api, problem
from tests.api.world import ADMIN, PASSWORD, A, World, award, new_token

_n = itertools.count()


async def _resident_token(db: Database, resident_id: int) -> str:
    async with db.transaction() as conn:
        return await auth.create_session(
            conn, "resident", resident_id=resident_id, ttl=auth.RESIDENT_SESSION
        )


def shopper(api: Api, points: int, name: str = "陈玉珍") -> tuple[int, str]:
    """A new resident of A with ``points``: ``(id, bearer token)``."""
    rid = api.run(residents.create_resident, ADMIN, A, name, None, None).id
    if points:
        api.run(award, A, rid, points, f"counter-test:{rid}", "奖励")
    return rid, api.run(_resident_token, rid)


def pay_code(api: Api, token: str) -> str:
    code: str = api.get("/me/pay-code", token).json()["code"]
    return code


def order(
    api: Api, world: World, token: str, body: dict[str, Any], key: str | None = None
) -> Response:
    return api.post(
        f"/outlets/{world.outlets['outlet-a']}/orders",
        token,
        json=body,
        headers={"Idempotency-Key": key or f"k{next(_n)}"},
    )


def test_lookup_then_checkout_then_the_receipt(api: Api, world: World) -> None:
    vol = api.run(new_token, world, "vol-a")
    rid, me = shopper(api, 40, "王秀英")
    code = pay_code(api, me)
    outlet = world.outlets["outlet-a"]
    found = api.post(f"/outlets/{outlet}/lookup", vol, json={"code": code})
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["resident"] == {"id": rid, "display_name": "王*英"}
    assert body["available"] == 40 and body["reservations"] == []
    placed = order(api, world, vol, {"code": code, "lines": [{"sku": "SOAP", "quantity": 3}]})
    assert placed.status_code == 201, placed.text
    assert placed.json()["total"] == 15 and placed.json()["balance_after"] == 25
    mine = api.get(f"/orders/{placed.json()['id']}", me)
    assert mine.status_code == 200
    assert mine.json()["lines"] == [
        {"sku": "SOAP", "name": "香皂", "quantity": 3, "price_points": 5}
    ]
    assert mine.json()["status"] == "completed" and mine.json()["resident_id"] == rid
    passbook = api.get("/me/passbook", me).json()["entries"]
    assert passbook[0]["kind"] == "redemption" and passbook[0]["memo"] == "香皂×3"
    problem(api.post(f"/outlets/{outlet}/lookup", vol, json={"code": code}), 409, "code_used")


def test_replay_returns_the_first_order_and_another_body_is_refused(api: Api, world: World) -> None:
    vol = api.run(new_token, world, "vol-a")
    _, me = shopper(api, 40)
    code = pay_code(api, me)
    body = {"code": code, "lines": [{"sku": "SOAP", "quantity": 1}]}
    first = order(api, world, vol, body, "retry-1")
    again = order(api, world, vol, body, "retry-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    changed = {"code": code, "lines": [{"sku": "SOAP", "quantity": 2}]}
    problem(order(api, world, vol, changed, "retry-1"), 422, "idempotency_key_reused")
    problem(order(api, world, vol, body, "retry-2"), 409, "code_used")
    assert api.get("/me", me).json()["available"] == 35


def test_refusals_name_the_item_and_what_is_left(api: Api, world: World) -> None:
    vol = api.run(new_token, world, "vol-a")
    _, me = shopper(api, 100)
    code = pay_code(api, me)
    out = problem(
        order(api, world, vol, {"code": code, "lines": [{"sku": "SOAP", "quantity": 99}]}),
        409,
        "out_of_stock",
    )
    assert "香皂" in out["title"]
    _, poor = shopper(api, 4)
    short = problem(
        order(
            api,
            world,
            vol,
            {"code": pay_code(api, poor), "lines": [{"sku": "SOAP", "quantity": 1}]},
        ),
        409,
        "insufficient_points",
    )
    assert "4" in short["title"]
    unknown = problem(
        order(api, world, vol, {"code": code, "lines": [{"sku": "CAVIAR", "quantity": 1}]}),
        400,
        "validation_error",
    )
    assert "CAVIAR" in unknown["title"]
    for lines in ([], [{"sku": "SOAP", "quantity": 0}], [{"sku": "SOAP", "quantity": 1.5}]):
        response = order(api, world, vol, {"code": code, "lines": lines})
        assert response.status_code == 400 and response.json()["code"] == "validation_error"
    problem(
        order(api, world, vol, {"code": "1" + "0" * 19, "lines": [{"sku": "SOAP", "quantity": 1}]}),
        400,
        "code_invalid",
    )
    response = api.post(
        f"/outlets/{world.outlets['outlet-a']}/orders",
        vol,
        json={"code": code, "lines": [{"sku": "SOAP", "quantity": 1}]},
    )
    problem(response, 400, "validation_error")  # no Idempotency-Key


def test_refund_once_by_staff(api: Api, world: World) -> None:
    vol = api.run(new_token, world, "vol-a")
    staff = api.run(new_token, world, "staff-a")
    _, me = shopper(api, 20)
    placed = order(
        api, world, vol, {"code": pay_code(api, me), "lines": [{"sku": "SOAP", "quantity": 2}]}
    )
    order_id = placed.json()["id"]
    problem(
        api.post(f"/orders/{order_id}/refund", vol, headers={"Idempotency-Key": "r"}),
        403,
        "forbidden",
    )
    refunded = api.post(f"/orders/{order_id}/refund", staff, headers={"Idempotency-Key": "r"})
    assert refunded.status_code == 201
    assert (refunded.json()["id"], refunded.json()["status"]) == (order_id, "refunded")
    again = api.post(f"/orders/{order_id}/refund", staff, headers={"Idempotency-Key": "r"})
    assert again.status_code == 201
    problem(
        api.post(f"/orders/{order_id}/refund", staff, headers={"Idempotency-Key": "r2"}),
        409,
        "already_refunded",
    )
    assert api.get("/me", me).json()["available"] == 20
    assert api.get(f"/orders/{order_id}", staff).json()["status"] == "refunded"


def test_reserve_see_it_at_the_counter_and_collect_it(api: Api, world: World) -> None:
    vol = api.run(new_token, world, "vol-a")
    _, me = shopper(api, 30)
    outlet = world.outlets["outlet-a"]
    body = {"outlet": outlet, "lines": [{"sku": "SOAP", "quantity": 2}]}
    made = api.post("/me/reservations", me, json=body, headers={"Idempotency-Key": "res1"})
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "held" and made.json()["total"] == 10
    account = api.get("/me", me).json()
    assert (account["held"], account["available"]) == (10, 20)
    code = pay_code(api, me)
    found = api.post(f"/outlets/{outlet}/lookup", vol, json={"code": code}).json()
    assert [r["id"] for r in found["reservations"]] == [made.json()["id"]]
    collected = api.post(
        f"/reservations/{made.json()['id']}/collect",
        vol,
        json={"code": code},
        headers={"Idempotency-Key": "c1"},
    )
    assert collected.status_code == 201, collected.text
    assert collected.json()["total"] == 10 and collected.json()["balance_after"] == 20
    shown = api.get(f"/orders/{collected.json()['id']}", me).json()
    assert shown["reservation_id"] == made.json()["id"]
    listed = api.get("/me/reservations", me).json()["reservations"]
    assert listed[0]["status"] == "collected" and listed[0]["order_id"] == collected.json()["id"]


def test_cancel_a_reservation_gives_everything_back(api: Api, world: World) -> None:
    _, me = shopper(api, 30)
    body = {"outlet": world.outlets["outlet-a"], "lines": [{"sku": "SOAP", "quantity": 1}]}
    made = api.post("/me/reservations", me, json=body, headers={"Idempotency-Key": "x"}).json()
    cancelled = api.delete(f"/me/reservations/{made['id']}", me)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert api.get("/me", me).json()["available"] == 30
    _, other = shopper(api, 0)
    problem(api.delete(f"/me/reservations/{made['id']}", other), 404, "not_found")


def test_a_card_with_its_pin_pays_at_the_counter(api: Api, world: World) -> None:
    vol = api.run(new_token, world, "vol-a")
    staff = api.run(new_token, world, "staff-a")
    rid, _ = shopper(api, 20, "张桂兰")
    card = api.post(f"/residents/{rid}/card", staff, json={"pin": "2580"}).json()["card_code"]
    problem(
        order(
            api,
            world,
            vol,
            {"code": card, "pin": "2580", "lines": [{"sku": "SOAP", "quantity": 1}]},
        ),
        409,
        "card_pending",
    )  # she holds points: the card waits for a second staff member
    second = api.run(new_token, world, "staff-a2")
    assert api.post(f"/residents/{rid}/card/approve", second).status_code == 200
    wrong = order(
        api, world, vol, {"code": card, "pin": "1111", "lines": [{"sku": "SOAP", "quantity": 1}]}
    )
    problem(wrong, 400, "validation_error")
    paid = order(
        api, world, vol, {"code": card, "pin": "2580", "lines": [{"sku": "SOAP", "quantity": 1}]}
    )
    assert paid.status_code == 201 and paid.json()["balance_after"] == 15


def test_the_shift_counts_my_orders_since_i_signed_in(api: Api, world: World) -> None:
    vol = api.run(new_token, world, "vol-a")
    assert api.get("/me/shift", vol).json()["orders"] == 0
    _, me = shopper(api, 20)
    order(api, world, vol, {"code": pay_code(api, me), "lines": [{"sku": "SOAP", "quantity": 2}]})
    shift = api.get("/me/shift", vol).json()
    assert (shift["orders"], shift["points"]) == (1, 10)
    assert shift["items"] == [{"name": "香皂", "quantity": 2}]


async def _stock_oil(db: Database, outlet: int) -> None:
    """A's supermarket sells cooking oil (食用油), at most 2 a month for each resident."""
    await items.create_item(
        db, ADMIN, A, sku="OIL", name="食用油", kind="goods", price_points=10, monthly_limit=2
    )
    await stock.change_stock(
        db, ADMIN, outlet, sku="OIL", quantity=10, reason="receipt", idempotency_key="test:oil"
    )


async def _orders_of(db: Database, resident_id: int) -> int:
    async with db.connection() as conn:
        return int(
            await conn.fetchval("SELECT COUNT(*) FROM mall_order WHERE resident = ?", resident_id)
        )


async def _codes_of(db: Database, resident_id: int) -> list[tuple[int, datetime, datetime | None]]:
    async with db.connection() as conn:
        rows = await conn.fetch(
            "SELECT id, expires_at, used_at FROM mall_code WHERE resident = ? AND kind = 'pay' "
            "ORDER BY id",
            resident_id,
        )
    return [(r["id"], r["expires_at"], r["used_at"]) for r in rows]


async def _expire_codes(db: Database, resident_id: int) -> None:
    """Time passes: every code of the resident is past its expiry."""
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE mall_code SET expires_at = ? WHERE resident = ?",
            datetime.now(UTC) - timedelta(seconds=1),
            resident_id,
        )


def levels(api: Api, world: World, token: str) -> dict[str, int]:
    shelf = api.get(f"/outlets/{world.outlets['outlet-a']}/stock", token).json()["items"]
    return {item["sku"]: item["level"] for item in shelf}


def test_an_order_over_the_monthly_limit_is_limit_exceeded_and_changes_nothing(
    api: Api, world: World
) -> None:
    vol = api.run(new_token, world, "vol-a")
    api.run(_stock_oil, world.outlets["outlet-a"])
    rid, me = shopper(api, 100, "孙长林")
    code = pay_code(api, me)
    first = order(api, world, vol, {"code": code, "lines": [{"sku": "OIL", "quantity": 1}]})
    assert first.status_code == 201, first.text
    code = pay_code(api, me)
    before = (
        api.get("/me", me).json(),
        levels(api, world, vol),
        api.run(_orders_of, rid),
        api.run(_codes_of, rid),
    )
    assert before[0]["available"] == 90 and before[1]["OIL"] == 9 and before[2] == 1
    assert before[3][-1][2] is None  # the new code is unused
    over = {"code": code, "lines": [{"sku": "SOAP", "quantity": 1}, {"sku": "OIL", "quantity": 2}]}
    zh = problem(order(api, world, vol, over), 409, "limit_exceeded")
    assert zh["detail"] == "食用油：每人每月限兑 2 件，本月还能兑 1 件。", zh
    en = problem(
        api.post(
            f"/outlets/{world.outlets['outlet-a']}/orders",
            vol,
            json=over,
            headers={"Idempotency-Key": f"k{next(_n)}", "Accept-Language": "en"},
        ),
        409,
        "limit_exceeded",
    )
    assert en["detail"] == "食用油: at most 2 a month for each resident; 1 left this month.", en
    after = (
        api.get("/me", me).json(),
        levels(api, world, vol),
        api.run(_orders_of, rid),
        api.run(_codes_of, rid),
    )
    assert after == before  # points, shelf, orders, and the code not used up


def test_an_expired_pay_code_is_code_expired_at_the_counter_and_changes_nothing(
    api: Api, world: World
) -> None:
    vol = api.run(new_token, world, "vol-a")
    outlet = world.outlets["outlet-a"]
    rid, me = shopper(api, 40, "吴国庆")
    code = pay_code(api, me)
    api.run(_expire_codes, rid)
    before = (api.get("/me", me).json(), levels(api, world, vol), api.run(_codes_of, rid))
    found = problem(
        api.post(f"/outlets/{outlet}/lookup", vol, json={"code": code}), 410, "code_expired"
    )
    assert found["detail"] == "这个码已过期，请重新出示。"
    problem(
        order(api, world, vol, {"code": code, "lines": [{"sku": "SOAP", "quantity": 1}]}),
        410,
        "code_expired",
    )
    after = (api.get("/me", me).json(), levels(api, world, vol), api.run(_codes_of, rid))
    assert after == before and before[0]["available"] == 40
    assert api.run(_orders_of, rid) == 0


def test_a_volunteer_given_an_outlet_is_forbidden_at_the_others(api: Api, world: World) -> None:
    staff = api.run(new_token, world, "staff-a")
    market, other = world.outlets["outlet-a"], world.outlets["outlet-b"]
    corner = api.post(
        f"/communities/{A}/outlets", staff, json={"name": "街角便民点", "kind": "partner"}
    ).json()["id"]
    made = api.post(
        "/users",
        staff,
        json={
            "username": "corner-vol",
            "password": PASSWORD,
            "role": "volunteer",
            "community": A,
            "outlets": [corner],
        },
    )
    assert made.status_code == 201, made.text
    assert made.json()["outlets"] == [corner]
    vol = api.post("/auth/token", json={"username": "corner-vol", "password": PASSWORD}).json()
    vol = vol["token"]
    _, me = shopper(api, 40, "郑秀兰")
    code = pay_code(api, me)
    refused = problem(api.post(f"/outlets/{market}/lookup", vol, json={"code": code}), 403, "forbidden")  # fmt: skip
    assert refused["detail"] == "这不是您值班的兑换点。如果您在这里服务，请工作人员为您添加。"
    problem(order(api, world, vol, {"code": code, "lines": [{"sku": "SOAP", "quantity": 1}]}), 403, "forbidden")  # fmt: skip
    assert api.post(f"/outlets/{corner}/lookup", vol, json={"code": code}).status_code == 200
    uid = made.json()["id"]
    problem(  # another community's outlet is not A's to give
        api.put(f"/users/{uid}/outlets", staff, json={"outlets": [corner, other]}),
        400,
        "validation_error",
    )
    again = api.put(f"/users/{uid}/outlets", staff, json={"outlets": [market]})
    assert again.status_code == 200 and again.json()["outlets"] == [market]
    placed = order(api, world, vol, {"code": code, "lines": [{"sku": "SOAP", "quantity": 1}]})
    assert placed.status_code == 201, placed.text
    problem(api.post(f"/outlets/{corner}/lookup", vol, json={"code": pay_code(api, me)}), 403, "forbidden")  # fmt: skip
