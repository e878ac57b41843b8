"""The community audit log and the ledger check through the API."""

from __future__ import annotations

from collections.abc import Callable

from mall.db import Database
from mall.org import communities
from mall.people import users
from tests.api.helpers import Api, problem
from tests.api.world import ADMIN, PASSWORD, A, World, new_token

Token = Callable[[str], str]


def test_the_audit_log_records_who_did_what_from_where_newest_first(
    api: Api, world: World, token: Token
) -> None:
    staff = token("staff-a")
    made = api.post(f"/communities/{A}/residents", staff, json={"name": "钱审计"}).json()
    api.post(f"/residents/{made['id']}/activation", staff)
    log = api.get(f"/communities/{A}/audit", staff)
    assert log.status_code == 200
    latest, before = log.json()["entries"][:2]
    assert (latest["action"], latest["actor"], latest["target"], latest["ip"]) == (
        "resident.activation",
        "staff-a",
        f"resident:{made['id']}",
        "testclient",
    )
    assert (before["action"], before["target"]) == ("resident.create", f"resident:{made['id']}")
    assert latest["id"] > before["id"] and latest["at"] >= before["at"]


def test_the_audit_log_pages_with_a_cursor(api: Api, world: World, token: Token) -> None:
    staff = token("staff-a")
    whole = api.get(f"/communities/{A}/audit?limit=200", staff).json()["entries"]
    assert len(whole) >= 3
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"before": cursor} if cursor else {})
        page = api.get(f"/communities/{A}/audit", staff, params=params).json()
        seen += [e["id"] for e in page["entries"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == [e["id"] for e in whole]


def test_the_audit_log_holds_only_that_communitys_actions(
    api: Api, world: World, token: Token
) -> None:
    api.post("/communities/birch/residents", token("staff-b"), json={"name": "孙只在白桦"})
    entries = api.get(f"/communities/{A}/audit?limit=200", token("admin")).json()["entries"]
    assert all(e["actor"] != "staff-b" for e in entries)
    assert "孙只在白桦" not in str(entries)


def test_only_the_communitys_staff_and_admins_read_its_audit_log(
    api: Api, world: World, token: Token
) -> None:
    assert api.get(f"/communities/{A}/audit", token("admin")).status_code == 200
    for who in ("staff-b", "vol-a", "res-a"):
        problem(api.get(f"/communities/{A}/audit", token(who)), 403, "forbidden")
    problem(api.get(f"/communities/{A}/audit"), 401, "unauthenticated")
    problem(api.get("/communities/nowhere/audit", token("admin")), 404, "not_found")
    problem(api.get(f"/communities/{A}/audit?limit=0", token("admin")), 400, "validation_error")


def test_ledger_verify_reports_a_sound_ledger(api: Api, world: World, token: Token) -> None:
    report = api.get("/ledger/verify", token("admin"))
    assert report.status_code == 200
    body = report.json()
    assert body["ok"] is True and body["problems"] == []
    assert body["journals"] >= 3 and body["postings"] >= 6 and body["accounts"] > 0


def test_ledger_verify_is_for_street_administrators_only(
    api: Api, world: World, token: Token
) -> None:
    for who in ("staff-a", "vol-a", "res-a"):
        problem(api.get("/ledger/verify", token(who)), 403, "forbidden")
    problem(api.get("/ledger/verify"), 401, "unauthenticated")


async def tampered_ledger(db: Database) -> World:
    """A funded community whose cached budget balance someone edited behind the app's back."""
    admin = await users.create_user_unchecked(db, "auditor", PASSWORD, "admin", None)
    await communities.create_community(db, ADMIN, "oak", "橡树社区")
    await communities.grant_budget(db, ADMIN, "oak", 100, "", idempotency_key="g1")
    async with db.transaction() as conn:
        await conn.execute("UPDATE ledger_account SET balance = balance + 7 WHERE code = 'budget'")
    return World({"auditor": admin.id}, {})


def test_ledger_verify_names_a_tampered_account(fresh_api: Api) -> None:
    world = fresh_api.run(tampered_ledger)
    body = fresh_api.get("/ledger/verify", fresh_api.run(new_token, world, "auditor")).json()
    assert body["ok"] is False and body["problems"]
    assert {p["table"] for p in body["problems"]} == {"ledger_account"}
