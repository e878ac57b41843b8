"""A community's trust policy through the API: defaults, who may read and change it, fields left
out keep their values, and a bad value changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.api.helpers import Api, problem
from tests.api.world import A, B

Token = Callable[[str], str]
DEFAULTS = {
    "approval_threshold": 100,
    "activity_max_points": 200,
    "objection_days": 7,
    "expiry": "never",
    "expiry_months": 12,
    "star_hours": [100, 300, 600, 1000, 1500],
}


def test_a_community_starts_with_the_default_policy(api: Api, token: Token) -> None:
    shown = api.get(f"/communities/{B}/policy", token("staff-b"))
    assert shown.status_code == 200 and shown.json() == DEFAULTS
    assert api.get(f"/communities/{B}/policy", token("admin")).json() == DEFAULTS


def test_fields_left_out_keep_their_values(api: Api, token: Token) -> None:
    changed = api.put(f"/communities/{B}/policy", token("admin"), json={"objection_days": 10})
    assert changed.status_code == 200
    assert changed.json() == DEFAULTS | {"objection_days": 10}
    again = api.put(
        f"/communities/{B}/policy",
        token("admin"),
        json={"approval_threshold": 50, "activity_max_points": 80},
    )
    expected = DEFAULTS | {
        "approval_threshold": 50,
        "activity_max_points": 80,
        "objection_days": 10,
    }
    assert again.json() == expected
    assert api.get(f"/communities/{B}/policy", token("staff-b")).json() == expected
    api.put(f"/communities/{B}/policy", token("admin"), json=DEFAULTS)


@pytest.mark.parametrize(
    "change",
    [
        {"approval_threshold": -1},
        {"approval_threshold": 1_000_001},
        {"activity_max_points": 0},
        {"activity_max_points": 10_001},
        {"objection_days": 0},
        {"objection_days": 91},
        {"objection_days": "7"},
        {"objection_days": None},
        {"approval_threshold": 1.5},
        {"approval_threshold": True},
        {"approval_treshold": 5},
        {"approval_threshold": 50, "objection_days": 0},
        {"expiry": "sometimes"},
        {"expiry": ""},
        {"expiry": None},
        {"expiry": 12},
        {"expiry_months": 0},
        {"expiry_months": 121},
        {"expiry_months": "6"},
        {"expiry": "months", "expiry_months": 0},
    ],
)
def test_a_bad_value_is_refused_and_nothing_changes(
    api: Api, token: Token, change: dict[str, Any]
) -> None:
    before = api.get(f"/communities/{A}/policy", token("admin")).json()
    problem(
        api.put(f"/communities/{A}/policy", token("admin"), json=change), 400, "validation_error"
    )
    assert api.get(f"/communities/{A}/policy", token("admin")).json() == before


def test_only_an_administrator_changes_the_policy(api: Api, token: Token) -> None:
    body = {"approval_threshold": 100_000}
    problem(api.put(f"/communities/{A}/policy", token("staff-a"), json=body), 403, "forbidden")
    problem(api.put(f"/communities/{A}/policy", token("vol-a"), json=body), 403, "forbidden")
    problem(api.put(f"/communities/{A}/policy", token("res-a"), json=body), 403, "forbidden")
    problem(api.put(f"/communities/{A}/policy", None, json=body), 401, "unauthenticated")
    assert api.get(f"/communities/{A}/policy", token("admin")).json() == DEFAULTS


def test_staff_read_only_their_own_communitys_policy(api: Api, token: Token) -> None:
    problem(api.get(f"/communities/{B}/policy", token("staff-a")), 403, "forbidden")
    problem(api.get(f"/communities/{A}/policy", token("vol-a")), 403, "forbidden")
    problem(api.get(f"/communities/{A}/policy", token("res-a")), 403, "forbidden")
    problem(api.get("/communities/nowhere/policy", token("admin")), 404, "not_found")


def test_a_policy_change_is_audited(api: Api, token: Token) -> None:
    api.put(f"/communities/{B}/policy", token("admin"), json={"objection_days": 7})
    entry = api.get(f"/communities/{B}/audit", token("admin")).json()["entries"][0]
    assert entry["action"] == "policy.update" and entry["actor"] == "admin"
    assert entry["detail"]["after"]["objection_days"] == 7


@pytest.mark.parametrize(
    "change",
    [{"expiry": "year_end"}, {"expiry": "months", "expiry_months": 6}, {"expiry_months": 120}],
)
def test_the_expiry_policy_is_set_and_read_back(
    api: Api, token: Token, change: dict[str, Any]
) -> None:
    changed = api.put(f"/communities/{B}/policy", token("admin"), json=change)
    assert changed.status_code == 200 and changed.json() == DEFAULTS | change
    assert api.get(f"/communities/{B}/policy", token("staff-b")).json() == DEFAULTS | change
    api.put(f"/communities/{B}/policy", token("admin"), json=DEFAULTS)
