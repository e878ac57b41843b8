"""The resident's inbox through the API: the events that write to it (announcements to the
community, a grid or a building; points received and reversed; reservations ready and lapsing;
decisions on submissions and objections), reading and marking read, and the scope: a resident
reads only their own messages, staff announce only to their own community."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from httpx import Response

from mall.counter import housekeeping
from mall.db import Database
from mall.people import auth, residents
from tests.api.helpers import Api, problem
from tests.api.world import ADMIN, RULE, A, B, World

Token = Callable[[str], str]
KEYS = itertools.count(1)


def inbox(api: Api, who: str) -> dict[str, Any]:
    shown = api.get("/me/inbox", who)
    assert shown.status_code == 200, shown.text
    body: dict[str, Any] = shown.json()
    return body


def kinds(api: Api, who: str) -> list[str]:
    return [m["kind"] for m in inbox(api, who)["messages"]]


def announce(api: Api, who: str | None, slug: str = A, **body: Any) -> Response:
    return api.post(
        f"/communities/{slug}/announcements",
        who,
        json={"title": "停水通知", "body": "明天停水"} | body,
    )


async def _neighbour(db: Database, grid: str | None, building: str | None) -> tuple[int, str]:
    made = await residents.create_resident(
        db, ADMIN, A, f"邻居{next(KEYS)}", None, grid, building=building
    )
    async with db.transaction() as conn:
        token = await auth.create_session(
            conn, "resident", resident_id=made.id, ttl=auth.RESIDENT_SESSION
        )
    return made.id, token


def neighbour(api: Api, grid: str | None = None, building: str | None = None) -> tuple[int, str]:
    return api.run(_neighbour, grid, building)


def test_an_announcement_reaches_the_whole_community_and_no_other(api: Api, token: Token) -> None:
    _, mine = neighbour(api)
    made = announce(api, token("staff-a"), title="社区通知", body="周六上午义诊。\n请带医保卡。")
    assert made.status_code == 201, made.text
    assert made.json()["recipients"] >= 3
    first = inbox(api, mine)["messages"][0]
    assert first["kind"] == "announcement" and first["read"] is False
    assert (first["title"], first["body"]) == ("社区通知", "周六上午义诊。\n请带医保卡。")
    assert "社区通知" not in [m["title"] for m in inbox(api, token("res-b"))["messages"]]
    listed = api.get(f"/communities/{A}/announcements", token("staff-a")).json()
    assert listed["announcements"][0]["title"] == "社区通知"


def test_an_announcement_to_a_grid_or_a_building_reaches_only_its_residents(
    api: Api, token: Token
) -> None:
    _, in_grid = neighbour(api, grid="g1")
    _, in_building = neighbour(api, building="3")
    _, elsewhere = neighbour(api, building="5")
    to_grid = announce(api, token("staff-a"), title="网格通知", grid="g1")
    assert to_grid.status_code == 201, to_grid.text
    to_building = announce(api, token("staff-a"), title="3栋通知", building="3")
    assert to_building.json()["recipients"] == 1
    titles = {
        who: [m["title"] for m in inbox(api, tok)["messages"]]
        for who, tok in (("grid", in_grid), ("building", in_building), ("else", elsewhere))
    }
    assert "网格通知" in titles["grid"] and "3栋通知" not in titles["grid"]
    assert "3栋通知" in titles["building"] and "网格通知" not in titles["building"]
    assert "3栋通知" not in titles["else"] and "网格通知" not in titles["else"]
    problem(announce(api, token("staff-a"), grid="nope"), 400, "validation_error")


def test_only_staff_of_the_community_announce(api: Api, token: Token) -> None:
    _, mine = neighbour(api)
    problem(announce(api, token("staff-b"), title="越权通知"), 403, "forbidden")
    problem(announce(api, token("vol-a"), title="越权通知"), 403, "forbidden")
    problem(announce(api, token("res-a"), title="越权通知"), 403, "forbidden")
    problem(announce(api, None, title="越权通知"), 401, "unauthenticated")
    problem(api.get(f"/communities/{A}/announcements", token("staff-b")), 403, "forbidden")
    assert "越权通知" not in [m["title"] for m in inbox(api, mine)["messages"]]
    assert announce(api, token("admin"), B, title="街道通知").status_code == 201


def test_bad_announcements_are_refused(api: Api, token: Token) -> None:
    staff = token("staff-a")
    for body in ({"title": ""}, {"body": ""}, {"title": "x" * 101}, {"body": "x" * 2001}):
        problem(announce(api, staff, **body), 400, "validation_error")
    problem(announce(api, staff, title="a\x00b"), 400, "validation_error")
    problem(announce(api, staff, body="a\x00b"), 400, "validation_error")


def test_points_received_and_reversed_reach_the_resident(
    api: Api, token: Token, world: World
) -> None:
    rid, mine = neighbour(api)
    body = {"community": A, "rule": RULE, "resident_ids": [rid], "memo": "参加居民议事会"}
    made = api.post(
        "/awards", token("staff-a"), json=body, headers={"Idempotency-Key": f"ib-{next(KEYS)}"}
    )
    assert made.status_code == 201 and made.json()["status"] == "posted", made.text
    got = inbox(api, mine)["messages"][0]
    assert (
        got["kind"] == "points_received" and "5" in got["body"] and "参加居民议事会" in got["body"]
    )
    back = api.post(
        f"/awards/{made.json()['id']}/reverse",
        token("staff-a2"),
        json={"reason": "重复登记"},
        headers={"Idempotency-Key": f"ib-{next(KEYS)}"},
    )
    assert back.status_code == 201, back.text
    got = inbox(api, mine)["messages"][0]
    assert got["kind"] == "points_reversed" and "重复登记" in got["body"]


def test_decisions_on_a_submission_reach_its_filer(api: Api, token: Token) -> None:
    rid, mine = neighbour(api)
    sid = api.post(
        "/me/submissions", mine, json={"kind": "proposal", "title": "加装扶手", "body": ""}
    ).json()["id"]
    for decision in ("accept", "resolve"):
        done = api.post(
            f"/submissions/{sid}/decision",
            token("staff-a"),
            json={"decision": decision, "reason": "已安装"},
        )
        assert done.status_code == 200, done.text
    assert kinds(api, mine)[:2] == ["submission_resolved", "submission_accepted"]
    assert "加装扶手" in inbox(api, mine)["messages"][0]["body"]


def test_reservations_ready_lapsing_and_lapsed_reach_the_resident(
    api: Api, token: Token, world: World
) -> None:
    mine = token("target")
    made = api.post(
        "/me/reservations",
        mine,
        json={"outlet": world.outlets["outlet-a"], "lines": [{"sku": "SOAP", "quantity": 1}]},
        headers={"Idempotency-Key": f"ib-{next(KEYS)}"},
    )
    assert made.status_code == 201, made.text
    assert kinds(api, mine)[0] == "reservation_ready"
    assert "积分超市" in inbox(api, mine)["messages"][0]["body"]
    soon = datetime.now(UTC) + timedelta(days=2, hours=12)
    later = datetime.now(UTC) + timedelta(days=30)

    async def chores(db: Database, at: datetime) -> None:
        await housekeeping.remind_lapsing(db, at)
        await housekeeping.remind_lapsing(db, at)  # twice: still one reminder
        await housekeeping.lapse_reservations(db, at)

    api.run(chores, soon)
    assert kinds(api, mine)[:2] == ["reservation_lapsing", "reservation_ready"]
    api.run(chores, later)
    assert kinds(api, mine)[:3] == [
        "reservation_lapsed",
        "reservation_lapsing",
        "reservation_ready",
    ]


def test_a_decision_on_an_objection_reaches_the_objector(api: Api, token: Token) -> None:
    rid, _ = neighbour(api)
    _, objector = neighbour(api)
    body = {"community": A, "rule": RULE, "resident_ids": [rid], "memo": "打扫楼道"}
    made = api.post(
        "/awards", token("staff-a"), json=body, headers={"Idempotency-Key": f"ib-{next(KEYS)}"}
    )
    assert made.status_code == 201, made.text
    entry = api.get(f"/communities/{A}/notice").json()["entries"][0]["id"]
    filed = api.post(f"/notice/{entry}/objections", objector, json={"reason": "他那天不在"})
    assert filed.status_code == 201, filed.text
    done = api.post(
        f"/objections/{filed.json()['id']}/decision",
        token("staff-a"),
        json={"decision": "dismiss", "reply": "已核实，他在场"},
    )
    assert done.status_code == 200, done.text
    got = inbox(api, objector)["messages"][0]
    assert got["kind"] == "objection_dismissed" and "已核实，他在场" in got["body"]


def test_reading_and_marking_read(api: Api, token: Token) -> None:
    _, mine = neighbour(api)
    # the module's earlier announcements reach this late neighbour too (inbox.CATCH_UP): read
    earlier = api.post("/me/inbox/read", mine, json={}).json()
    assert earlier["unread"] == 0
    for title in ("一", "二", "三"):
        assert announce(api, token("staff-a"), title=title).status_code == 201
    shown = inbox(api, mine)
    assert shown["unread"] == 3
    first = shown["messages"][0]["id"]
    marked = api.post("/me/inbox/read", mine, json={"ids": [first]})
    assert marked.status_code == 200 and marked.json() == {"marked": 1, "unread": 2}
    assert inbox(api, mine)["messages"][0]["read"] is True
    page = api.get("/me/inbox?limit=2", mine).json()
    assert len(page["messages"]) == 2 and page["next"] is not None
    rest = api.get(f"/me/inbox?limit=2&before={page['next']}", mine).json()
    assert rest["messages"][0]["title"] == "一" and not any(
        m["title"] in "二三" for m in rest["messages"]
    )
    assert api.post("/me/inbox/read", mine, json={}).json() == {"marked": 2, "unread": 0}


def test_a_resident_never_reads_or_marks_anothers_messages(api: Api, token: Token) -> None:
    _, mine = neighbour(api)
    _, theirs = neighbour(api)
    assert announce(api, token("staff-a"), title="各自的消息").status_code == 201
    their_id = inbox(api, theirs)["messages"][0]["id"]
    done = api.post("/me/inbox/read", mine, json={"ids": [their_id]})
    assert done.json()["marked"] == 0
    assert inbox(api, theirs)["messages"][0]["read"] is False
    problem(api.get("/me/inbox", token("staff-a")), 403, "forbidden")
    problem(api.get("/me/inbox"), 401, "unauthenticated")
    problem(api.post("/me/inbox/read", mine, json={"ids": [0]}), 400, "validation_error")
    problem(api.post("/me/inbox/read", mine, json={"ids": ["x"]}), 400, "validation_error")
