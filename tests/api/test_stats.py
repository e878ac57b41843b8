"""Statistics through the API: the contract's fields, awards posted through the API counted,
reversals reported apart, the street's total, the figures against the ledger's own balances and
the shelves, and every bad range refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

import catalog
import ledger
from mall import days
from mall.db import Database
from mall.org import points
from tests.api.helpers import Api, problem
from tests.api.test_awards import give, key
from tests.api.world import A, B, World

Token = Callable[[str], str]
FIELDS = {
    "issued",
    "issued_by_path",
    "reversed",
    "redeemed",
    "refunded",
    "earners",
    "redeemers",
    "residents",
    "outstanding",
    "stock_value",
    "coverage",
    "ratings",
    "volunteer_hours",
    "volunteer_hours_by_path",
    "average_rating",
}


def figures(api: Api, token: str, slug: str = A, **query: str) -> dict[str, Any]:
    shown = api.get(f"/communities/{slug}/stats", token, params=query)
    assert shown.status_code == 200, shown.text
    body: dict[str, Any] = shown.json()
    return body


async def held_and_shelves(db: Database, slug: str) -> tuple[int, int]:
    """What the community's residents hold, read account by account from the ledger, and the
    shelves' value worked out item by item: independent of the statistics' own reads."""
    async with db.connection() as conn:
        community = await conn.fetchrow("SELECT id, book FROM mall_community WHERE slug = ?", slug)
        assert community is not None
        held = (await ledger.get_balance(conn, community["book"], ledger.HOLDS_ACCOUNT)).balance
        for r in await conn.fetch(
            "SELECT id FROM mall_resident WHERE community = ?", community["id"]
        ):
            wallet = points.wallet(r["id"])
            held += (await ledger.get_balance(conn, community["book"], wallet)).balance
        value = 0
        for outlet in await catalog.list_outlets(conn, community["id"]):
            for item in await catalog.stock_list(conn, outlet["id"]):
                value += item["price_points"] * item["level"]
    return held, value


def test_the_answer_has_exactly_the_contract_s_fields(api: Api, token: Token) -> None:
    body = figures(api, token("staff-a"))
    assert set(body) == FIELDS
    assert set(body["issued_by_path"]) == {"timely_help", "adding_to_good", "settling_disputes"}
    assert (body["ratings"], body["average_rating"]) == (0, None)


def test_an_award_through_the_api_is_issued_and_its_reversal_reported_apart(
    api: Api, world: World, token: Token
) -> None:
    staff = token("staff-a")
    before = figures(api, staff)
    made = give(api, staff, [world.residents["res-a"]])
    assert made.status_code == 201 and made.json()["status"] == "posted", made.text
    reversal = api.post(
        f"/awards/{made.json()['id']}/reverse", staff, json={"reason": "重复申报"}, headers=key()
    )
    assert reversal.status_code == 201, reversal.text
    after = figures(api, staff)
    assert after["issued"] == before["issued"] + 5
    assert (
        after["issued_by_path"]["adding_to_good"] == before["issued_by_path"]["adding_to_good"] + 5
    )
    assert after["reversed"] == before["reversed"] + 5
    assert after["outstanding"] == before["outstanding"]


def test_the_figures_agree_with_the_ledger_and_the_shelves(
    api: Api, world: World, token: Token
) -> None:
    give(api, token("staff-a"), [world.target, world.residents["res-a"]])
    body = figures(api, token("admin"))
    held, value = api.run(held_and_shelves, A)
    assert (body["outstanding"], body["stock_value"]) == (held, value)
    assert body["outstanding"] > 0 and body["stock_value"] > 0
    assert body["coverage"] == round(value / held, 4)


def test_the_street_lists_every_community_and_their_total(
    api: Api, world: World, token: Token
) -> None:
    admin = token("admin")
    give(api, token("staff-a"), [world.target])
    street = api.get("/stats", admin)
    assert street.status_code == 200, street.text
    body = street.json()
    assert [c["slug"] for c in body["communities"]] == [B, A]  # by code: birch, maple
    for community in body["communities"]:
        alone = figures(api, admin, community["slug"])
        assert {**community, "slug": None} == {**alone, "slug": None}
    for field in ("issued", "reversed", "redeemed", "earners", "residents", "outstanding"):
        assert body["total"][field] == sum(c[field] for c in body["communities"])
    assert set(body["total"]) == FIELDS


def test_a_range_before_the_awards_has_none_of_them(api: Api, world: World, token: Token) -> None:
    staff = token("staff-a")
    give(api, staff, [world.target])
    today = days.today()
    body = figures(
        api,
        staff,
        **{"from": str(today - timedelta(days=60)), "to": str(today - timedelta(days=45))},
    )
    assert (body["issued"], body["earners"], body["redeemed"]) == (0, 0, 0)


@pytest.mark.parametrize(
    "query",
    [
        {"from": "2026-13-01"},
        {"to": "yesterday"},
        {"from": "2026-12-05", "to": "2026-12-01"},
        {"from": "2025-01-01", "to": "2026-12-01"},
    ],
)
def test_a_bad_range_is_a_validation_error(api: Api, token: Token, query: dict[str, str]) -> None:
    problem(
        api.get(f"/communities/{A}/stats", token("staff-a"), params=query), 400, "validation_error"
    )
    problem(api.get("/stats", token("admin"), params=query), 400, "validation_error")


def test_another_community_s_staff_and_residents_are_refused(api: Api, token: Token) -> None:
    problem(api.get(f"/communities/{A}/stats", token("staff-b")), 403, "forbidden")
    problem(api.get(f"/communities/{A}/stats", token("vol-a")), 403, "forbidden")
    problem(api.get(f"/communities/{A}/stats", token("res-a")), 403, "forbidden")
    problem(api.get("/stats", token("staff-a")), 403, "forbidden")
    problem(api.get("/stats"), 401, "unauthenticated")
