"""Malformed requests are a ``validation_error`` on every endpoint, never a server error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from httpx import Response

from tests.api.helpers import Api, problem
from tests.api.world import PASSWORD, A, World

Token = Callable[[str], str]

#: Every endpoint that reads a JSON body: a body it would accept, and who may send it.
BODIES: dict[str, tuple[str, dict[str, Any]]] = {
    "/auth/token": ("anon", {"username": "staff-a", "password": PASSWORD}),
    "/me/password": ("vol-a", {"old_password": PASSWORD, "new_password": PASSWORD}),
    "/communities": ("admin", {"slug": "valid-slug", "name": "名字"}),
    f"/communities/{A}/grids": ("staff-a", {"code": "g-valid", "name": "名字"}),
    f"/communities/{A}/budget/grants": ("admin", {"points": 1, "memo": "备注"}),
    "/users": (
        "admin",
        {"username": "valid-user", "password": PASSWORD, "role": "volunteer", "community": A},
    ),
    f"/communities/{A}/residents": ("staff-a", {"name": "名字", "phone": None, "grid": "g1"}),
    "/residents/{target}/card": ("staff-a", {"pin": "2580"}),
    "/activate": ("anon", {"code": "A1CODE"}),
}
MALFORMED = [
    b"",
    b"{not json",
    b"[]",
    b"null",
    b'"text"',
    b"{}",
    b'{"name": "\\ud800"}',
    b'{"name": "\xff\xfe"}',  # not UTF-8
    b"[" * 100_000 + b"]" * 100_000,  # nested deeper than any decoder goes
]
IDS = [
    "empty",
    "not-json",
    "list",
    "null",
    "text",
    "object",
    "lone-surrogate",
    "not-utf8",
    "nested",
]
PASSWORDS = {"password", "old_password", "new_password"}


def send(api: Api, world: World, token: Token, path: str, **kwargs: object) -> Response:
    who, _ = BODIES[path]
    headers = {"Content-Type": "application/json", "Idempotency-Key": "validation"}
    return api.post(
        path.format(target=world.target),
        None if who == "anon" else token(who),
        headers=headers,
        **kwargs,
    )


@pytest.mark.parametrize("body", MALFORMED, ids=IDS)
@pytest.mark.parametrize("path", list(BODIES))
def test_a_malformed_body_is_a_validation_error(
    api: Api, world: World, token: Token, path: str, body: bytes
) -> None:
    problem(send(api, world, token, path, content=body), 400, "validation_error")


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (path, field)
        for path, (_, body) in BODIES.items()
        for field, value in body.items()
        if isinstance(value, str | None) and field not in PASSWORDS
    ],
)
def test_a_control_character_in_any_text_field_is_a_validation_error(
    api: Api, world: World, token: Token, path: str, field: str
) -> None:
    body = BODIES[path][1] | {field: "a\x00b"}
    problem(send(api, world, token, path, json=body), 400, "validation_error")


def test_a_password_may_hold_any_character(api: Api, world: World, token: Token) -> None:
    odd = "tab\there, nul\x00, newline\n, 🙂"
    body = {"username": "odd-password", "password": odd, "role": "admin"}
    assert api.post("/users", token("admin"), json=body).status_code == 201
    signed_in = api.post("/auth/token", json={"username": "odd-password", "password": odd})
    assert signed_in.status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "q=%00",
        "grid=%00",
        "q=%0A",
        "q=x%0A",
        "grid=g1%0A",
        "limit=abc",
        "limit=-1",
        "limit=99999999999999999999",
    ],
)
def test_a_bad_search_parameter_is_a_validation_error(
    api: Api, world: World, token: Token, query: str
) -> None:
    response = api.get(f"/communities/{A}/residents?{query}", token("staff-a"))
    problem(response, 400, "validation_error")


@pytest.mark.parametrize(
    "path",
    [
        "/communities/A%00/budget",
        "/communities/UPPER/budget",
        "/communities/a%20b/audit",
        "/communities/maple%0A/audit",
    ],
)
def test_a_malformed_community_code_in_a_path_is_a_validation_error(
    api: Api, world: World, token: Token, path: str
) -> None:
    problem(api.get(path, token("admin")), 400, "validation_error")


def test_a_number_sent_as_a_string_is_a_validation_error(api: Api, token: Token) -> None:
    """JSON has numbers; ``"points": "5"`` is a client's bug to be told of, not guessed at."""
    grants = f"/communities/{A}/budget/grants"
    before = api.get(f"/communities/{A}/budget", token("admin")).json()
    sent = api.post(
        grants,
        token("admin"),
        json={"points": "5", "memo": "字符串"},
        headers={"Idempotency-Key": "s1"},
    )
    problem(sent, 400, "validation_error")
    assert api.get(f"/communities/{A}/budget", token("admin")).json() == before


@pytest.mark.parametrize(
    "path", ["/static/%00.css", "/static/js/%00app.js", "/me%00", "/api/v1/%00"]
)
def test_a_nul_byte_in_any_path_is_refused_not_a_server_error(api: Api, path: str) -> None:
    """A static file's path reaches the file system, which refused the byte with a 500; now the
    app refuses it first. A path no route matches is simply not found."""
    answer = api.client.get(path)
    assert answer.status_code in (400, 404), answer.text
    if path.startswith("/static/"):
        assert answer.status_code == 400
