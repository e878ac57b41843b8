"""Residents through the API: registration, search, activation, printed cards and the passbook."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import Response

import ledger
from mall.db import Database
from tests.api.helpers import Api, problem
from tests.api.world import TARGET_NAME, TARGET_PHONE, A, B, World, award

Token = Callable[[str], str]


def register(api: Api, staff: str, body: dict[str, Any], slug: str = A) -> Response:
    return api.post(f"/communities/{slug}/residents", staff, json=body)


def test_staff_register_a_resident_with_phone_and_grid(
    api: Api, world: World, token: Token
) -> None:
    staff = token("staff-a")
    response = register(api, staff, {"name": " 陈桂兰 ", "phone": "139-0000-2222", "grid": "g1"})
    assert response.status_code == 201
    made = response.json()
    assert {k: made[k] for k in ("name", "phone", "grid", "community")} == {
        "name": "陈桂兰",
        "phone": "13900002222",
        "grid": "g1",
        "community": A,
    }
    shown = api.get(f"/residents/{made['id']}", staff).json()
    assert (shown["name"], shown["balance"], shown["held"], shown["available"]) == (
        "陈桂兰",
        0,
        0,
        0,
    )


def test_a_resident_needs_only_a_name(api: Api, world: World, token: Token) -> None:
    response = register(api, token("admin"), {"name": "刘强"})
    assert response.status_code == 201
    assert (response.json()["phone"], response.json()["grid"]) == (None, None)


@pytest.mark.parametrize(
    "body",
    [
        {"name": ""},
        {"name": "名" * 51},
        {"phone": "13900002222"},
        {"name": "张三", "phone": "12345"},
        {"name": "张三", "grid": "no-such-grid"},
        {"name": "张\x00三"},
        {"name": ["张三"]},
    ],
)
def test_invalid_registration_is_a_validation_error(
    api: Api, world: World, token: Token, body: dict[str, Any]
) -> None:
    problem(register(api, token("staff-a"), body), 400, "validation_error")


def test_registering_elsewhere_is_refused(api: Api, world: World, token: Token) -> None:
    problem(register(api, token("staff-a"), {"name": "张三"}, slug=B), 403, "forbidden")
    problem(register(api, token("admin"), {"name": "张三"}, slug="nowhere"), 404, "not_found")
    problem(register(api, token("vol-a"), {"name": "张三"}), 403, "forbidden")


def names(response: Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [r["name"] for r in response.json()["residents"]]


def test_search_by_name_phone_or_grid_stays_in_the_community(
    api: Api, world: World, token: Token
) -> None:
    staff = token("staff-a")
    assert names(api.get(f"/communities/{A}/residents?q=秀", staff)) == [TARGET_NAME]
    assert names(api.get(f"/communities/{A}/residents?q=0000111", staff)) == [TARGET_NAME]
    assert TARGET_NAME in names(api.get(f"/communities/{A}/residents?grid=g1", staff))
    assert names(api.get(f"/communities/{A}/residents?q=秀&grid=g2", staff)) == []
    assert names(api.get(f"/communities/{A}/residents?q=赵六", staff)) == []  # lives in B
    assert names(api.get(f"/communities/{B}/residents?q=赵六", token("staff-b"))) == ["赵六"]
    everyone = api.get(f"/communities/{A}/residents", staff).json()["residents"]
    target = next(r for r in everyone if r["name"] == TARGET_NAME)
    assert target == {
        "id": world.target,
        "name": TARGET_NAME,
        "phone": TARGET_PHONE,
        "grid": "g1",
        "balance": 50,
        "held": 0,
        "available": 50,
        "closed": False,
    }


def test_search_takes_percent_and_underscore_literally(
    api: Api, world: World, token: Token
) -> None:
    staff = token("staff-a")
    register(api, staff, {"name": "100%满意"})
    assert names(api.get(f"/communities/{A}/residents", staff, params={"q": "%"})) == ["100%满意"]
    assert names(api.get(f"/communities/{A}/residents", staff, params={"q": "_"})) == []


def test_search_limit_is_bounded(api: Api, world: World, token: Token) -> None:
    staff = token("staff-a")
    assert len(names(api.get(f"/communities/{A}/residents?limit=1", staff))) == 1
    problem(api.get(f"/communities/{A}/residents?limit=0", staff), 400, "validation_error")
    problem(api.get(f"/communities/{A}/residents?limit=201", staff), 400, "validation_error")
    problem(api.get(f"/communities/{A}/residents?q=" + "x" * 51, staff), 400, "validation_error")


async def hold(db: Database, resident_id: int, amount: int) -> None:
    async with db.transaction() as conn:
        book = await conn.fetchval("SELECT book FROM mall_community WHERE slug = ?", A)
        await ledger.place_hold(
            conn,
            book,
            f"wallet:r{resident_id}",
            amount,
            expires_at=datetime.now(UTC) + timedelta(days=1),
            idempotency_key=f"hold:{resident_id}:{amount}",
        )


def test_held_points_count_in_the_balance_but_not_as_available(
    api: Api, world: World, token: Token
) -> None:
    staff = token("staff-a")
    resident = register(api, staff, {"name": "孙预约"}).json()["id"]
    api.run(award, A, resident, 40, f"award:{resident}", "")
    api.run(hold, resident, 15)
    shown = api.get(f"/residents/{resident}", staff).json()
    assert (shown["balance"], shown["held"], shown["available"]) == (40, 15, 25)
    listed = api.get(f"/communities/{A}/residents", staff, params={"q": "孙预约"}).json()
    (row,) = listed["residents"]
    assert (row["balance"], row["held"], row["available"]) == (40, 15, 25)


def test_staff_see_a_resident_of_their_community(api: Api, world: World, token: Token) -> None:
    shown = api.get(f"/residents/{world.target}", token("staff-a")).json()
    assert shown == {
        "id": world.target,
        "name": TARGET_NAME,
        "community": A,
        "community_name": "枫林社区",
        "phone": TARGET_PHONE,
        "grid": "g1",
        "balance": 50,
        "held": 0,
        "available": 50,
        "building": None,
        "unit": None,
        "closed": False,
        "closed_at": None,
        "closed_reason": None,
        "merged_into": None,
    }


def test_another_communitys_resident_is_not_found(api: Api, world: World, token: Token) -> None:
    other = problem(api.get(f"/residents/{world.target}", token("staff-b")), 404, "not_found")
    missing = problem(api.get("/residents/999999", token("staff-b")), 404, "not_found")
    assert other == missing
    problem(api.get("/residents/99999999999", token("admin")), 400, "validation_error")
    problem(api.get("/residents/0", token("admin")), 400, "validation_error")


def test_activation_binds_a_phone_once(api: Api, world: World, token: Token) -> None:
    resident = register(api, token("staff-a"), {"name": "周激活"}).json()["id"]
    issued = api.post(f"/residents/{resident}/activation", token("staff-a"))
    assert issued.status_code == 201
    code = issued.json()["code"]
    assert issued.json()["url"].endswith("/a/" + code)
    expires = datetime.fromisoformat(issued.json()["expires_at"])
    assert timedelta(days=6) < expires - datetime.now(UTC) <= timedelta(days=7)
    activated = api.post("/activate", json={"code": code})
    assert activated.status_code == 200 and activated.json()["resident_id"] == resident
    me = api.get("/me", activated.json()["token"])
    assert me.status_code == 200 and me.json()["id"] == resident
    problem(api.post("/activate", json={"code": code}), 409, "code_used")


def test_a_new_activation_signs_out_the_old_phone_and_voids_the_old_code(
    api: Api, world: World, token: Token
) -> None:
    staff = token("staff-a")
    resident = register(api, staff, {"name": "吴换机"}).json()["id"]
    first = api.post(f"/residents/{resident}/activation", staff).json()["code"]
    old_phone = api.post("/activate", json={"code": first}).json()["token"]
    unused = api.post(f"/residents/{resident}/activation", staff).json()["code"]
    problem(api.get("/me", old_phone), 401, "unauthenticated")
    latest = api.post(f"/residents/{resident}/activation", staff).json()["code"]
    problem(api.post("/activate", json={"code": unused}), 400, "code_invalid")
    assert api.post("/activate", json={"code": latest}).status_code == 200


async def expire_codes(db: Database, resident_id: int) -> None:
    """Time passes: every code of the resident is past its expiry."""
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE mall_code SET expires_at = ? WHERE resident = ?",
            datetime.now(UTC) - timedelta(seconds=1),
            resident_id,
        )


def test_an_expired_activation_code_is_code_expired(api: Api, world: World, token: Token) -> None:
    staff = token("staff-a")
    resident = register(api, staff, {"name": "郑过期"}).json()["id"]
    code = api.post(f"/residents/{resident}/activation", staff).json()["code"]
    api.run(expire_codes, resident)
    problem(api.post("/activate", json={"code": code}), 410, "code_expired")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"code": "A1NOTAREALCODE"}, "code_invalid"),
        ({"code": "12345678901234567890"}, "code_invalid"),
        ({"code": ""}, "code_invalid"),
        ({}, "validation_error"),
        ({"code": ["A1"]}, "validation_error"),
    ],
)
def test_a_wrong_activation_code_is_refused(api: Api, body: dict[str, Any], code: str) -> None:
    problem(api.post("/activate", json=body), 400, code)


def test_a_forged_activation_code_is_code_invalid(api: Api, world: World, token: Token) -> None:
    code = api.post(f"/residents/{world.residents['res-b']}/activation", token("staff-b")).json()[
        "code"
    ]
    forged = code[:-1] + ("A" if code[-1] != "A" else "B")
    problem(api.post("/activate", json={"code": forged}), 400, "code_invalid")


def test_many_activation_attempts_from_one_address_are_rate_limited(fresh_api: Api) -> None:
    for _ in range(20):
        problem(fresh_api.post("/activate", json={"code": "A1GUESS"}), 400, "code_invalid")
    problem(fresh_api.post("/activate", json={"code": "A1GUESS"}), 429, "rate_limited")


async def cards_revoked(db: Database, resident_id: int) -> list[bool]:
    """For each card issued to the resident, oldest first: is it revoked?"""
    async with db.connection() as conn:
        rows = await conn.fetch(
            "SELECT revoked_at FROM mall_code WHERE resident = ? AND kind = 'card' ORDER BY id",
            resident_id,
        )
    return [r["revoked_at"] is not None for r in rows]


def test_a_new_card_revokes_the_old_one(api: Api, world: World, token: Token) -> None:
    staff = token("staff-a")
    resident = register(api, staff, {"name": "冯卡"}).json()["id"]
    first = api.post(f"/residents/{resident}/card", staff, json={"pin": "2580"})
    assert first.status_code == 201 and first.json()["card_code"].startswith("C1")
    second = api.post(f"/residents/{resident}/card", staff, json={"pin": "1357"})
    assert second.status_code == 201 and second.json()["card_code"] != first.json()["card_code"]
    assert api.run(cards_revoked, resident) == [True, False]


@pytest.mark.parametrize("pin", ["1111", "1234", "12", "1234567", "12a4", ""])
def test_a_weak_or_malformed_pin_is_a_validation_error(
    api: Api, world: World, token: Token, pin: str
) -> None:
    response = api.post(f"/residents/{world.target}/card", token("staff-a"), json={"pin": pin})
    problem(response, 400, "validation_error")


def test_cards_and_activations_for_another_community_are_not_found(
    api: Api, world: World, token: Token
) -> None:
    staff_b = token("staff-b")
    problem(api.post(f"/residents/{world.target}/activation", staff_b), 404, "not_found")
    card = api.post(f"/residents/{world.target}/card", staff_b, json={"pin": "2580"})
    problem(card, 404, "not_found")


def test_passbook_pages_newest_first_with_running_balance(
    api: Api, world: World, token: Token
) -> None:
    staff = token("staff-a")
    first = api.get(f"/residents/{world.target}/passbook?limit=1", staff).json()
    (newest,) = first["entries"]
    assert {k: newest[k] for k in ("kind", "path", "memo", "amount", "balance_after")} == {
        "kind": "award",
        "path": "timely_help",
        "memo": "参加议事会",
        "amount": 20,
        "balance_after": 50,
    }
    assert isinstance(newest["journal_id"], int) and datetime.fromisoformat(newest["at"])
    second = api.get(
        f"/residents/{world.target}/passbook", staff, params={"limit": 1, "before": first["next"]}
    ).json()
    assert [(e["memo"], e["balance_after"]) for e in second["entries"]] == [("帮扶困难户", 30)]
    assert second["next"] is None
    whole = api.get(f"/residents/{world.target}/passbook", staff).json()
    assert [e["amount"] for e in whole["entries"]] == [20, 30] and whole["next"] is None


def test_passbook_errors(api: Api, world: World, token: Token) -> None:
    staff = token("staff-a")
    problem(api.get(f"/residents/{world.target}/passbook?limit=0", staff), 400, "validation_error")
    problem(api.get(f"/residents/{world.target}/passbook?before=x", staff), 400, "validation_error")
    problem(api.get(f"/residents/{world.target}/passbook", token("staff-b")), 404, "not_found")
