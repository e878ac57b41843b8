"""Changing a recruitment call through the JSON API (docs/api-additions.md): `PATCH
/activities/{id}`, `POST /activities/{id}/cancel`, `DELETE /activities/{id}/checkins/{resident}`,
each for staff of the community only and only before settlement."""

from __future__ import annotations

from collections.abc import Callable

from tests.api.helpers import Api, problem
from tests.api.test_activities import newcomer, publish, scan
from tests.api.world import A

Token = Callable[[str], str]


def test_staff_edit_a_call_and_bad_edits_change_nothing(api: Api, token: Token) -> None:
    staff = token("staff-a")
    activity_id = publish(api, staff, capacity=1)
    (_, first), (_, second) = (api.run(newcomer, n) for n in ("戊", "己"))
    api.post(f"/activities/{activity_id}/signup", first)
    api.post(f"/activities/{activity_id}/signup", second)
    edited = api.request(
        "PATCH", f"/activities/{activity_id}", staff, json={"place": "5栋楼下", "capacity": 2}
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["place"] == "5栋楼下" and edited.json()["title"] == "清理楼道"
    assert (edited.json()["confirmed"], edited.json()["waiting"]) == (2, 0)
    assert api.get(f"/activities/{activity_id}", second).json()["my_status"] == "confirmed"
    for bad in ({"capacity": 1}, {"points": 0}, {"path": "x"}, {"title": ""}, {"points": "ten"}):
        problem(
            api.request("PATCH", f"/activities/{activity_id}", staff, json=bad),
            400,
            "validation_error",
        )
    shown = api.get(f"/activities/{activity_id}", staff).json()
    assert (shown["capacity"], shown["points"], shown["path"]) == (2, 12, "adding_to_good")


def test_a_cancelled_call_reads_cancelled_for_its_residents(api: Api, token: Token) -> None:
    staff = token("staff-a")
    activity_id = publish(api, staff)
    _, phone = api.run(newcomer, "庚")
    api.post(f"/activities/{activity_id}/signup", phone)
    problem(api.post(f"/activities/{activity_id}/cancel", staff, json={}), 400, "validation_error")
    done = api.post(f"/activities/{activity_id}/cancel", staff, json={"reason": "暴雨预警"})
    assert done.status_code == 200 and done.json()["status"] == "cancelled"
    mine = api.get("/me/activities", phone).json()
    assert [(a["id"], a["status"]) for a in mine["mine"]] == [(activity_id, "cancelled")]
    problem(
        api.post(
            f"/activities/{activity_id}/checkin", phone, json={"code": scan(api, activity_id)}
        ),
        400,
        "validation_error",
    )
    problem(api.post(f"/activities/{activity_id}/settle", staff), 400, "validation_error")
    audit = api.get(f"/communities/{A}/audit", staff).text
    assert "activity.cancel" in audit and "暴雨预警" in audit


def test_a_wrong_check_in_is_removed_once_and_never_after_settlement(
    api: Api, token: Token
) -> None:
    staff = token("staff-a")
    activity_id = publish(api, staff)
    (wrong, phone), (right, other) = (api.run(newcomer, n) for n in ("辛", "壬"))
    for who in (phone, other):
        checked = api.post(
            f"/activities/{activity_id}/checkin", who, json={"code": scan(api, activity_id)}
        )
        assert checked.status_code == 201
    url = f"/activities/{activity_id}/checkins/{wrong}"
    for refused, status, code in (
        (token("staff-b"), 404, "not_found"),
        (token("vol-a"), 403, "forbidden"),
        (phone, 403, "forbidden"),
    ):
        problem(api.delete(url, refused), status, code)
    assert api.delete(f"{url}?reason=认错人了", staff).status_code == 204
    problem(api.delete(url, staff), 404, "not_found")
    assert api.get(f"/activities/{activity_id}", staff).json()["checked_in"] == 1
    settled = api.post(f"/activities/{activity_id}/settle", staff).json()
    assert settled["awarded"] == 1
    problem(
        api.delete(f"/activities/{activity_id}/checkins/{right}", staff), 400, "validation_error"
    )
    assert "activity.checkin_removed" in api.get(f"/communities/{A}/audit", staff).text
