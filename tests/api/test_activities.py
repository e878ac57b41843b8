"""Recruitment calls through the JSON API (API.md "Earning"): publish, sign up with a waiting list,
check in with the rotating code or by staff, settle once, and the error codes of each refusal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from mall.db import Database
from mall.earning import checkin
from mall.people import auth, codes, credentials, residents
from mall.settings import get_settings
from tests import support
from tests.api.helpers import Api, problem
from tests.api.world import ADMIN, A, World

Token = Callable[[str], str]


async def newcomer(db: Database, name: str) -> tuple[int, str]:
    """A new resident of A with a bound phone: ``(id, bearer token)``."""
    rid = (await residents.create_resident(db, ADMIN, A, name, None, None)).id
    async with db.transaction() as conn:
        token = await auth.create_session(
            conn, "resident", resident_id=rid, ttl=auth.RESIDENT_SESSION
        )
    return rid, token


def publish(api: Api, staff: str, **change: object) -> int:
    starts = datetime.now(UTC) - timedelta(minutes=5)
    body = {
        "title": "清理楼道",
        "path": "adding_to_good",
        "points": 12,
        "capacity": 2,
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(),
        "place": "3栋楼下",
        "description": "带上手套。\n九点集合。",
        **change,
    }
    response = api.post(f"/communities/{A}/activities", staff, json=body)
    assert response.status_code == 201, response.text
    made: int = response.json()["id"]
    return made


def scan(api: Api, activity_id: int, windows_ago: int = 0) -> str:
    window = checkin.window_of(datetime.now(UTC)) - windows_ago
    return codes.checkin_code(get_settings().secret_key, activity_id, window)


def test_staff_publish_and_residents_of_the_community_read_it(api: Api, token: Token) -> None:
    staff = token("staff-a")
    activity_id = publish(api, staff)
    shown = api.get(f"/activities/{activity_id}", token("res-a")).json()
    assert shown["title"] == "清理楼道" and shown["places_left"] == 2
    assert shown["description"] == "带上手套。\n九点集合。"
    assert shown["my_status"] is None and "signups" not in shown
    listed = api.get(f"/communities/{A}/activities", token("res-a")).json()["activities"]
    assert activity_id in [a["id"] for a in listed]
    assert api.get(f"/activities/{activity_id}", staff).json()["signups"] == []


def test_bad_activities_are_validation_errors(api: Api, token: Token) -> None:
    staff = token("staff-a")
    before = len(api.get(f"/communities/{A}/activities", staff).json()["activities"])
    good = {
        "title": "议事会",
        "path": "adding_to_good",
        "points": 5,
        "capacity": 3,
        "starts_at": "2026-12-01T09:00:00+08:00",
        "ends_at": "2026-12-01T11:00:00+08:00",
        "place": "活动室",
    }
    for change in (
        {"path": "nope"},
        {"points": -1},
        {"points": "many"},
        {"capacity": 0},
        {"starts_at": "2026-12-01T09:00:00"},
        {"ends_at": "2026-12-01T08:00:00+08:00"},
        {"title": "x\x00"},
        {"place": ""},
    ):
        response = api.post(f"/communities/{A}/activities", staff, json={**good, **change})
        problem(response, 400, "validation_error")
    assert len(api.get(f"/communities/{A}/activities", staff).json()["activities"]) == before


def test_sign_up_wait_cancel_and_promote(api: Api, token: Token) -> None:
    activity_id = publish(api, token("staff-a"), capacity=1)
    (_, first), (_, second) = (api.run(newcomer, n) for n in ("甲", "乙"))
    signed = api.post(f"/activities/{activity_id}/signup", first)
    assert signed.status_code == 201 and signed.json()["status"] == "confirmed"
    problem(api.post(f"/activities/{activity_id}/signup", first), 409, "already_exists")
    waiting = api.post(f"/activities/{activity_id}/signup", second).json()
    assert (waiting["status"], waiting["position"]) == ("waiting", 1)
    assert api.get(f"/activities/{activity_id}", second).json()["my_position"] == 1
    cancelled = api.delete(f"/activities/{activity_id}/signup", first)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert api.get(f"/activities/{activity_id}", second).json()["my_status"] == "confirmed"
    problem(api.delete(f"/activities/{activity_id}/signup", first), 404, "not_found")
    mine = api.get("/me/activities", second).json()
    assert activity_id in [a["id"] for a in mine["mine"]]
    assert activity_id in [a["id"] for a in mine["upcoming"]]


def test_check_in_once_with_the_code_and_the_refusals_by_code(api: Api, token: Token) -> None:
    staff = token("staff-a")
    activity_id = publish(api, staff)
    other = publish(api, staff)
    shown = api.get(f"/activities/{activity_id}/checkin-code", staff).json()
    assert shown["url"] == f"{get_settings().base_url}/c/{shown['code']}"
    rid, phone = api.run(newcomer, "丙")
    url = f"/activities/{activity_id}/checkin"
    problem(api.post(url, phone, json={"code": scan(api, activity_id, 2)}), 410, "code_expired")
    problem(api.post(url, phone, json={"code": scan(api, other)}), 400, "code_invalid")
    tail = "22" if shown["code"][-2:] != "22" else "33"  # always a different code
    problem(api.post(url, phone, json={"code": shown["code"][:-2] + tail}), 400, "code_invalid")
    done = api.post(url, phone, json={"code": shown["code"]})
    assert done.status_code == 201 and done.json()["resident_id"] == rid
    problem(api.post(url, phone, json={"code": shown["code"]}), 409, "already_checked_in")
    signups = api.get(f"/activities/{activity_id}", staff).json()["signups"]
    assert [(s["resident_id"], s["checked_in_by"]) for s in signups] == [(rid, None)]


def test_staff_check_in_by_pay_code_once(api: Api, token: Token) -> None:
    staff = token("staff-a")
    activity_id = publish(api, staff)
    rid, _ = api.run(newcomer, "丁")
    me = support.resident(rid, 0, A)
    pay = api.run(credentials.new_pay_code, me).code
    url = f"/activities/{activity_id}/attendance"
    done = api.post(url, staff, json={"code": pay})
    assert done.status_code == 201 and done.json()["name"] == "丁"
    problem(api.post(url, staff, json={"code": pay}), 409, "already_checked_in")
    problem(api.post(url, staff, json={"code": "1" * 20}), 400, "code_invalid")
    signups = api.get(f"/activities/{activity_id}", staff).json()["signups"]
    assert signups[0]["checked_in_by"] == "staff-a"


def test_settle_awards_attendees_once_and_shows_in_their_passbook(api: Api, token: Token) -> None:
    staff = token("staff-a")
    activity_id = publish(api, staff, points=12, title="关爱独居老人")
    phones = [api.run(newcomer, n)[1] for n in ("戊", "己")]
    for phone in phones:
        api.post(f"/activities/{activity_id}/checkin", phone, json={"code": scan(api, activity_id)})
    budget = api.get(f"/communities/{A}/budget", staff).json()["balance"]
    done = api.post(f"/activities/{activity_id}/settle", staff)
    assert done.status_code == 200
    body = done.json()
    assert (body["awarded"], body["points"], body["points_each"]) == (2, 24, 12)
    again = api.post(f"/activities/{activity_id}/settle", staff)
    assert again.status_code == 200 and again.json() == body
    assert api.get(f"/communities/{A}/budget", staff).json()["balance"] == budget - 24
    entry = api.get("/me/passbook", phones[0]).json()["entries"][0]
    assert (entry["memo"], entry["amount"], entry["path"]) == ("关爱独居老人", 12, "adding_to_good")
    late = api.post(f"/activities/{activity_id}/signup", token("res-a"))
    problem(late, 400, "validation_error")
    code = scan(api, activity_id)
    problem(
        api.post(f"/activities/{activity_id}/checkin", token("res-a"), json={"code": code}),
        400,
        "validation_error",
    )


def test_settling_beyond_the_budget_is_budget_exhausted_and_changes_nothing(
    api: Api, token: Token
) -> None:
    staff = token("staff-a")
    left = api.get(f"/communities/{A}/budget", staff).json()["balance"]
    # the policy allows at most 200 a head by default; this call pays the whole budget a head
    api.put(f"/communities/{A}/policy", token("admin"), json={"activity_max_points": left})
    activity_id = publish(api, staff, points=left)
    for n in ("庚", "辛"):
        phone = api.run(newcomer, n)[1]
        api.post(f"/activities/{activity_id}/checkin", phone, json={"code": scan(api, activity_id)})
    problem(api.post(f"/activities/{activity_id}/settle", staff), 409, "budget_exhausted")
    assert api.get(f"/communities/{A}/budget", staff).json()["balance"] == left
    assert api.get(f"/activities/{activity_id}", staff).json()["status"] == "open"
    api.put(f"/communities/{A}/policy", token("admin"), json={"activity_max_points": 200})


def test_settlement_is_an_award_with_its_id_and_status(api: Api, token: Token) -> None:
    staff = token("staff-a")
    activity_id = publish(api, staff, points=15, title="清扫落叶")
    phone = api.run(newcomer, "壬")[1]
    api.post(f"/activities/{activity_id}/checkin", phone, json={"code": scan(api, activity_id)})
    body = api.post(f"/activities/{activity_id}/settle", staff).json()
    assert body["status"] == "posted" and body["award_id"] is not None
    assert (body["awarded"], body["points"]) == (1, 15)
    award = api.get(f"/awards/{body['award_id']}", staff).json()
    assert award["status"] == "posted" and award["journal_id"] == body["journal_id"]
    assert award["memo"] == "清扫落叶" and award["total"] == 15


def test_a_settlement_over_the_threshold_waits_for_another_staff_members_approval(
    api: Api, token: Token
) -> None:
    staff = token("staff-a")
    activity_id = publish(api, staff, points=150, title="大扫除")
    rid, phone = api.run(newcomer, "癸")
    api.post(f"/activities/{activity_id}/checkin", phone, json={"code": scan(api, activity_id)})
    budget = api.get(f"/communities/{A}/budget", staff).json()["balance"]
    done = api.post(f"/activities/{activity_id}/settle", staff)
    assert done.status_code == 200
    body = done.json()
    assert body["status"] == "pending_approval" and body["journal_id"] is None
    assert (body["awarded"], body["points"]) == (1, 150)
    assert api.get("/me/passbook", phone).json()["entries"] == []
    assert api.get(f"/communities/{A}/budget", staff).json()["balance"] == budget
    problem(api.post(f"/awards/{body['award_id']}/approve", staff), 403, "forbidden")
    approved = api.post(f"/awards/{body['award_id']}/approve", token("staff-a2"))
    assert approved.status_code == 200 and approved.json()["status"] == "posted"
    assert api.get("/me/passbook", phone).json()["entries"][0]["amount"] == 150
    assert api.get(f"/communities/{A}/budget", staff).json()["balance"] == budget - 150
    assert api.post(f"/activities/{activity_id}/settle", staff).json()["status"] == "posted"


def test_an_activity_paying_more_than_the_policy_allows_is_refused(api: Api, token: Token) -> None:
    staff = token("staff-a")
    before = len(api.get(f"/communities/{A}/activities", staff).json()["activities"])
    problem(
        api.post(
            f"/communities/{A}/activities",
            staff,
            json={
                "title": "太多积分",
                "path": "adding_to_good",
                "points": 201,
                "capacity": 2,
                "starts_at": datetime.now(UTC).isoformat(),
                "ends_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
                "place": "3栋",
            },
        ),
        400,
        "validation_error",
    )
    assert len(api.get(f"/communities/{A}/activities", staff).json()["activities"]) == before


async def own_record(db: Database, username: str, resident_id: int | None) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE mall_user SET resident = ? WHERE username = ?", resident_id, username
        )


async def checked_in(db: Database, activity_id: int) -> int:
    async with db.connection() as conn:
        return int(
            await conn.fetchval(
                "SELECT COUNT(*) FROM mall_signup WHERE activity = ? AND checked_in_at IS NOT NULL",
                activity_id,
            )
        )


def test_staff_tick_residents_by_name_from_the_paper_sheet_and_settlement_pays_them(
    api: Api, token: Token
) -> None:
    staff = token("staff-a")
    activity_id = publish(api, staff, points=8, title="纸质签到")
    (one, phone), (two, _) = api.run(newcomer, "纸一"), api.run(newcomer, "纸二")
    path = f"/activities/{activity_id}/attendance/by-name"
    done = api.post(path, staff, json={"resident_ids": [one, two]})
    assert done.status_code == 200, done.text
    body = done.json()
    assert [(a["resident_id"], a["name"]) for a in body["checked_in"]] == [
        (one, "纸一"),
        (two, "纸二"),
    ]
    assert body["already"] == []
    again = api.post(path, staff, json={"resident_ids": [one]}).json()
    assert again["checked_in"] == [] and again["already"] == [one]
    signups = api.get(f"/activities/{activity_id}", staff).json()["signups"]
    assert {s["checked_in_by"] for s in signups} == {"staff-a"}
    settled = api.post(f"/activities/{activity_id}/settle", staff).json()
    assert (settled["awarded"], settled["points"], settled["status"]) == (2, 16, "posted")
    assert api.get("/me/passbook", phone).json()["entries"][0]["amount"] == 8
    problem(api.post(path, staff, json={"resident_ids": [one]}), 400, "validation_error")


@pytest.mark.parametrize("ids", [[], [1, 1], ["1"], [0]])
def test_a_bad_sheet_is_refused_and_nobody_is_checked_in(
    api: Api, token: Token, ids: list[object]
) -> None:
    activity_id = publish(api, token("staff-a"))
    answer = api.post(
        f"/activities/{activity_id}/attendance/by-name",
        token("staff-a"),
        json={"resident_ids": ids},
    )
    assert answer.status_code in (400, 404)
    assert answer.json()["code"] in ("validation_error", "not_found")
    assert api.run(checked_in, activity_id) == 0


def test_the_sheet_refuses_outsiders_wrong_callers_and_the_callers_own_record(
    api: Api, world: World, token: Token
) -> None:
    staff = token("staff-a")
    activity_id = publish(api, staff)
    path = f"/activities/{activity_id}/attendance/by-name"
    mine = api.run(newcomer, "自己")[0]
    other = world.residents["res-b"]
    problem(api.post(path, staff, json={"resident_ids": [mine, other]}), 404, "not_found")
    problem(api.post(path, token("staff-b"), json={"resident_ids": [mine]}), 404, "not_found")
    problem(api.post(path, token("vol-a"), json={"resident_ids": [mine]}), 403, "forbidden")
    problem(api.post(path, token("res-a"), json={"resident_ids": [mine]}), 403, "forbidden")
    api.run(own_record, "staff-a", mine)
    try:
        problem(api.post(path, staff, json={"resident_ids": [mine]}), 403, "self_dealing")
    finally:
        api.run(own_record, "staff-a", None)
    assert api.run(checked_in, activity_id) == 0
    assert api.post(path, token("staff-a2"), json={"resident_ids": [mine]}).status_code == 200
