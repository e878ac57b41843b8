"""User accounts over their life: the list, the own-record link, and switching an account off
(every token and session stops at once; sign-in answers as for a wrong password) and on."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from httpx import Response

from mall.people import residents, users
from tests.api.helpers import Api, problem
from tests.api.world import ADMIN, PASSWORD, A, B, World

Token = Callable[[str], str]
_n = itertools.count()


def helper(api: Api, community: str = A) -> tuple[int, str]:
    """A new volunteer: ``(id, username)``."""
    name = f"helper{next(_n)}"
    return api.run(users.create_user_unchecked, name, PASSWORD, "volunteer", community).id, name


def sign_in(api: Api, username: str, password: str = PASSWORD) -> Response:
    return api.post("/auth/token", json={"username": username, "password": password})


def names(response: Response) -> dict[str, dict[str, Any]]:
    assert response.status_code == 200, response.text
    return {u["username"]: u for u in response.json()["users"]}


def test_the_list_shows_each_caller_the_accounts_it_may_see(
    api: Api, world: World, token: Token
) -> None:
    everyone = names(api.get("/users", token("admin")))
    assert {"admin", "staff-a", "staff-b", "vol-a", "staff-a2"} <= set(everyone)
    assert everyone["vol-a"] == {
        "id": world.users["vol-a"],
        "username": "vol-a",
        "role": "volunteer",
        "community": A,
        "active": True,
    }
    assert everyone["admin"]["community"] is None
    of_a = names(api.get(f"/users?community={A}", token("admin")))
    assert set(of_a) >= {"staff-a", "vol-a", "staff-a2"} and "staff-b" not in of_a
    staff = names(api.get("/users", token("staff-a")))
    assert "staff-b" not in staff and "admin" not in staff and "vol-a" in staff
    assert names(api.get(f"/users?community={A}", token("staff-a"))) == staff
    problem(api.get(f"/users?community={B}", token("staff-a")), 403, "forbidden")
    problem(api.get("/users?community=nowhere", token("admin")), 404, "not_found")
    problem(api.get("/users?community=NO%20WAY", token("admin")), 400, "validation_error")


def test_a_deactivated_account_stops_at_once_and_cannot_sign_in_until_reactivated(
    api: Api, world: World, token: Token
) -> None:
    user_id, name = helper(api)
    signed_in = sign_in(api, name).json()["token"]
    assert api.get("/me/shift", signed_in).status_code == 200  # trusted by this process now
    api.client.get("/sign-in")  # the CSRF cookie
    form = {"username": name, "password": PASSWORD, "_csrf_token": api.client.cookies["csrftoken"]}
    web = api.client.post("/sign-in", data=form, follow_redirects=False)
    assert web.status_code == 303 and api.client.get("/counter").status_code == 200
    done = api.post(f"/users/{user_id}/deactivate", token("staff-a"))
    assert done.status_code == 200 and done.json()["active"] is False, done.text
    problem(api.get("/me/shift", signed_in), 401, "unauthenticated")
    counter = api.client.get("/counter", follow_redirects=False)
    assert counter.status_code == 303 and counter.headers["location"].startswith("/sign-in")
    wrong = problem(sign_in(api, name, "not the password at all"), 401, "unauthenticated")
    switched_off = problem(sign_in(api, name), 401, "unauthenticated")
    assert switched_off["detail"] == wrong["detail"] and switched_off["title"] == wrong["title"]
    assert api.post(f"/users/{user_id}/deactivate", token("staff-a")).status_code == 200  # again
    assert names(api.get("/users", token("staff-a")))[name]["active"] is False

    back = api.post(f"/users/{user_id}/reactivate", token("admin"))
    assert back.status_code == 200 and back.json()["active"] is True
    problem(api.get("/me/shift", signed_in), 401, "unauthenticated")  # its old token stays ended
    fresh = sign_in(api, name)
    assert fresh.status_code == 200
    assert api.get("/me/shift", fresh.json()["token"]).status_code == 200
    log = api.get(f"/communities/{A}/audit", token("staff-a")).json()["entries"]
    actions = [(e["action"], e["target"]) for e in log]
    assert ("user.deactivate", name) in actions and ("user.reactivate", name) in actions
    api.client.cookies.clear()


def test_who_may_switch_whom(api: Api, world: World, token: Token) -> None:
    staff_a2 = world.users["staff-a2"]
    refused = problem(api.post(f"/users/{staff_a2}/deactivate", token("staff-a")), 403, "forbidden")
    assert "志愿者" in refused["title"]
    vol_b, _ = helper(api, B)
    problem(api.post(f"/users/{vol_b}/deactivate", token("staff-a")), 404, "not_found")
    problem(api.post(f"/users/{vol_b}/deactivate", token("vol-a")), 403, "forbidden")
    problem(api.post("/users/999999/deactivate", token("admin")), 404, "not_found")
    own = problem(
        api.post(f"/users/{world.users['admin']}/deactivate", token("admin")), 403, "forbidden"
    )
    assert "自己" in own["title"]
    assert names(api.get("/users", token("admin")))["staff-a2"]["active"] is True
    assert names(api.get("/users", token("admin")))["admin"]["active"] is True


def test_a_user_is_linked_to_their_own_record_only_in_their_community(
    api: Api, world: World, token: Token
) -> None:
    admin = token("admin")
    vol = world.users["vol-a"]
    mine = api.run(residents.create_resident, ADMIN, A, "自家人", None, None).id

    def link(resident_id: int | None, who: str = admin) -> Response:
        return api.request("PATCH", f"/users/{vol}", who, json={"resident_id": resident_id})

    problem(link(world.residents["res-b"]), 400, "validation_error")
    problem(link(999999), 404, "not_found")
    problem(link(mine, token("staff-a")), 403, "forbidden")
    problem(api.request("PATCH", f"/users/{vol}", admin, json={}), 400, "validation_error")
    done = link(mine)
    assert done.status_code == 200 and done.json()["resident_id"] == mine, done.text
    assert link(None).json()["resident_id"] is None
    log = api.get(f"/communities/{A}/audit", token("staff-a")).json()["entries"]
    assert [e["action"] for e in log].count("user.own_record") == 2

    closed = api.run(residents.create_resident, ADMIN, A, "已搬走", None, None).id
    api.post(f"/residents/{closed}/close", token("staff-a"), json={"reason": "搬离"})
    problem(link(closed), 410, "account_closed")


def test_a_new_user_may_name_their_own_record(api: Api, world: World, token: Token) -> None:
    mine = api.run(residents.create_resident, ADMIN, A, "新同事家", None, None).id
    body = {"password": PASSWORD, "role": "volunteer", "community": A, "resident_id": mine}
    made = api.post("/users", token("staff-a"), json={"username": "linked-1", **body})
    assert made.status_code == 201, made.text
    other = {**body, "resident_id": world.residents["res-b"]}
    problem(
        api.post("/users", token("staff-a"), json={"username": "linked-2", **other}),
        404,
        "not_found",
    )
    problem(
        api.post("/users", token("admin"), json={"username": "linked-3", **other}),
        400,
        "validation_error",
    )
    assert "linked-2" not in names(api.get("/users", token("admin")))
    staff = {"password": PASSWORD, "role": "staff", "community": A, "resident_id": mine}
    made_staff = api.post("/users", token("admin"), json={"username": "linked-4", **staff})
    assert made_staff.status_code == 201
    signed_in = sign_in(api, "linked-4").json()["token"]
    problem(
        api.post(f"/residents/{mine}/card", signed_in, json={"pin": "2580"}), 403, "self_dealing"
    )
