"""Signing in and out of the API, changing one's password, and the limits against guessing."""

from __future__ import annotations

from collections.abc import Callable

from httpx import Response

from mall.people import users
from tests.api.helpers import Api, problem
from tests.api.world import PASSWORD, A, World

NEW_PASSWORD = "a brand new passphrase"


def sign_in(api: Api, username: str, password: str = PASSWORD) -> Response:
    return api.post("/auth/token", json={"username": username, "password": password})


def new_user(api: Api, username: str) -> None:
    api.run(users.create_user_unchecked, username, PASSWORD, "staff", A)


def test_sign_in_returns_a_token_that_authenticates_api_calls(api: Api, world: World) -> None:
    response = sign_in(api, "staff-a")
    assert response.status_code == 200 and set(response.json()) == {"token"}
    budget = api.get(f"/communities/{A}/budget", response.json()["token"])
    assert budget.status_code == 200


def test_wrong_password_and_unknown_user_are_the_same_unauthenticated(
    api: Api, world: World
) -> None:
    wrong = problem(sign_in(api, "staff-b", "not the password"), 401, "unauthenticated")
    unknown = problem(sign_in(api, "nobody-here"), 401, "unauthenticated")
    assert wrong == unknown


def test_malformed_sign_in_is_a_validation_error(api: Api) -> None:
    problem(api.post("/auth/token", json={"username": "staff-a"}), 400, "validation_error")
    problem(api.post("/auth/token", content=b"{not json"), 400, "validation_error")
    problem(api.post("/auth/token", json=["staff-a", PASSWORD]), 400, "validation_error")
    problem(
        api.post("/auth/token", json={"username": "staff-a", "password": 12345678901}),
        400,
        "validation_error",
    )


def test_calls_without_a_valid_token_are_unauthenticated(api: Api, world: World) -> None:
    problem(api.get(f"/communities/{A}/budget"), 401, "unauthenticated")
    problem(api.get(f"/communities/{A}/budget", "made-up-token"), 401, "unauthenticated")
    response = api.get(f"/communities/{A}/budget", headers={"Authorization": "Basic abc"})
    problem(response, 401, "unauthenticated")


def test_signing_out_revokes_only_that_token(
    api: Api, world: World, token: Callable[[str], str]
) -> None:
    leaving, staying = token("staff-a"), token("staff-a")
    response = api.delete("/auth/token", leaving)
    assert response.status_code == 204 and response.content == b""
    problem(api.get(f"/communities/{A}/budget", leaving), 401, "unauthenticated")
    problem(api.delete("/auth/token", leaving), 401, "unauthenticated")
    assert api.get(f"/communities/{A}/budget", staying).status_code == 200


def test_a_resident_phone_can_sign_out_too(
    api: Api, world: World, token: Callable[[str], str]
) -> None:
    phone = token("res-a")
    assert api.delete("/auth/token", phone).status_code == 204
    problem(api.get("/me", phone), 401, "unauthenticated")


def test_signing_out_needs_a_token(api: Api) -> None:
    problem(api.delete("/auth/token"), 401, "unauthenticated")


def test_changing_password_signs_out_other_tokens_and_keeps_this_one(
    api: Api, world: World
) -> None:
    new_user(api, "clerk-1")
    this, other = sign_in(api, "clerk-1").json()["token"], sign_in(api, "clerk-1").json()["token"]
    body = {"old_password": PASSWORD, "new_password": NEW_PASSWORD}
    response = api.post("/me/password", this, json=body)
    assert response.status_code == 204 and response.content == b""
    problem(api.get(f"/communities/{A}/budget", other), 401, "unauthenticated")
    assert api.get(f"/communities/{A}/budget", this).status_code == 200
    problem(sign_in(api, "clerk-1"), 401, "unauthenticated")
    assert sign_in(api, "clerk-1", NEW_PASSWORD).status_code == 200
    log = api.get(f"/communities/{A}/audit", this).json()["entries"]
    assert (log[0]["action"], log[0]["actor"], log[0]["ip"]) == (
        "user.password",
        "clerk-1",
        "testclient",
    )


def test_wrong_current_password_or_short_new_one_changes_nothing(api: Api, world: World) -> None:
    new_user(api, "clerk-2")
    this = sign_in(api, "clerk-2").json()["token"]
    wrong = {"old_password": "not it at all", "new_password": NEW_PASSWORD}
    problem(api.post("/me/password", this, json=wrong), 400, "validation_error")
    short = {"old_password": PASSWORD, "new_password": "short"}
    problem(api.post("/me/password", this, json=short), 400, "validation_error")
    problem(
        api.post("/me/password", this, json={"old_password": PASSWORD}), 400, "validation_error"
    )
    assert sign_in(api, "clerk-2").status_code == 200


def test_guessing_the_current_password_is_rate_limited(api: Api, world: World) -> None:
    new_user(api, "clerk-3")
    this = sign_in(api, "clerk-3").json()["token"]
    guess = {"old_password": "a wrong guess", "new_password": NEW_PASSWORD}
    for _ in range(5):
        problem(api.post("/me/password", this, json=guess), 400, "validation_error")
    right = {"old_password": PASSWORD, "new_password": NEW_PASSWORD}
    problem(api.post("/me/password", this, json=right), 429, "rate_limited")


def test_residents_have_no_password_to_change(
    api: Api, world: World, token: Callable[[str], str]
) -> None:
    body = {"old_password": PASSWORD, "new_password": NEW_PASSWORD}
    problem(api.post("/me/password", token("res-a"), json=body), 403, "forbidden")
    problem(api.post("/me/password", json=body), 401, "unauthenticated")


def test_wrong_passwords_stop_the_guessing_address_and_failures_alone_count(
    fresh_api: Api,
) -> None:
    fresh_api.run(users.create_user_unchecked, "guessed-at", PASSWORD, "admin", None)
    fresh_api.run(users.create_user_unchecked, "bystander", PASSWORD, "admin", None)
    for _ in range(5):
        problem(sign_in(fresh_api, "guessed-at", "wrong guess"), 401, "unauthenticated")
    # this address may not try that account any more, not even with the right password
    problem(sign_in(fresh_api, "guessed-at"), 429, "rate_limited")
    for _ in range(20):  # right passwords from the same address never count
        assert sign_in(fresh_api, "bystander").status_code == 200
    for n in range(4):  # four more failures make ten from this address, whatever the name
        problem(sign_in(fresh_api, f"ghost-{n}", "wrong guess"), 401, "unauthenticated")
    problem(sign_in(fresh_api, "no-such-user", "wrong guess"), 401, "unauthenticated")
    problem(sign_in(fresh_api, "bystander"), 429, "rate_limited")


def test_a_name_of_any_length_is_a_wrong_name_not_a_server_error(fresh_api: Api) -> None:
    """Found by schemathesis on PostgreSQL: a 200-character name overflowed the rate-limit key."""
    for length in (64, 200):
        problem(sign_in(fresh_api, "0" * length, "wrong guess"), 401, "unauthenticated")
    problem(sign_in(fresh_api, "0" * 201, "wrong guess"), 400, "validation_error")
