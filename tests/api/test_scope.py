"""Who may call what: every endpoint of the API, with every kind of caller, against community A.

The table says, for each endpoint, the status each caller gets: street administrator, staff of
A, staff of B, volunteer of A, resident of A, resident of B, and nobody signed in. A refused
caller gets a problem document with the matching code, and no word of community A's data.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from mall import residents
from tests.api.helpers import Api
from tests.api.world import (
    A_NAME,
    ADMIN,
    PASSWORD,
    TARGET_NAME,
    TARGET_PHONE,
    A,
    World,
    new_token,
)

CALLERS = ("admin", "staff-a", "staff-b", "vol-a", "res-a", "res-b", "anon")
REFUSALS = {401: "unauthenticated", 403: "forbidden", 404: "not_found"}
#: What a refused caller must never see: community A's code and name, its staff member's name,
#: and the target resident's name, phone and passbook memos.
A_DATA = (A, A_NAME, "staff-a", TARGET_NAME, TARGET_PHONE, "帮扶困难户", "参加议事会")

Body = Callable[[Api, World, str], Any]


@dataclass(frozen=True)
class Row:
    method: str
    route: str
    expect: tuple[int, ...]
    """The status for each of ``CALLERS``, in order."""
    body: Body | None = None
    idempotent: bool = False

    def __str__(self) -> str:
        return f"{self.method} {self.route}"


def sign_in(api: Api, world: World, caller: str) -> dict:
    return {"username": "staff-a", "password": PASSWORD}


def same_password(api: Api, world: World, caller: str) -> dict:
    return {"old_password": PASSWORD, "new_password": PASSWORD}


def community(api: Api, world: World, caller: str) -> dict:
    return {"slug": f"new-{caller}", "name": "新社区"}


def grid(api: Api, world: World, caller: str) -> dict:
    return {"code": f"grid-{caller}", "name": "新网格"}


def points(api: Api, world: World, caller: str) -> dict:
    return {"points": 1, "memo": "scope"}


def volunteer(api: Api, world: World, caller: str) -> dict:
    return {
        "username": f"helper-{caller}",
        "password": PASSWORD,
        "role": "volunteer",
        "community": A,
    }


def resident(api: Api, world: World, caller: str) -> dict:
    return {"name": "新居民"}


def activation_code(api: Api, world: World, caller: str) -> dict:
    return {"code": api.run(residents.issue_activation, ADMIN, world.target)["code"]}


def pin(api: Api, world: World, caller: str) -> dict:
    return {"pin": "2580"}


OPEN = (200,) * 7
# fmt: off
TABLE = [
    #                                                   admin staff-a staff-b vol-a res-a res-b anon
    Row("POST",   "/auth/token",                        OPEN, sign_in),
    Row("DELETE", "/auth/token",                        (204, 204, 204, 204, 204, 204, 401)),
    Row("POST",   "/me/password",                       (204, 204, 204, 204, 403, 403, 401), same_password),
    Row("POST",   "/communities",                       (201, 403, 403, 403, 403, 403, 401), community),
    Row("POST",   "/communities/{slug}/grids",          (201, 201, 403, 403, 403, 403, 401), grid),
    Row("POST",   "/communities/{slug}/budget/grants",  (201, 403, 403, 403, 403, 403, 401), points, True),
    Row("GET",    "/communities/{slug}/budget",         (200, 200, 403, 403, 403, 403, 401)),
    Row("POST",   "/users",                             (201, 201, 403, 403, 403, 403, 401), volunteer),
    Row("POST",   "/communities/{slug}/residents",      (201, 201, 403, 403, 403, 403, 401), resident),
    Row("GET",    "/communities/{slug}/residents",      (200, 200, 403, 403, 403, 403, 401)),
    Row("GET",    "/residents/{resident_id}",           (200, 200, 404, 403, 403, 403, 401)),
    Row("POST",   "/residents/{resident_id}/activation", (201, 201, 404, 403, 403, 403, 401)),
    Row("POST",   "/activate",                          OPEN, activation_code),
    Row("POST",   "/residents/{resident_id}/card",      (201, 201, 404, 403, 403, 403, 401), pin),
    Row("GET",    "/residents/{resident_id}/passbook",  (200, 200, 404, 403, 403, 403, 401)),
    Row("GET",    "/me",                                (403, 403, 403, 403, 200, 200, 401)),
    Row("GET",    "/me/pay-code",                       (403, 403, 403, 403, 200, 200, 401)),
    Row("GET",    "/me/passbook",                       (403, 403, 403, 403, 200, 200, 401)),
    Row("GET",    "/communities/{slug}/audit",          (200, 200, 403, 403, 403, 403, 401)),
    Row("GET",    "/ledger/verify",                     (200, 403, 403, 403, 403, 403, 401)),
]
# fmt: on


def call(api: Api, world: World, row: Row, caller: str) -> Any:
    token = None if caller == "anon" else api.run(new_token, world, caller)
    body = row.body(api, world, caller) if row.body else None
    headers = {"Idempotency-Key": f"scope-{caller}"} if row.idempotent else {}
    path = row.route.format(slug=A, resident_id=world.target)
    return api.request(row.method, path, token, json=body, headers=headers)


@pytest.mark.parametrize(
    ("row", "caller"),
    [(row, caller) for row in TABLE for caller in CALLERS],
    ids=[f"{row}-{caller}" for row in TABLE for caller in CALLERS],
)
def test_each_caller_gets_exactly_what_the_table_says(
    api: Api, world: World, row: Row, caller: str
) -> None:
    expected = row.expect[CALLERS.index(caller)]
    response = call(api, world, row, caller)
    assert response.status_code == expected, response.text
    if expected >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == REFUSALS[expected]
        leaked = [marker for marker in A_DATA if marker in response.text]
        assert leaked == [], f"{caller} was refused but saw {leaked}"


def test_allowed_callers_do_see_community_a_data(api: Api, world: World) -> None:
    """The leak check above could only pass vacuously if A's data never showed: it does show."""
    staff = api.run(new_token, world, "staff-a")
    shown = api.get(f"/residents/{world.target}", staff).text
    passbook = api.get(f"/residents/{world.target}/passbook", staff).text
    audit = api.get(f"/communities/{A}/audit", staff).text
    assert all(marker in shown + passbook + audit for marker in A_DATA)


def test_the_table_covers_every_api_endpoint(api: Api) -> None:
    routes = {
        (method, re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path.removeprefix("/api/v1")))
        for route in api.client.app.routes
        if route.path.startswith("/api/v1/")
        for method in getattr(route, "methods", ())
        if method not in ("HEAD", "OPTIONS")
    }
    assert routes == {(row.method, row.route) for row in TABLE}
