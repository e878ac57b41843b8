"""A cancelled activity's reason reaches its residents: kept on the activity, shown on its page
(活动已取消：<reason>, escaped), given in the API's representation (``cancel_reason``) and in the
inbox message each resident signed up or waiting gets, written with the cancellation."""

from __future__ import annotations

from collections.abc import Callable

from tests.api.helpers import Api
from tests.api.test_activities import newcomer, publish

Token = Callable[[str], str]

REASON = "暴雨预警 <script>alert(1)</script>"


def cancelled(api: Api, token: Token, capacity: int = 1) -> tuple[int, list[str]]:
    """An activity with one resident signed up and one waiting, cancelled with ``REASON``; its
    id and the residents' tokens (the signed-up one, the waiting one, one not on its list)."""
    staff = token("staff-a")
    activity_id = publish(api, staff, capacity=capacity)
    phones = [api.run(newcomer, n)[1] for n in ("甲一", "乙二", "丙三")]
    for phone in phones[:2]:
        assert api.post(f"/activities/{activity_id}/signup", phone).status_code == 201
    done = api.post(f"/activities/{activity_id}/cancel", staff, json={"reason": REASON})
    assert done.status_code == 200, done.text
    assert done.json()["cancel_reason"] == REASON
    return activity_id, phones


def test_the_api_gives_the_reason_of_a_cancelled_activity_only(api: Api, token: Token) -> None:
    activity_id, (signed_up, _, stranger) = cancelled(api, token)
    assert api.get(f"/activities/{activity_id}", signed_up).json()["cancel_reason"] == REASON
    mine = api.get("/me/activities", signed_up).json()["mine"]
    assert [(a["status"], a["cancel_reason"]) for a in mine] == [("cancelled", REASON)]
    staff = token("staff-a")
    assert api.get(f"/activities/{activity_id}", staff).json()["cancel_reason"] == REASON
    still_open = publish(api, staff)
    assert api.get(f"/activities/{still_open}", stranger).json()["cancel_reason"] is None


def test_each_resident_on_the_list_gets_the_reason_in_their_inbox(api: Api, token: Token) -> None:
    activity_id, (signed_up, waiting, stranger) = cancelled(api, token)
    for phone in (signed_up, waiting):
        messages = api.get("/me/inbox", phone).json()["messages"]
        [message] = [m for m in messages if m["kind"] == "activity_cancelled"]
        assert message["title"] == "活动取消了"
        assert "清理楼道" in message["body"] and REASON in message["body"]
    assert all(
        m["kind"] != "activity_cancelled" for m in api.get("/me/inbox", stranger).json()["messages"]
    )
    again = api.post(f"/activities/{activity_id}/cancel", token("staff-a"), json={"reason": "x"})
    assert again.status_code == 200 and again.json()["cancel_reason"] == REASON  # kept
    kinds = [m["kind"] for m in api.get("/me/inbox", signed_up).json()["messages"]]
    assert kinds.count("activity_cancelled") == 1


def test_the_page_and_the_inbox_page_show_the_reason_escaped(api: Api, token: Token) -> None:
    activity_id, (signed_up, _, _) = cancelled(api, token)
    api.client.cookies.set("mall_session", signed_up)
    page = api.client.get(f"/me/activities/{activity_id}")
    assert page.status_code == 200
    assert "活动已取消：暴雨预警 &lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>alert(1)" not in page.text
    inbox = api.client.get("/me/inbox")
    assert inbox.status_code == 200
    assert "暴雨预警 &lt;script&gt;alert(1)&lt;/script&gt;" in inbox.text
    assert "<script>alert(1)" not in inbox.text
