"""Building heads (楼栋长) through the API: created by staff with their own resident record and
buildings, they see their buildings' residents and propose awards that always wait for staff.
Outside their buildings, in another community, for themselves, or approving: refused, nothing
moved."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from mall.db import Database
from tests.api.helpers import Api, problem
from tests.api.world import PASSWORD, A, B, World

Token = Callable[[str], str]
_n = itertools.count()


def key() -> dict[str, str]:
    return {"Idempotency-Key": f"head-{next(_n)}"}


async def _state(db: Database) -> tuple[Any, ...]:
    async with db.connection() as conn:
        return (
            await conn.fetchval("SELECT COUNT(*) FROM ledger_journal"),
            await conn.fetchval("SELECT COUNT(*) FROM mall_award WHERE status = 'posted'"),
            [
                tuple(r)
                for r in await conn.fetch("SELECT code, balance FROM ledger_account ORDER BY id")
            ],
        )


class Head:
    def __init__(self, api: Api, token: Token) -> None:
        n = next(_n)
        staff = token("staff-a")
        self.staff = staff

        def resident(name: str, building: str, slug: str = A, who: str = "staff-a") -> int:
            body = {"name": f"{name}{n}", "building": building, "unit": "1"}
            made = api.post(f"/communities/{slug}/residents", token(who), json=body)
            assert made.status_code == 201, made.text
            assert made.json()["building"] == building
            return int(made.json()["id"])

        self.own = resident("楼长", "3")
        self.neighbour = resident("邻居", "3")
        self.elsewhere = resident("别楼", "4")
        self.other_community = resident("外区", "3", B, "staff-b")
        self.username = f"head-{n}"
        body = {
            "username": self.username,
            "password": PASSWORD,
            "role": "building_head",
            "community": A,
            "resident_id": self.own,
            "buildings": ["3"],
        }
        made = api.post("/users", staff, json=body)
        assert made.status_code == 201, made.text
        assert made.json()["role"] == "building_head" and made.json()["buildings"] == ["3"]
        signed = api.post("/auth/token", json={"username": self.username, "password": PASSWORD})
        assert signed.status_code in (200, 201), signed.text
        self.token = signed.json()["token"]


@pytest.fixture
def head(api: Api, token: Token) -> Head:
    return Head(api, token)


def propose(api: Api, head: Head, ids: list[int], slug: str = A, rule: str = "meeting") -> Any:
    body = {"community": slug, "rule": rule, "resident_ids": ids, "memo": "帮邻居搬东西"}
    return api.post("/awards", head.token, json=body, headers=key())


def test_a_head_sees_their_buildings_and_proposes_for_staff_to_approve(
    api: Api, head: Head, token: Token
) -> None:
    mine = api.get("/me/buildings", head.token)
    assert mine.status_code == 200, mine.text
    ids = {r["id"] for r in mine.json()["residents"]}
    assert {head.own, head.neighbour} <= ids and head.elsewhere not in ids
    assert head.other_community not in ids
    assert all(r["building"] == "3" for r in mine.json()["residents"])
    before = api.run(_state)
    made = propose(api, head, [head.neighbour])
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "pending_approval"
    assert api.run(_state) == before
    award_id = made.json()["id"]
    problem(api.post(f"/awards/{award_id}/approve", head.token), 403, "forbidden")
    problem(
        api.post(f"/awards/{award_id}/reject", head.token, json={"reason": "x"}), 403, "forbidden"
    )
    approved = api.post(f"/awards/{award_id}/approve", head.staff)
    assert approved.status_code == 200 and approved.json()["status"] == "posted", approved.text
    passbook = api.get(f"/residents/{head.neighbour}/passbook", head.staff).json()
    assert passbook["entries"][0]["amount"] == 5


def test_a_head_outside_their_buildings_or_community_or_for_themselves_moves_nothing(
    api: Api, head: Head, world: World
) -> None:
    before = api.run(_state)
    problem(propose(api, head, [head.elsewhere]), 403, "forbidden")
    problem(propose(api, head, [head.neighbour, head.elsewhere]), 403, "forbidden")
    problem(propose(api, head, [head.other_community]), 403, "forbidden")
    problem(propose(api, head, [head.neighbour], slug=B), 403, "forbidden")
    problem(propose(api, head, [head.own]), 403, "self_dealing")
    problem(propose(api, head, [head.own, head.neighbour]), 403, "self_dealing")
    assert api.run(_state) == before


def test_a_head_never_acts_as_staff(api: Api, head: Head, world: World, token: Token) -> None:
    staff = token("staff-a")
    body = {"community": A, "rule": "meeting", "resident_ids": [head.neighbour], "memo": "议事"}
    posted = api.post("/awards", staff, json=body, headers=key()).json()
    before = api.run(_state)
    tries = {
        "resident": api.get(f"/residents/{head.neighbour}", head.token),
        "reverse": api.post(
            f"/awards/{posted['id']}/reverse", head.token, json={"reason": "错"}, headers=key()
        ),
        "refund": api.post("/orders/1/refund", head.token, headers=key()),
        "grant budget": api.post(
            f"/communities/{A}/budget/grants",
            head.token,
            json={"points": 5, "memo": "x"},
            headers=key(),
        ),
        "card": api.post(f"/residents/{head.neighbour}/card", head.token, json={"pin": "1234"}),
        "checkout": api.post(
            f"/outlets/{world.outlets['outlet-a']}/orders",
            head.token,
            json={"code": "1" * 20, "lines": [{"sku": "SOAP", "quantity": 1}]},
            headers=key(),
        ),
        "proxy": api.post(f"/residents/{head.neighbour}/proxies", head.token, json={"proxy_id": 1}),
    }
    for what, response in tries.items():
        assert response.status_code == 403, (what, response.text)
    assert api.run(_state) == before


def test_who_may_make_a_building_head(api: Api, world: World, token: Token) -> None:
    base = {"password": PASSWORD, "role": "building_head", "community": A, "buildings": ["3"]}
    target = world.target
    problem(
        api.post("/users", token("staff-a"), json={**base, "username": f"h{next(_n)}"}),
        400,
        "validation_error",
    )
    problem(
        api.post(
            "/users",
            token("staff-b"),
            json={**base, "username": f"h{next(_n)}", "resident_id": target},
        ),
        403,
        "forbidden",
    )
    problem(
        api.post(
            "/users",
            token("staff-a"),
            json={**base, "username": f"h{next(_n)}", "resident_id": target, "buildings": []},
        ),
        400,
        "validation_error",
    )


def test_approving_a_head_s_proposal_counts_toward_the_approver_s_threshold(
    api: Api, head: Head, token: Token
) -> None:
    staff = token("staff-a")
    code = f"help{next(_n)}"
    rule = {"code": code, "name": "帮扶", "path": "timely_help", "points": 60}
    assert api.post(f"/communities/{A}/rules", staff, json=rule).status_code == 201
    made = propose(api, head, [head.neighbour], rule=code).json()
    assert api.post(f"/awards/{made['id']}/approve", staff).json()["status"] == "posted"
    body = {"community": A, "rule": code, "resident_ids": [head.neighbour], "memo": "再帮扶"}
    again = api.post("/awards", staff, json=body, headers=key())
    assert again.json()["status"] == "pending_approval", again.text
