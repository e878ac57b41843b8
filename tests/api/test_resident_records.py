"""A resident's record over the API: PATCH /residents/{id}, POST /residents/{id}/close and
/merge, and the residents search with `q`, `status` and pages. Every refusal changes nothing."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from mall.people import residents
from tests.api.helpers import Api, problem
from tests.api.test_awards import count, give, wallet
from tests.api.test_counter import order, pay_code, shopper
from tests.api.world import ADMIN, BIG_RULE, A, B, World, award

Token = Callable[[str], str]
_n = itertools.count()


def newcomer(api: Api, name: str = "陈桂兰", points: int = 0, slug: str = A) -> int:
    rid: int = api.run(residents.create_resident, ADMIN, slug, name, None, None).id
    if points:
        api.run(award, slug, rid, points, f"records:{rid}:{next(_n)}", "奖励")
    return rid


async def budget(db: Any, slug: str) -> int:
    async with db.connection() as conn:
        book = await conn.fetchval("SELECT book FROM mall_community WHERE slug = ?", slug)
        return int(
            await conn.fetchval(
                "SELECT balance FROM ledger_account WHERE book = ? AND code = 'budget'", book
            )
        )


def test_staff_correct_a_record(api: Api, world: World, token: Token) -> None:
    staff = token("staff-a")
    rid = newcomer(api)
    changed = api.request(
        "PATCH",
        f"/residents/{rid}",
        staff,
        json={
            "name": "陈桂芝",
            "phone": "139 0000 7777",
            "grid": "g1",
            "building": "3",
            "unit": "2",
        },
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["name"], body["phone"], body["grid"], body["building"], body["unit"]) == (
        "陈桂芝",
        "13900007777",
        "g1",
        "3",
        "2",
    )
    kept = api.request("PATCH", f"/residents/{rid}", staff, json={"grid": None}).json()
    assert (kept["name"], kept["phone"], kept["grid"], kept["building"]) == (
        "陈桂芝",
        "13900007777",
        None,
        "3",
    )
    logged = api.get(f"/communities/{A}/audit", staff).json()["entries"][0]
    assert logged["action"] == "resident.update" and logged["target"] == f"resident:{rid}"


@pytest.mark.parametrize(
    "body",
    [
        {"name": ""},
        {"name": None},
        {"name": "名" * 51},
        {"phone": "12345"},
        {"grid": "no-such-grid"},
        {"name": "张\x00三"},
        {"building": "楼" * 41},
        {"age": 80},
        {"name": 5},
    ],
)
def test_a_bad_change_is_a_validation_error_and_changes_nothing(
    api: Api, world: World, token: Token, body: dict[str, Any]
) -> None:
    staff = token("staff-a")
    rid = newcomer(api, "赵桂香")
    before = api.get(f"/residents/{rid}", staff).json()
    problem(api.request("PATCH", f"/residents/{rid}", staff, json=body), 400, "validation_error")
    assert api.get(f"/residents/{rid}", staff).json() == before


def test_a_phone_another_record_has_is_already_exists(api: Api, world: World, token: Token) -> None:
    staff = token("staff-a")
    rid = newcomer(api, "钱小红")
    taken = api.request("PATCH", f"/residents/{rid}", staff, json={"phone": "13800001111"})
    problem(taken, 409, "already_exists")  # the world's target has it
    assert api.get(f"/residents/{rid}", staff).json()["phone"] is None


def test_only_staff_of_the_community_change_a_record(api: Api, world: World, token: Token) -> None:
    rid = newcomer(api, "孙大伟")
    change = {"name": "孙小伟"}
    for who, status, code in (
        ("staff-b", 404, "not_found"),
        ("vol-a", 403, "forbidden"),
        ("res-a", 403, "forbidden"),
    ):
        problem(api.request("PATCH", f"/residents/{rid}", token(who), json=change), status, code)
        problem(api.post(f"/residents/{rid}/close", token(who), json={"reason": "x"}), status, code)
        merge = {"into": world.residents["res-a"], "reason": "x"}
        problem(api.post(f"/residents/{rid}/merge", token(who), json=merge), status, code)
    problem(
        api.request("PATCH", "/residents/999999", token("admin"), json=change), 404, "not_found"
    )
    problem(api.request("PATCH", f"/residents/{rid}", None, json=change), 401, "unauthenticated")
    assert api.get(f"/residents/{rid}", token("staff-a")).json()["name"] == "孙大伟"


def test_closing_returns_the_points_and_every_later_call_is_account_closed(
    api: Api, world: World, token: Token
) -> None:
    staff, vol = token("staff-a"), token("vol-a")
    rid, phone = shopper(api, 40, "周closing")
    code = pay_code(api, phone)
    card = api.post(f"/residents/{rid}/card", staff, json={"pin": "2580"}).json()["card_code"]
    before = api.run(budget, A)
    closed = api.post(f"/residents/{rid}/close", staff, json={"reason": "搬离社区"})
    assert closed.status_code == 200 and closed.json() == {"returned": 40}
    assert api.run(budget, A) == before + 40 and api.run(wallet, A, rid) == 0
    shown = api.get(f"/residents/{rid}", staff).json()
    assert shown["closed"] and shown["closed_reason"] == "搬离社区" and shown["balance"] == 0
    entry = api.get(f"/residents/{rid}/passbook", staff).json()["entries"][0]
    assert (entry["kind"], entry["amount"]) == ("closure", -40) and "搬离社区" in entry["memo"]

    problem(api.get("/me", phone), 401, "unauthenticated")
    problem(api.get("/me/pay-code", phone), 401, "unauthenticated")
    outlet = world.outlets["outlet-a"]
    lines = [{"sku": "SOAP", "quantity": 1}]
    orders = api.run(count, "mall_order")
    for refused in (
        api.post(f"/outlets/{outlet}/lookup", vol, json={"code": code}),
        order(api, world, vol, {"code": code, "lines": lines}),
        order(api, world, vol, {"code": card, "pin": "2580", "lines": lines}),
        give(api, staff, [rid]),
        api.post(f"/residents/{rid}/card", staff, json={"pin": "1357"}),
        api.post(f"/residents/{rid}/activation", staff),
        api.request("PATCH", f"/residents/{rid}", staff, json={"name": "周某"}),
        api.post(f"/residents/{rid}/close", staff, json={"reason": "再次"}),
        api.post(f"/residents/{rid}/merge", staff, json={"into": world.target, "reason": "x"}),
    ):
        problem(refused, 410, "account_closed")
    assert api.run(count, "mall_order") == orders
    assert api.run(wallet, A, rid) == 0 and api.run(budget, A) == before + 40


def test_an_activation_code_issued_before_closing_cannot_bind_a_phone(
    api: Api, world: World, token: Token
) -> None:
    staff = token("staff-a")
    rid = newcomer(api, "吴activation")
    code = api.post(f"/residents/{rid}/activation", staff).json()["code"]
    api.post(f"/residents/{rid}/close", staff, json={"reason": "去世"})
    problem(api.post("/activate", json={"code": code}), 410, "account_closed")


async def soap_level(db: Any, outlet: int) -> int:
    async with db.connection() as conn:
        return int(
            await conn.fetchval(
                "SELECT s.level FROM catalog_stock_level s JOIN catalog_item i ON i.id = s.item "
                "WHERE s.outlet = ? AND i.sku = 'SOAP'",
                outlet,
            )
        )


def test_closing_needs_a_reason_and_cancels_reservations_waiting_for_pickup(
    api: Api, world: World, token: Token
) -> None:
    staff = token("staff-a")
    outlet = world.outlets["outlet-a"]
    rid, phone = shopper(api, 30, "郑reserve")
    problem(
        api.post(f"/residents/{rid}/close", staff, json={"reason": " "}), 400, "validation_error"
    )
    problem(api.post(f"/residents/{rid}/close", staff, json={}), 400, "validation_error")
    assert api.get(f"/residents/{rid}", staff).json()["closed"] is False
    shelf = api.run(soap_level, outlet)
    body = {"outlet": outlet, "lines": [{"sku": "SOAP", "quantity": 2}]}
    made = api.post("/me/reservations", phone, json=body, headers={"Idempotency-Key": "z"})
    assert made.status_code == 201 and api.run(soap_level, outlet) == shelf - 2
    closed = api.post(f"/residents/{rid}/close", staff, json={"reason": "搬离"})
    assert closed.status_code == 200 and closed.json() == {"returned": 30}
    assert api.run(soap_level, outlet) == shelf
    shown = api.get(f"/residents/{rid}", staff).json()
    assert (shown["balance"], shown["held"], shown["available"]) == (0, 0, 0)


def test_merging_moves_the_balance_and_closes_the_duplicate(
    api: Api, world: World, token: Token
) -> None:
    staff = token("staff-a")
    keep = newcomer(api, "冯merge", 10)
    duplicate = newcomer(api, "冯merge", 25)
    before = api.run(budget, A)
    merged = api.post(
        f"/residents/{duplicate}/merge", staff, json={"into": keep, "reason": "重复登记"}
    )
    assert merged.status_code == 200, merged.text
    assert merged.json() == {"id": duplicate, "into": keep, "moved": 25}
    assert api.run(wallet, A, keep) == 35 and api.run(wallet, A, duplicate) == 0
    assert api.run(budget, A) == before
    gone = api.get(f"/residents/{duplicate}", staff).json()
    assert gone["closed"] and gone["merged_into"] == keep
    entry = api.get(f"/residents/{keep}/passbook", staff).json()["entries"][0]
    assert (entry["kind"], entry["amount"]) == ("merge", 25)


def test_merging_refuses_itself_closed_records_other_communities_and_oneself(
    api: Api, world: World, token: Token
) -> None:
    staff = token("staff-a")
    keep = newcomer(api, "蒋keep", 10)
    duplicate = newcomer(api, "蒋dup", 20)
    closed = newcomer(api, "蒋closed")
    api.post(f"/residents/{closed}/close", staff, json={"reason": "去世"})

    def merge(rid: int, into: int, who: str = "staff-a") -> Any:
        return api.post(
            f"/residents/{rid}/merge", token(who), json={"into": into, "reason": "重复"}
        )

    problem(merge(duplicate, duplicate), 400, "validation_error")
    problem(merge(duplicate, closed), 410, "account_closed")
    problem(merge(closed, keep), 410, "account_closed")
    problem(merge(duplicate, world.residents["res-b"]), 404, "not_found")
    problem(merge(duplicate, world.residents["res-b"], "admin"), 404, "not_found")
    problem(merge(duplicate, 999999), 404, "not_found")
    problem(
        api.post(f"/residents/{duplicate}/merge", staff, json={"into": 0, "reason": "x"}),
        400,
        "validation_error",
    )

    async def link(db: Any, user: int, resident: int | None) -> None:
        async with db.transaction() as conn:
            await conn.execute("UPDATE mall_user SET resident = ? WHERE id = ?", resident, user)

    api.run(link, world.users["staff-a2"], keep)
    try:
        problem(merge(duplicate, keep, "staff-a2"), 403, "self_dealing")
        problem(merge(keep, duplicate, "staff-a2"), 403, "self_dealing")
    finally:
        api.run(link, world.users["staff-a2"], None)
    assert api.run(wallet, A, keep) == 10 and api.run(wallet, A, duplicate) == 20
    assert api.get(f"/residents/{duplicate}", staff).json()["closed"] is False


def test_search_by_grid_pages_and_filters_closed_records(
    api: Api, world: World, token: Token
) -> None:
    staff = token("staff-a")
    made = [newcomer(api, f"韩{n}") for n in range(3)]
    api.post(f"/residents/{made[0]}/close", staff, json={"reason": "搬离"})
    first = api.get(f"/communities/{A}/residents", staff, params={"q": "韩", "limit": 2}).json()
    assert [r["name"] for r in first["residents"]] == ["韩0", "韩1"] and first["next"] == 2
    assert [r["closed"] for r in first["residents"]] == [True, False]
    rest = api.get(
        f"/communities/{A}/residents", staff, params={"q": "韩", "limit": 2, "offset": 2}
    ).json()
    assert [r["name"] for r in rest["residents"]] == ["韩2"] and rest["next"] is None
    open_only = api.get(f"/communities/{A}/residents", staff, params={"q": "韩", "status": "open"})
    assert [r["name"] for r in open_only.json()["residents"]] == ["韩1", "韩2"]
    shut = api.get(f"/communities/{A}/residents", staff, params={"q": "韩", "status": "closed"})
    assert [r["id"] for r in shut.json()["residents"]] == [made[0]]
    by_grid = api.get(f"/communities/{A}/residents", staff, params={"q": "G1"}).json()
    assert world.target in [r["id"] for r in by_grid["residents"]]
    for bad in ({"status": "gone"}, {"offset": -1}):
        problem(api.get(f"/communities/{A}/residents", staff, params=bad), 400, "validation_error")
    problem(api.get(f"/communities/{B}/residents", staff, params={"q": "韩"}), 403, "forbidden")


def test_an_award_waiting_for_approval_cannot_be_approved_for_a_closed_record(
    api: Api, world: World, token: Token
) -> None:
    rid = newcomer(api, "曹pending")
    pending = give(api, token("staff-a"), [rid], rule=BIG_RULE)
    assert pending.json()["status"] == "pending_approval"
    api.post(f"/residents/{rid}/close", token("staff-a"), json={"reason": "搬离"})
    approve = api.post(f"/awards/{pending.json()['id']}/approve", token("staff-a2"))
    problem(approve, 410, "account_closed")
    assert api.run(wallet, A, rid) == 0
