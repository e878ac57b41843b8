"""A resident's record over the API: PATCH /residents/{id}. Every refusal changes nothing."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from mall.people import residents
from tests.api.helpers import Api, problem
from tests.api.world import ADMIN, A, World, award

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
    problem(
        api.request("PATCH", "/residents/999999", token("admin"), json=change), 404, "not_found"
    )
    problem(api.request("PATCH", f"/residents/{rid}", None, json=change), 401, "unauthenticated")
    assert api.get(f"/residents/{rid}", token("staff-a")).json()["name"] == "孙大伟"
