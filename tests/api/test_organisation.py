"""Communities, grids, budget grants and users through the API (admin and staff)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from httpx import Response

from tests.api.helpers import Api, problem
from tests.api.world import PASSWORD, A, B, World

Token = Callable[[str], str]


def test_admin_creates_a_community_with_an_empty_budget(api: Api, token: Token) -> None:
    admin = token("admin")
    response = api.post("/communities", admin, json={"slug": "oak", "name": "橡树社区"})
    assert response.status_code == 201
    body = response.json()
    assert body["slug"] == "oak" and body["name"] == "橡树社区" and isinstance(body["id"], int)
    budget = api.get("/communities/oak/budget", admin).json()
    assert budget == {"balance": 0, "granted": 0, "issued": 0}


def test_a_taken_community_code_is_already_exists(api: Api, world: World, token: Token) -> None:
    response = api.post("/communities", token("admin"), json={"slug": A, "name": "again"})
    problem(response, 409, "already_exists")


@pytest.mark.parametrize(
    "body",
    [
        {"slug": "Bad Slug", "name": "x"},
        {"slug": "x", "name": "too short a code"},
        {"slug": "fine-code", "name": "   "},
        {"slug": "fine-code"},
        {"slug": "fine-code", "name": "line\nbreak"},
        {"slug": "fine-code", "name": "x" * 201},
    ],
)
def test_invalid_community_is_a_validation_error(
    api: Api, token: Token, body: dict[str, Any]
) -> None:
    problem(api.post("/communities", token("admin"), json=body), 400, "validation_error")


def test_only_the_street_creates_communities(api: Api, world: World, token: Token) -> None:
    body = {"slug": "pine", "name": "松树社区"}
    problem(api.post("/communities", token("staff-a"), json=body), 403, "forbidden")
    problem(api.post("/communities", json=body), 401, "unauthenticated")


def test_staff_create_grids_in_their_own_community(api: Api, world: World, token: Token) -> None:
    response = api.post(
        f"/communities/{A}/grids", token("staff-a"), json={"code": "g7", "name": "七网格"}
    )
    assert response.status_code == 201
    assert {k: response.json()[k] for k in ("code", "name")} == {"code": "g7", "name": "七网格"}
    again = api.post(
        f"/communities/{A}/grids", token("admin"), json={"code": "g7", "name": "又一个"}
    )
    problem(again, 409, "already_exists")
    elsewhere = api.post(
        f"/communities/{B}/grids", token("staff-a"), json={"code": "g8", "name": "x"}
    )
    problem(elsewhere, 403, "forbidden")


def test_grid_errors(api: Api, world: World, token: Token) -> None:
    staff = token("staff-a")
    bad_code = api.post(f"/communities/{A}/grids", staff, json={"code": "a b", "name": "x"})
    problem(bad_code, 400, "validation_error")
    problem(
        api.post(f"/communities/{A}/grids", staff, json={"code": "g9"}), 400, "validation_error"
    )
    unknown = api.post(
        "/communities/nowhere/grids", token("admin"), json={"code": "g1", "name": "x"}
    )
    problem(unknown, 404, "not_found")


def grant(api: Api, who: str | None, slug: str, body: object, key: str | None) -> Response:
    headers = {"Idempotency-Key": key} if key else {}
    return api.post(f"/communities/{slug}/budget/grants", who, json=body, headers=headers)


def test_a_grant_adds_to_the_budget_and_a_retry_returns_the_first_response(
    api: Api, token: Token
) -> None:
    admin = token("admin")
    api.post("/communities", admin, json={"slug": "elm", "name": "榆树社区"})
    first = grant(api, admin, "elm", {"points": 300, "memo": "第一季度"}, "elm-q1")
    assert first.status_code == 201 and first.json()["balance"] == 300
    second = grant(api, admin, "elm", {"points": 200, "memo": "第二季度"}, "elm-q2")
    assert second.json()["balance"] == 500
    retry = grant(api, token("admin"), "elm", {"points": 300, "memo": "第一季度"}, "elm-q1")
    assert retry.status_code == 201 and retry.json() == first.json()
    assert api.get("/communities/elm/budget", admin).json() == {
        "balance": 500,
        "granted": 500,
        "issued": 0,
    }


def test_a_grant_key_reused_with_another_body_is_refused(api: Api, token: Token) -> None:
    admin = token("admin")
    api.post("/communities", admin, json={"slug": "ash", "name": "白蜡社区"})
    assert grant(api, admin, "ash", {"points": 100, "memo": ""}, "ash-1").status_code == 201
    problem(
        grant(api, admin, "ash", {"points": 101, "memo": ""}, "ash-1"),
        422,
        "idempotency_key_reused",
    )
    assert api.get("/communities/ash/budget", admin).json()["granted"] == 100


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"points": 10}, None),
        ({"points": 0}, "k-zero"),
        ({"points": -5}, "k-negative"),
        ({"points": 10_000_001}, "k-huge"),
        ({"points": "ten"}, "k-text"),
        ({"points": True}, "k-bool"),
        ({"points": None}, "k-null"),
        ({"points": 1.5}, "k-fraction"),
        ({"memo": "no points"}, "k-missing"),
    ],
)
def test_invalid_grant_is_a_validation_error_and_grants_nothing(
    api: Api, world: World, token: Token, body: dict[str, Any], key: str | None
) -> None:
    admin = token("admin")
    before = api.get(f"/communities/{A}/budget", admin).json()
    problem(grant(api, admin, A, body, key), 400, "validation_error")
    assert api.get(f"/communities/{A}/budget", admin).json() == before


def test_only_the_street_grants_budget(api: Api, world: World, token: Token) -> None:
    problem(grant(api, token("staff-a"), A, {"points": 10}, "k-staff"), 403, "forbidden")
    problem(grant(api, None, A, {"points": 10}, "k-anon"), 401, "unauthenticated")
    problem(grant(api, token("admin"), "nowhere", {"points": 10}, "k-404"), 404, "not_found")


def test_budget_shows_granted_issued_and_left(api: Api, world: World, token: Token) -> None:
    budget = api.get(f"/communities/{A}/budget", token("staff-a")).json()
    assert budget["issued"] == 50 and budget["balance"] == budget["granted"] - 50
    problem(api.get(f"/communities/{A}/budget", token("staff-b")), 403, "forbidden")
    problem(api.get("/communities/nowhere/budget", token("admin")), 404, "not_found")


def test_admin_creates_staff_who_can_then_sign_in(api: Api, world: World, token: Token) -> None:
    body = {"username": "new-staff", "password": PASSWORD, "role": "staff", "community": A}
    response = api.post("/users", token("admin"), json=body)
    assert response.status_code == 201
    made = response.json()
    assert made["username"] == "new-staff" and made["role"] == "staff" and made["id"] > 0
    signed_in = api.post("/auth/token", json={"username": "new-staff", "password": PASSWORD})
    assert signed_in.status_code == 200


def test_staff_create_volunteers_for_their_own_community_only(
    api: Api, world: World, token: Token
) -> None:
    staff = token("staff-a")
    ok = api.post(
        "/users", staff, json={"username": "helper-1", "password": PASSWORD, "role": "volunteer"}
    )
    assert ok.status_code == 201 and ok.json()["role"] == "volunteer"
    for body in (
        {"username": "boss-1", "password": PASSWORD, "role": "staff"},
        {"username": "helper-2", "password": PASSWORD, "role": "volunteer", "community": B},
        {"username": "boss-2", "password": PASSWORD, "role": "admin"},
    ):
        problem(api.post("/users", staff, json=body), 403, "forbidden")
    volunteer_body = {"username": "helper-3", "password": PASSWORD, "role": "volunteer"}
    problem(api.post("/users", token("vol-a"), json=volunteer_body), 403, "forbidden")
    problem(api.post("/users", json=volunteer_body), 401, "unauthenticated")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (
            {"username": "staff-a", "password": PASSWORD, "role": "staff", "community": A},
            409,
            "already_exists",
        ),
        (
            {"username": "x", "password": PASSWORD, "role": "staff", "community": A},
            400,
            "validation_error",
        ),
        (
            {"username": "short-pw", "password": "short", "role": "staff", "community": A},
            400,
            "validation_error",
        ),
        (
            {"username": "no-role", "password": PASSWORD, "role": "king", "community": A},
            400,
            "validation_error",
        ),
        ({"username": "homeless", "password": PASSWORD, "role": "staff"}, 400, "validation_error"),
        (
            {"username": "lost", "password": PASSWORD, "role": "staff", "community": "nowhere"},
            404,
            "not_found",
        ),
        ({"username": "half", "role": "staff", "community": A}, 400, "validation_error"),
    ],
)
def test_user_errors(
    api: Api, world: World, token: Token, body: dict[str, Any], status: int, code: str
) -> None:
    problem(api.post("/users", token("admin"), json=body), status, code)
