"""The signed-in resident's own account: /me, the pay code and the passbook."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from mall import days
from mall.earning.expiry import add_months
from tests.api.helpers import Api, problem
from tests.api.world import A, B, World

Token = Callable[[str], str]


def test_me_shows_the_residents_own_account(api: Api, world: World, token: Token) -> None:
    me = api.get("/me", token("target"))
    assert me.status_code == 200
    body = me.json()
    assert (body["id"], body["community"], body["balance"], body["held"], body["available"]) == (
        world.target,
        A,
        50,
        0,
        50,
    )
    other = api.get("/me", token("res-b")).json()
    assert (other["id"], other["community"], other["balance"]) == (world.residents["res-b"], B, 0)


def test_each_pay_code_is_fresh_twenty_digits_valid_for_about_a_minute(
    api: Api, world: World, token: Token
) -> None:
    phone = token("res-a")
    first, second = api.get("/me/pay-code", phone), api.get("/me/pay-code", phone)
    assert first.status_code == second.status_code == 200
    codes = [first.json()["code"], second.json()["code"]]
    assert all(c.isdigit() and len(c) == 20 for c in codes) and codes[0] != codes[1]
    left = datetime.fromisoformat(first.json()["expires_at"]) - datetime.now(UTC)
    assert timedelta(seconds=30) < left <= timedelta(seconds=60)
    assert first.headers["cache-control"] == "no-store"


def test_my_passbook_pages_newest_first(api: Api, world: World, token: Token) -> None:
    phone = token("target")
    page = api.get("/me/passbook?limit=1", phone).json()
    assert [e["amount"] for e in page["entries"]] == [20] and page["next"] is not None
    older = api.get("/me/passbook", phone, params={"limit": 1, "before": page["next"]}).json()
    assert [e["balance_after"] for e in older["entries"]] == [30] and older["next"] is None
    assert api.get("/me/passbook", token("res-b")).json() == {"entries": [], "next": None}


@pytest.mark.parametrize("path", ["/me", "/me/pay-code", "/me/passbook"])
@pytest.mark.parametrize("who", ["admin", "staff-a", "vol-a"])
def test_my_pages_are_for_residents_only(
    api: Api, world: World, token: Token, path: str, who: str
) -> None:
    problem(api.get(path, token(who)), 403, "forbidden")
    problem(api.get(path), 401, "unauthenticated")


def test_my_passbook_limits_are_validated(api: Api, world: World, token: Token) -> None:
    phone = token("target")
    problem(api.get("/me/passbook?limit=500", phone), 400, "validation_error")
    problem(api.get("/me/passbook?before=0", phone), 400, "validation_error")


def test_me_lists_the_points_that_expire_within_a_month(
    api: Api, world: World, token: Token
) -> None:
    assert api.get("/me", token("target")).json()["expiring"] == []
    admin = token("admin")
    api.put(f"/communities/{A}/policy", admin, json={"expiry": "months", "expiry_months": 1})
    try:
        # a new rule counts what was earned before as earned today: 50 points, a month from now
        on = add_months(days.today(), 1).isoformat()
        assert api.get("/me", token("target")).json()["expiring"] == [{"points": 50, "on": on}]
        assert api.get("/me", token("res-b")).json()["expiring"] == []
        api.put(f"/communities/{A}/policy", admin, json={"expiry_months": 2})
        assert api.get("/me", token("target")).json()["expiring"] == []
    finally:
        api.put(f"/communities/{A}/policy", admin, json={"expiry": "never", "expiry_months": 12})
