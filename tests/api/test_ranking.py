"""Volunteer hours and the ranking (积分榜) through the JSON API (issue #20): hours set when an
activity is published, corrected for one attendee before settlement, written at settlement and
counted in the statistics; a resident's hours and star level; the public ranking shows only
residents who opted in, masked, and refuses nothing it should not show."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.api.helpers import Api, problem
from tests.api.test_activities import newcomer, publish
from tests.api.world import A, B

Token = Callable[[str], str]


def settled(api: Api, staff: str, hours: float, people: list[int], **change: object) -> int:
    """An activity of A with ``hours``, ``people`` ticked off the sheet, then settled."""
    activity_id = publish(api, staff, hours=hours, capacity=10, **change)
    ticked = api.post(
        f"/activities/{activity_id}/attendance/by-name", staff, json={"resident_ids": people}
    )
    assert ticked.status_code == 200, ticked.text
    done = api.post(f"/activities/{activity_id}/settle", staff)
    assert done.status_code == 200 and done.json()["status"] == "posted", done.text
    return activity_id


def ranking(api: Api, by: str = "points", slug: str = A) -> dict[str, Any]:
    response = api.get(f"/communities/{slug}/ranking", params={"by": by})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_an_activity_carries_its_hours_and_bad_hours_are_refused(api: Api, token: Token) -> None:
    staff = token("staff-a")
    activity_id = publish(api, staff, hours=2.5)
    assert api.get(f"/activities/{activity_id}", staff).json()["hours"] == 2.5
    assert api.get(f"/activities/{publish(api, staff)}", staff).json()["hours"] == 0
    for bad in (-1, 1.25, 200.5, "2"):
        body = {"title": "坏时长", "path": "timely_help", "points": 5, "capacity": 1}
        body |= {"starts_at": "2026-12-01T09:00:00+08:00", "ends_at": "2026-12-01T11:00:00+08:00"}
        body |= {"place": "活动室", "hours": bad}
        problem(api.post(f"/communities/{A}/activities", staff, json=body), 400, "validation_error")


def test_settlement_writes_each_attendees_hours_and_a_correction_stands(
    api: Api, token: Token
) -> None:
    staff = token("staff-a")
    (one, phone_one), (two, phone_two) = api.run(newcomer, "时长一"), api.run(newcomer, "时长二")
    activity_id = publish(api, staff, hours=3, capacity=10)
    path = f"/activities/{activity_id}/attendance/by-name"
    assert api.post(path, staff, json={"resident_ids": [one, two]}).status_code == 200
    fixed = api.post(
        f"/activities/{activity_id}/hours", staff, json={"resident_id": two, "hours": 1.5}
    )
    assert fixed.status_code == 200 and fixed.json()["hours"] == 1.5, fixed.text
    assert api.post(f"/activities/{activity_id}/settle", staff).status_code == 200
    signups = {
        s["resident_id"]: s["hours"]
        for s in api.get(f"/activities/{activity_id}", staff).json()["signups"]
    }
    assert signups == {one: 3.0, two: 1.5}
    assert api.get("/me/hours", phone_one).json()["year_hours"] == 3.0
    mine = api.get("/me/hours", phone_two).json()
    assert (mine["year_hours"], mine["total_hours"], mine["stars"]) == (1.5, 1.5, 0)
    assert (mine["next_star_hours"], mine["ranking_opt_in"]) == (100, False)
    after = api.post(
        f"/activities/{activity_id}/hours", staff, json={"resident_id": two, "hours": 9}
    )
    problem(after, 400, "validation_error")
    assert api.get("/me/hours", phone_two).json()["year_hours"] == 1.5


def test_hours_corrections_outside_the_callers_scope_are_refused_and_change_nothing(
    api: Api, token: Token
) -> None:
    staff = token("staff-a")
    (one, phone), (absent, _) = api.run(newcomer, "范围一"), api.run(newcomer, "范围二")
    activity_id = publish(api, staff, hours=2, capacity=10)
    api.post(f"/activities/{activity_id}/attendance/by-name", staff, json={"resident_ids": [one]})
    path = f"/activities/{activity_id}/hours"
    problem(
        api.post(path, token("staff-b"), json={"resident_id": one, "hours": 9}), 404, "not_found"
    )
    problem(api.post(path, token("vol-a"), json={"resident_id": one, "hours": 9}), 403, "forbidden")
    problem(api.post(path, phone, json={"resident_id": one, "hours": 9}), 403, "forbidden")
    problem(api.post(path, staff, json={"resident_id": absent, "hours": 9}), 404, "not_found")
    problem(
        api.post(path, staff, json={"resident_id": one, "hours": 0.05}), 400, "validation_error"
    )
    signups = api.get(f"/activities/{activity_id}", staff).json()["signups"]
    assert [s["hours"] for s in signups] == [None]
    api.post(f"/activities/{activity_id}/settle", staff)
    assert api.get("/me/hours", phone).json()["year_hours"] == 2.0


def test_the_statistics_count_volunteer_hours_by_path(api: Api, token: Token) -> None:
    staff = token("staff-a")
    before = api.get(f"/communities/{A}/stats", staff).json()
    one, two = api.run(newcomer, "统计一")[0], api.run(newcomer, "统计二")[0]
    settled(api, staff, 2.5, [one, two], path="timely_help")
    after = api.get(f"/communities/{A}/stats", staff).json()
    assert after["volunteer_hours"] == before["volunteer_hours"] + 5.0
    by_path = after["volunteer_hours_by_path"]
    assert by_path["timely_help"] == before["volunteer_hours_by_path"]["timely_help"] + 5.0
    street = api.get("/stats", token("admin")).json()
    assert street["total"]["volunteer_hours"] == sum(
        c["volunteer_hours"] for c in street["communities"]
    )
    assert api.get(f"/communities/{B}/stats", token("staff-b")).json()["volunteer_hours"] == 0


def test_only_residents_who_opt_in_appear_masked_and_opting_out_takes_them_off(
    api: Api, token: Token
) -> None:
    staff = token("staff-a")
    (shown, phone), (hidden, _) = api.run(newcomer, "欧阳娜娜"), api.run(newcomer, "钱隐身")
    settled(api, staff, 4, [shown, hidden], points=30)
    for by in ("points", "hours"):
        assert "欧阳**" not in [e["name"] for e in ranking(api, by)["entries"]]
    opted = api.put("/me/ranking", phone, json={"ranking_opt_in": True})
    assert opted.status_code == 200 and opted.json() == {"ranking_opt_in": True}
    assert api.get("/me/hours", phone).json()["ranking_opt_in"] is True
    for by in ("points", "hours"):
        body = api.get(f"/communities/{A}/ranking", params={"by": by})
        entry = next(e for e in body.json()["entries"] if e["name"] == "欧阳**")
        assert (entry["points"], entry["hours"], entry["stars"]) == (30, 4.0, 0)
        assert set(entry) == {"rank", "name", "points", "hours", "stars"}
        assert "欧阳娜娜" not in body.text and "钱" not in body.text
        assert f'"id":{shown}' not in body.text.replace(" ", "")
    api.put("/me/ranking", phone, json={"ranking_opt_in": False})
    assert "欧阳**" not in [e["name"] for e in ranking(api)["entries"]]
    assert ranking(api, slug=B)["entries"] == []


def test_the_ranking_orders_by_the_measure_asked_for_and_ties_share_a_rank(
    api: Api, token: Token
) -> None:
    staff = token("staff-a")
    people = [api.run(newcomer, name) for name in ("孙多分", "周多时", "吴同分")]
    settled(api, staff, 1, [people[0][0], people[2][0]], points=90)
    settled(api, staff, 20, [people[1][0]], points=5)
    for _, phone in people:
        api.put("/me/ranking", phone, json={"ranking_opt_in": True})
    by_points = [(e["name"], e["rank"]) for e in ranking(api, "points")["entries"]]
    assert by_points == [("吴**", 1), ("孙**", 1), ("周**", 3)]
    by_hours = [(e["name"], e["rank"], e["hours"]) for e in ranking(api, "hours")["entries"]]
    assert by_hours == [("周**", 1, 20.0), ("吴**", 2, 1.0), ("孙**", 2, 1.0)]
    for _, phone in people:
        api.put("/me/ranking", phone, json={"ranking_opt_in": False})


def test_star_levels_follow_the_policy_and_bad_levels_are_refused(api: Api, token: Token) -> None:
    staff, admin = token("staff-a"), token("admin")
    one, phone = api.run(newcomer, "星级一")
    settled(api, staff, 2.5, [one])
    changed = api.put(f"/communities/{A}/policy", admin, json={"star_hours": [1, 2, 3, 4, 5]})
    assert changed.status_code == 200 and changed.json()["star_hours"] == [1, 2, 3, 4, 5]
    mine = api.get("/me/hours", phone).json()
    assert (mine["stars"], mine["next_star_hours"]) == (2, 3)
    api.put("/me/ranking", phone, json={"ranking_opt_in": True})
    body = ranking(api, "hours")
    assert body["star_hours"] == [1, 2, 3, 4, 5]
    assert next(e for e in body["entries"] if e["name"] == "星**")["stars"] == 2
    for bad in ([1, 2, 3, 4], [5, 4, 3, 2, 1], [0, 1, 2, 3, 4], [1, 1, 2, 3, 4], ["1", 2, 3, 4, 5]):
        refused = api.put(f"/communities/{A}/policy", admin, json={"star_hours": bad})
        problem(refused, 400, "validation_error")
    refused = api.put(f"/communities/{A}/policy", staff, json={"star_hours": [1, 2, 3, 4, 6]})
    problem(refused, 403, "forbidden")
    assert api.get(f"/communities/{A}/policy", staff).json()["star_hours"] == [1, 2, 3, 4, 5]
    api.put(f"/communities/{A}/policy", admin, json={"star_hours": [100, 300, 600, 1000, 1500]})
    api.put("/me/ranking", phone, json={"ranking_opt_in": False})


def test_bad_ranking_requests_and_who_may_opt_in(api: Api, token: Token) -> None:
    problem(api.get(f"/communities/{A}/ranking", params={"by": "name"}), 400, "validation_error")
    problem(api.get("/communities/nowhere/ranking"), 404, "not_found")
    problem(
        api.put("/me/ranking", token("staff-a"), json={"ranking_opt_in": True}), 403, "forbidden"
    )
    problem(api.put("/me/ranking", None, json={"ranking_opt_in": True}), 401, "unauthenticated")
    problem(
        api.put("/me/ranking", token("res-a"), json={"ranking_opt_in": "yes"}),
        400,
        "validation_error",
    )
    problem(api.get("/me/hours", token("staff-a")), 403, "forbidden")
