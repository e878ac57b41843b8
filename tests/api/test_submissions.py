"""Residents' submissions through the API: filing with a due date per kind, following one's own,
the staff queue with overdue ones first, decisions and their transitions, and decisions that
award points (to the filer, and for a micro-wish to the neighbour who fulfilled it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import Response

import ledger
from mall.db import Database
from mall.org import points
from tests.api.helpers import Api, problem
from tests.api.world import BIG_RULE, RULE, A, World

Token = Callable[[str], str]


def file(
    api: Api, token: Token, kind: str = "proposal", title: str = "增设晾衣架", **more: Any
) -> Response:
    body = {"kind": kind, "title": title, "body": "楼下空地可以装两排晾衣架。\n大家都方便。"}
    return api.post("/me/submissions", token("res-a"), json=body | more)


def decide(
    api: Api, token: Token, submission_id: int, who: str = "staff-a", **body: Any
) -> Response:
    return api.post(f"/submissions/{submission_id}/decision", token(who), json=body)


async def wallet(db: Database, resident_id: int) -> int:
    async with db.connection() as conn:
        book = await conn.fetchval("SELECT book FROM mall_community WHERE slug = ?", A)
        return (await ledger.get_balance(conn, book, points.wallet(resident_id))).balance


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize(("kind", "days"), [("dispute", 3), ("proposal", 7), ("wish", 14)])
def test_a_submission_is_due_after_the_days_of_its_kind(
    api: Api, token: Token, kind: str, days: int
) -> None:
    made = file(api, token, kind)
    assert made.status_code == 201
    body = made.json()
    assert body["status"] == "open"
    due = parse(body["due_at"]) - datetime.now(UTC)
    assert timedelta(days=days) - timedelta(minutes=1) < due <= timedelta(days=days)


def test_staff_change_the_days_for_a_kind(api: Api, token: Token) -> None:
    staff = token("staff-a")
    changed = api.request(
        "PUT", f"/communities/{A}/submission-deadlines", staff, json={"dispute": 1}
    )
    assert changed.status_code == 200
    assert changed.json() == {"dispute": 1, "proposal": 7, "wish": 14}
    due = parse(file(api, token, "dispute").json()["due_at"]) - datetime.now(UTC)
    assert timedelta(hours=23) < due <= timedelta(days=1)
    bad = api.request("PUT", f"/communities/{A}/submission-deadlines", staff, json={"wish": 0})
    problem(bad, 400, "validation_error")
    api.request("PUT", f"/communities/{A}/submission-deadlines", staff, json={"dispute": 3})
    shown = api.get(f"/communities/{A}/submission-deadlines", staff).json()
    assert shown == {"dispute": 3, "proposal": 7, "wish": 14}


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "complaint", "title": "x"},
        {"kind": "wish", "title": ""},
        {"kind": "wish", "title": "a" * 101},
        {"kind": "wish", "title": "a\x00b"},
        {"kind": "wish", "title": "ok", "body": "x" * 4001},
    ],
)
def test_a_bad_submission_is_refused(api: Api, token: Token, body: dict[str, Any]) -> None:
    before = len(api.get("/me/submissions", token("res-a")).json()["submissions"])
    problem(api.post("/me/submissions", token("res-a"), json=body), 400, "validation_error")
    assert len(api.get("/me/submissions", token("res-a")).json()["submissions"]) == before


def test_residents_follow_their_own_submissions_only(api: Api, world: World, token: Token) -> None:
    made = file(api, token, "wish", "想学用智能手机").json()
    mine = api.get("/me/submissions", token("res-a")).json()["submissions"]
    assert mine[0]["id"] == made["id"] and mine[0]["title"] == "想学用智能手机"
    assert api.get(f"/submissions/{made['id']}", token("res-a")).status_code == 200
    theirs = api.get("/me/submissions", token("res-b")).json()["submissions"]
    assert made["id"] not in [s["id"] for s in theirs]
    problem(api.get(f"/submissions/{made['id']}", token("res-b")), 404, "not_found")
    problem(api.get(f"/submissions/{made['id']}", token("staff-b")), 404, "not_found")
    problem(decide(api, token, made["id"], "staff-b", decision="accept"), 404, "not_found")
    problem(
        api.post("/me/submissions", token("staff-a"), json={"kind": "wish", "title": "x"}),
        403,
        "forbidden",
    )


def test_open_accepted_resolved_and_no_way_back(api: Api, token: Token) -> None:
    sid = file(api, token).json()["id"]
    accepted = decide(api, token, sid, decision="accept", reason="已交物业评估")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    problem(decide(api, token, sid, decision="accept"), 409, "already_exists")
    resolved = decide(api, token, sid, decision="resolve", reason="已安装")
    assert resolved.json()["status"] == "resolved" and resolved.json()["reason"] == "已安装"
    for decision in ("accept", "reject", "resolve"):
        body = problem(
            decide(api, token, sid, decision=decision, reason="再改"), 409, "already_exists"
        )
        assert "已经办结" in body["title"]


def test_reject_needs_a_reason_and_closes_the_submission(api: Api, token: Token) -> None:
    sid = file(api, token).json()["id"]
    problem(decide(api, token, sid, decision="reject"), 400, "validation_error")
    assert api.get(f"/submissions/{sid}", token("res-a")).json()["status"] == "open"
    rejected = decide(api, token, sid, decision="reject", reason="不属于社区事务")
    assert rejected.json()["status"] == "rejected"
    shown = api.get(f"/submissions/{sid}", token("res-a")).json()
    assert shown["reason"] == "不属于社区事务" and not shown["overdue"]
    problem(decide(api, token, sid, decision="resolve"), 409, "already_exists")


def test_resolving_straight_from_open_with_a_rule_awards_the_filer(
    api: Api, world: World, token: Token
) -> None:
    before = api.run(wallet, world.residents["res-a"])
    sid = file(api, token, "dispute", "楼上漏水").json()["id"]
    resolved = decide(api, token, sid, decision="resolve", rule=RULE, reason="已调解")
    body = resolved.json()
    assert resolved.status_code == 200 and body["status"] == "resolved"
    assert body["rule"] == RULE and body["award"] and body["award_status"] == "posted"
    assert api.run(wallet, world.residents["res-a"]) == before + 5
    entry = api.get("/me/passbook", token("res-a")).json()["entries"][0]
    assert entry["memo"] == "楼上漏水" and entry["amount"] == 5


def test_a_micro_wish_awards_the_neighbour_who_fulfilled_it_not_the_filer(
    api: Api, world: World, token: Token
) -> None:
    filer, helper = world.residents["res-a"], world.target
    before = (api.run(wallet, filer), api.run(wallet, helper))
    sid = file(api, token, "wish", "帮我换个灯泡").json()["id"]
    problem(
        decide(api, token, sid, decision="resolve", rule=RULE, helper_id=filer),
        400,
        "validation_error",
    )
    done = decide(api, token, sid, decision="resolve", rule=RULE, helper_id=helper, reason="已完成")
    assert done.status_code == 200, done.text
    assert done.json()["helper"] == helper and done.json()["helper_name"] == "王秀英"
    assert (api.run(wallet, filer), api.run(wallet, helper)) == (before[0], before[1] + 5)
    award = api.get(f"/awards/{done.json()['award']}", token("staff-a")).json()
    assert [r["id"] for r in award["residents"]] == [helper]


def test_staff_may_give_a_micro_wishs_points_to_its_filer_instead(
    api: Api, world: World, token: Token
) -> None:
    filer, helper = world.residents["res-a"], world.target
    before = (api.run(wallet, filer), api.run(wallet, helper))
    sid = file(api, token, "wish", "帮我修水管").json()["id"]
    done = decide(
        api, token, sid, decision="resolve", rule=RULE, helper_id=helper, reward_to="filer"
    )
    assert done.status_code == 200, done.text
    assert done.json()["helper"] == helper
    assert (api.run(wallet, filer), api.run(wallet, helper)) == (before[0] + 5, before[1])


def test_whom_the_points_go_to_is_checked_and_nothing_changes_when_refused(
    api: Api, world: World, token: Token
) -> None:
    filer, helper = world.residents["res-a"], world.target
    before = (api.run(wallet, filer), api.run(wallet, helper))
    sid = file(api, token, "wish", "帮我搬家").json()["id"]
    for change in (
        {"reward_to": "helper"},  # no helper named
        {"reward_to": "everyone", "helper_id": helper},
        {"helper_id": world.residents["res-b"]},  # another community's resident
    ):
        answer = decide(api, token, sid, decision="resolve", rule=RULE, **change)
        assert answer.status_code in (400, 404), answer.text
    assert api.get(f"/submissions/{sid}", token("staff-a")).json()["status"] == "open"
    assert (api.run(wallet, filer), api.run(wallet, helper)) == before
    assert api.get(f"/submissions/{sid}", token("staff-a")).json()["award"] is None


def test_a_helper_only_for_a_micro_wish(api: Api, world: World, token: Token) -> None:
    sid = file(api, token, "proposal").json()["id"]
    refused = decide(api, token, sid, decision="resolve", rule=RULE, helper_id=world.target)
    problem(refused, 400, "validation_error")
    assert api.get(f"/submissions/{sid}", token("staff-a")).json()["status"] == "open"


def test_a_decision_award_above_the_threshold_waits_for_approval(
    api: Api, world: World, token: Token
) -> None:
    before = api.run(wallet, world.residents["res-a"])
    sid = file(api, token, "dispute", "邻里噪音").json()["id"]
    accepted = decide(api, token, sid, decision="accept", rule=BIG_RULE).json()
    assert accepted["status"] == "accepted" and accepted["award_status"] == "pending_approval"
    assert api.run(wallet, world.residents["res-a"]) == before
    problem(decide(api, token, sid, decision="resolve", rule=RULE), 409, "already_exists")
    api.post(f"/awards/{accepted['award']}/approve", token("staff-a2"))
    assert api.run(wallet, world.residents["res-a"]) == before + 50


def test_a_decision_whose_award_fails_changes_nothing(api: Api, world: World, token: Token) -> None:
    sid = file(api, token, "dispute").json()["id"]
    problem(decide(api, token, sid, decision="resolve", rule="no-such-rule"), 404, "not_found")
    assert api.get(f"/submissions/{sid}", token("staff-a")).json()["status"] == "open"


async def _make_overdue(db: Database, submission_id: int) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE mall_submission SET due_at = ? WHERE id = ?",
            datetime.now(UTC) - timedelta(hours=1),
            submission_id,
        )


def test_the_staff_queue_lists_overdue_submissions_first(api: Api, token: Token) -> None:
    fresh = file(api, token, "dispute", "新的").json()["id"]
    late = file(api, token, "wish", "逾期的").json()["id"]
    api.run(_make_overdue, late)
    queue = api.get(f"/communities/{A}/submissions?status=open", token("staff-a")).json()
    listed = queue["submissions"]
    assert listed[0]["overdue"] is True
    flags = {s["id"]: s["overdue"] for s in listed}
    assert flags[late] is True and flags[fresh] is False
    assert [s["overdue"] for s in listed] == sorted((s["overdue"] for s in listed), reverse=True)
    assert all(s["status"] == "open" for s in listed)
    decide(api, token, late, decision="resolve")
    closed = api.get(f"/submissions/{late}", token("staff-a")).json()
    assert closed["overdue"] is False
