"""The public notice (公示) and objections through the API (API.md v1.1 Transparency): masked
names and nothing else about a person in public, the objection window, every refusal, and an
upheld objection reversing the award with nothing changed when the reversal is refused."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import ledger
from mall.db import Database
from mall.org import points
from mall.people import auth, residents
from mall.reports import objections
from tests import support
from tests.api.helpers import Api, problem
from tests.api.test_awards import give, key, wallet
from tests.api.world import ADMIN, BIG_RULE, TARGET_NAME, TARGET_PHONE, A, B, World

Token = Callable[[str], str]
NAMES = itertools.count()


async def _resident(db: Database, name: str, phone: str | None) -> tuple[int, str]:
    made = await residents.create_resident(db, ADMIN, A, name, phone, None)
    async with db.transaction() as conn:
        token = await auth.create_session(
            conn, "resident", resident_id=made.id, ttl=auth.RESIDENT_SESSION
        )
    return made.id, token


def neighbour(api: Api, name: str = "", phone: str | None = None) -> tuple[int, str]:
    """A new resident of A and their bearer token."""
    return api.run(_resident, name or f"邻居{next(NAMES)}号", phone)


def entries_of(api: Api, award_id: int) -> list[int]:
    async def lines(db: Database) -> list[int]:
        async with db.connection() as conn:
            rows = await conn.fetch(
                "SELECT id FROM mall_award_line WHERE award = ? ORDER BY id", award_id
            )
            return [int(r["id"]) for r in rows]

    return api.run(lines)


def posted(api: Api, token: Token, people: list[int]) -> tuple[int, list[int]]:
    made = give(api, token("staff-a"), people)
    assert made.status_code == 201 and made.json()["status"] == "posted", made.text
    award_id = int(made.json()["id"])
    return award_id, entries_of(api, award_id)


def object_to(api: Api, token: str, entry: int, reason: str = "那天他没有来") -> Any:
    return api.post(f"/notice/{entry}/objections", token, json={"reason": reason})


def decide(api: Api, token: str, objection: int, decision: str, reply: str = "已核实") -> Any:
    return api.post(
        f"/objections/{objection}/decision", token, json={"decision": decision, "reply": reply}
    )


# The notice ------------------------------------------------------------------------------


def test_anyone_reads_the_notice_with_masked_names_newest_first(
    api: Api, world: World, token: Token
) -> None:
    first, _ = neighbour(api, "张晓明", "13900002222")
    second, _ = neighbour(api, "欧阳娜娜")
    _, (older,) = posted(api, token, [first])
    _, (newer,) = posted(api, token, [second])
    shown = api.get(f"/communities/{A}/notice")
    assert shown.status_code == 200, shown.text
    assert "public" in shown.headers["cache-control"]
    entries = shown.json()["entries"]
    by_id = {e["id"]: e for e in entries}
    assert by_id[older]["name"] == "张**" and by_id[newer]["name"] == "欧阳**"
    assert [e["id"] for e in entries].index(newer) < [e["id"] for e in entries].index(older)
    entry = by_id[older]
    assert set(entry) == {
        "id",
        "at",
        "name",
        "path",
        "rule",
        "points",
        "objection_until",
        "objections",
        "status",
    }
    assert (entry["path"], entry["rule"], entry["points"], entry["status"]) == (
        "adding_to_good",
        "参加议事会",
        5,
        "posted",
    )
    at = datetime.fromisoformat(entry["at"])
    assert datetime.fromisoformat(entry["objection_until"]) - at == timedelta(days=7)


def test_no_full_name_phone_or_resident_id_appears_in_the_notice(
    api: Api, world: World, token: Token
) -> None:
    people = {
        "张晓明": "13900003333",
        TARGET_NAME: TARGET_PHONE,
        "李海": None,
        "赵六": None,
        "张三": "13900004444",
    }
    ids = [world.target, world.residents["res-a"]]
    ids += [neighbour(api, n, p)[0] for n, p in people.items() if n not in (TARGET_NAME, "李海")]
    posted(api, token, ids)
    body = api.get(f"/communities/{A}/notice").text
    for name, phone in people.items():
        assert name not in body
        if phone:
            assert phone not in body
    assert "resident" not in body
    for entry in api.get(f"/communities/{A}/notice").json()["entries"]:
        assert set(entry["name"][1:]) <= {"*", "阳"}


def test_waiting_and_rejected_awards_are_not_on_the_notice(
    api: Api, world: World, token: Token
) -> None:
    someone, _ = neighbour(api)
    waiting = give(api, token("staff-a"), [someone], rule=BIG_RULE).json()["id"]
    rejected = give(api, token("staff-a"), [someone], rule=BIG_RULE).json()["id"]
    api.post(f"/awards/{rejected}/reject", token("staff-a2"), json={"reason": "重复"})
    hidden = set(entries_of(api, waiting) + entries_of(api, rejected))
    shown = {e["id"] for e in api.get(f"/communities/{A}/notice").json()["entries"]}
    assert hidden and not hidden & shown


def test_a_reversed_award_shows_as_reversed(api: Api, world: World, token: Token) -> None:
    someone, _ = neighbour(api)
    award_id, (entry,) = posted(api, token, [someone])
    done = api.post(
        f"/awards/{award_id}/reverse", token("staff-a2"), json={"reason": "误发"}, headers=key()
    )
    assert done.status_code == 201, done.text
    shown = {e["id"]: e for e in api.get(f"/communities/{A}/notice").json()["entries"]}
    assert shown[entry]["status"] == "reversed"


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-12-05&to=2026-12-01",
        "from=yesterday",
        "to=2026-13-01",
        "from=2026-01-01&to=2026-12-01",
    ],
)
def test_bad_dates_are_a_validation_error(api: Api, query: str) -> None:
    problem(api.get(f"/communities/{A}/notice?{query}"), 400, "validation_error")


def test_an_unknown_community_has_no_notice(api: Api) -> None:
    problem(api.get("/communities/nowhere/notice"), 404, "not_found")


def test_a_range_in_the_past_is_empty(api: Api) -> None:
    shown = api.get(f"/communities/{A}/notice?from=2020-01-01&to=2020-01-07").json()
    assert shown["entries"] == [] and shown["start"] == "2020-01-01"


# Objections ------------------------------------------------------------------------------


def test_a_resident_objects_once_and_staff_see_it_with_the_objector(
    api: Api, world: World, token: Token
) -> None:
    someone, _ = neighbour(api)
    objector, mine = neighbour(api, "钱多多")
    _, (entry,) = posted(api, token, [someone])
    made = object_to(api, mine, entry, "他那天在外地")
    assert made.status_code == 201, made.text
    objection_id = made.json()["id"]
    problem(object_to(api, mine, entry), 409, "already_exists")
    shown = {e["id"]: e for e in api.get(f"/communities/{A}/notice").json()["entries"]}
    assert shown[entry]["objections"] == 1
    listed = api.get(f"/communities/{A}/objections", token("staff-a")).json()["objections"]
    found = next(o for o in listed if o["id"] == objection_id)
    assert (found["entry_id"], found["reason"], found["status"]) == (entry, "他那天在外地", "open")
    assert (found["objector_id"], found["objector"]) == (objector, "钱多多")
    own = api.get("/me/objections", mine).json()["objections"]
    assert [o["id"] for o in own] == [objection_id]
    assert own[0]["objector_id"] is None and own[0]["objector"] == ""


def test_objections_after_the_window_are_closed(api: Api, world: World, token: Token) -> None:
    someone, _ = neighbour(api)
    _, mine = neighbour(api)
    award_id, (entry,) = posted(api, token, [someone])

    async def age(db: Database) -> None:
        async with db.transaction() as conn:
            await conn.execute(
                "UPDATE mall_award SET created_at = ? WHERE id = ?",
                datetime.now(UTC) - timedelta(days=7, minutes=1),
                award_id,
            )

    api.run(age)
    problem(object_to(api, mine, entry), 409, "objection_closed")


@pytest.mark.parametrize("caller", ["admin", "staff-a", "vol-a"])
def test_users_do_not_object(api: Api, token: Token, caller: str) -> None:
    someone, _ = neighbour(api)
    _, (entry,) = posted(api, token, [someone])
    problem(object_to(api, token(caller), entry), 403, "forbidden")


def test_another_communitys_resident_cannot_object(api: Api, token: Token) -> None:
    someone, _ = neighbour(api)
    _, (entry,) = posted(api, token, [someone])
    problem(object_to(api, token("res-b"), entry), 404, "not_found")
    problem(object_to(api, token("res-a"), 2_000_000), 404, "not_found")


@pytest.mark.parametrize("reason", ["", "   ", "字" * (objections.MAX_REASON + 1), "a\x00b"])
def test_a_reason_empty_or_too_long_is_refused(api: Api, token: Token, reason: str) -> None:
    someone, _ = neighbour(api)
    _, mine = neighbour(api)
    _, (entry,) = posted(api, token, [someone])
    problem(object_to(api, mine, entry, reason), 400, "validation_error")


def test_a_reversed_entry_takes_no_objection(api: Api, token: Token) -> None:
    someone, _ = neighbour(api)
    _, mine = neighbour(api)
    award_id, (entry,) = posted(api, token, [someone])
    api.post(
        f"/awards/{award_id}/reverse", token("staff-a"), json={"reason": "误发"}, headers=key()
    )
    problem(object_to(api, mine, entry), 409, "already_reversed")


def test_objections_are_rate_limited_per_resident(api: Api, token: Token) -> None:
    people = [neighbour(api)[0] for _ in range(objections.DAILY_LIMIT + 1)]
    _, mine = neighbour(api)
    _, entries = posted(api, token, people)
    for entry in entries[:-1]:
        assert object_to(api, mine, entry).status_code == 201
    problem(object_to(api, mine, entries[-1]), 429, "rate_limited")


# Decisions -------------------------------------------------------------------------------


def objected(api: Api, token: Token) -> tuple[int, int, int, str]:
    """A posted award to a new resident, and another resident's objection to it: (award,
    resident awarded, objection, the objector's token)."""
    someone, _ = neighbour(api)
    _, mine = neighbour(api)
    award_id, (entry,) = posted(api, token, [someone])
    made = object_to(api, mine, entry, "重复申报")
    assert made.status_code == 201, made.text
    return award_id, someone, made.json()["id"], mine


def test_dismissing_answers_the_resident_and_changes_no_points(
    api: Api, world: World, token: Token
) -> None:
    award_id, someone, objection_id, mine = objected(api, token)
    before = api.run(wallet, A, someone)
    done = decide(api, token("staff-a"), objection_id, "dismiss", "签到表上有他的名字")
    assert done.status_code == 200, done.text
    assert done.json() == {"id": objection_id, "status": "dismissed"}
    assert api.run(wallet, A, someone) == before
    own = api.get("/me/objections", mine).json()["objections"][0]
    assert (own["status"], own["reply"]) == ("dismissed", "签到表上有他的名字")
    problem(decide(api, token("staff-a"), objection_id, "uphold"), 409, "already_exists")
    assert api.get(f"/awards/{award_id}", token("staff-a")).json()["status"] == "posted"


def test_upholding_reverses_the_award_with_the_objection_as_the_reason(
    api: Api, world: World, token: Token
) -> None:
    award_id, someone, objection_id, mine = objected(api, token)
    before = api.run(wallet, A, someone)
    done = decide(api, token("staff-a2"), objection_id, "uphold", "核实属实，已撤销")
    assert done.status_code == 200, done.text
    assert done.json() == {"id": objection_id, "status": "upheld"}
    assert api.run(wallet, A, someone) == before - 5
    award = api.get(f"/awards/{award_id}", token("staff-a")).json()
    assert (award["status"], award["reversal_reason"]) == ("reversed", "异议：重复申报")
    line = api.get(f"/residents/{someone}/passbook?limit=1", token("staff-a")).json()["entries"]
    assert line[0]["memo"] == "撤销：异议：重复申报"
    own = api.get("/me/objections", mine).json()["objections"][0]
    assert (own["status"], own["reply"], own["entry"]["status"]) == (
        "upheld",
        "核实属实，已撤销",
        "reversed",
    )
    problem(decide(api, token("staff-a"), objection_id, "dismiss"), 409, "already_exists")


def state(api: Api, token: Token, award_id: int, someone: int, objection_id: int) -> Any:
    listed = api.get(f"/communities/{A}/objections", token("staff-a")).json()["objections"]
    return (
        api.run(wallet, A, someone),
        api.get(f"/awards/{award_id}", token("staff-a")).json()["status"],
        next(o["status"] for o in listed if o["id"] == objection_id),
    )


def test_an_uphold_the_reversal_refuses_changes_nothing(api: Api, token: Token) -> None:
    award_id, someone, objection_id, _ = objected(api, token)

    async def spend_all(db: Database) -> None:
        async with db.transaction() as conn:
            book = await conn.fetchval("SELECT book FROM mall_community WHERE slug = ?", A)
            await ledger.place_hold(
                conn,
                book,
                points.wallet(someone),
                5,
                expires_at=datetime.now(UTC) + timedelta(days=1),
                idempotency_key=f"objection-hold-{someone}",
            )

    api.run(spend_all)
    before = state(api, token, award_id, someone, objection_id)
    problem(decide(api, token("staff-a"), objection_id, "uphold"), 409, "insufficient_points")
    assert state(api, token, award_id, someone, objection_id) == before == (0, "posted", "open")


def test_an_uphold_of_an_award_already_reversed_is_refused(api: Api, token: Token) -> None:
    award_id, someone, objection_id, _ = objected(api, token)
    api.post(
        f"/awards/{award_id}/reverse", token("staff-a"), json={"reason": "误发"}, headers=key()
    )
    problem(decide(api, token("staff-a"), objection_id, "uphold"), 409, "already_reversed")
    assert state(api, token, award_id, someone, objection_id)[2] == "open"


def test_nobody_upholds_an_objection_to_their_own_award(
    api: Api, world: World, token: Token
) -> None:
    award_id, someone, objection_id, _ = objected(api, token)

    async def link(db: Database, resident: int | None) -> None:
        async with db.transaction() as conn:
            await conn.execute(
                "UPDATE mall_user SET resident = ? WHERE id = ?", resident, world.users["staff-a2"]
            )

    api.run(link, someone)
    try:
        before = state(api, token, award_id, someone, objection_id)
        problem(decide(api, token("staff-a2"), objection_id, "uphold"), 403, "self_dealing")
        assert state(api, token, award_id, someone, objection_id) == before
    finally:
        api.run(link, None)


@pytest.mark.parametrize(
    "body",
    [
        {"decision": "uphold", "reply": ""},
        {"decision": "dismiss"},
        {"decision": "maybe", "reply": "好"},
        {"decision": "dismiss", "reply": "字" * (objections.MAX_REPLY + 1)},
    ],
)
def test_a_decision_without_a_reply_or_with_an_unknown_word_is_refused(
    api: Api, token: Token, body: dict[str, Any]
) -> None:
    award_id, someone, objection_id, _ = objected(api, token)
    refused = api.post(f"/objections/{objection_id}/decision", token("staff-a"), json=body)
    problem(refused, 400, "validation_error")
    assert state(api, token, award_id, someone, objection_id)[1:] == ("posted", "open")


def test_staff_of_another_community_neither_see_nor_decide(api: Api, token: Token) -> None:
    _, _, objection_id, _ = objected(api, token)
    problem(decide(api, token("staff-b"), objection_id, "dismiss"), 404, "not_found")
    theirs = api.get(f"/communities/{B}/objections", token("staff-b")).json()["objections"]
    assert objection_id not in [o["id"] for o in theirs]


def test_both_decisions_are_in_the_audit_log(api: Api, token: Token) -> None:
    _, _, upheld, _ = objected(api, token)
    _, _, dismissed, _ = objected(api, token)
    decide(api, token("staff-a"), upheld, "uphold")
    decide(api, token("staff-a"), dismissed, "dismiss")
    log = api.get(f"/communities/{A}/audit?limit=50", token("staff-a")).json()["entries"]
    seen = {(e["action"], e["target"]) for e in log}
    assert ("objection.uphold", f"objection:{upheld}") in seen
    assert ("objection.dismiss", f"objection:{dismissed}") in seen
    assert ("objection.file", f"objection:{dismissed}") in seen


# Concurrency -----------------------------------------------------------------------------


async def test_two_decisions_at_once_one_wins(db: Database, db_url: str) -> None:
    from tests.api.test_awards import neighbourhood

    place = await neighbourhood(db, "quarrel", 1000, 2)
    staff = place["principals"]
    awarded, objector = place["residents"]
    from mall.earning import awards

    made = await awards.create_award(
        db, staff[0], "quarrel", "r", [awarded], "帮扶", idempotency_key="quarrel-1"
    )
    async with db.connection() as conn:
        entry = await conn.fetchval("SELECT id FROM mall_award_line WHERE award = ?", made.id)
        community = await conn.fetchval("SELECT id FROM mall_community WHERE slug = 'quarrel'")
    me = support.resident(objector, community, "quarrel")
    filed = await objections.file(db, me, entry, "重复")

    async def work(db: Database, i: int) -> objections.Decided:
        decision = "uphold" if i % 2 == 0 else "dismiss"
        return await objections.decide(db, staff[i % 2], filed.id, decision, "处理")

    results = support.race(db_url, 6, work)
    won = [r for r in results if isinstance(r, objections.Decided)]
    lost = [r for r in results if not isinstance(r, objections.Decided)]
    assert len(won) == 1, results
    assert all(isinstance(r, objections.AlreadyDecided) for r in lost), results
    async with db.connection() as conn:
        status = await conn.fetchval("SELECT status FROM mall_award WHERE id = ?", made.id)
        journals = await conn.fetchval(
            "SELECT COUNT(*) FROM ledger_journal WHERE kind = 'reversal'"
        )
    assert status == ("reversed" if won[0].status == "upheld" else "posted")
    assert journals == (1 if won[0].status == "upheld" else 0)
