"""Rules and awards through the API: the budget (also under twenty concurrent requests to a live
server), caps, four-eyes approval, nobody awarding themselves, idempotency and scope."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx import Response

import ledger
from mall.db import Database, open_database
from mall.earning import awards, rules
from mall.org import communities, points
from mall.people import auth, residents, users
from tests import support
from tests.api.helpers import Api, problem
from tests.api.world import ADMIN, BIG_RULE, PASSWORD, RULE, A, B, World
from tests.support import race, serving

Token = Callable[[str], str]
KEYS = iter(range(1, 10**6))


def key() -> dict[str, str]:
    return {"Idempotency-Key": f"test-{next(KEYS)}"}


def give(
    api: Api,
    staff: str,
    residents: list[int],
    rule: str = RULE,
    memo: str = "参加居民议事会",
    slug: str = A,
    headers: dict[str, str] | None = None,
) -> Response:
    body = {"community": slug, "rule": rule, "resident_ids": residents, "memo": memo}
    return api.post("/awards", staff, json=body, headers=headers or key())


async def wallet(db: Database, slug: str, resident_id: int) -> int:
    async with db.connection() as conn:
        book = await conn.fetchval("SELECT book FROM mall_community WHERE slug = ?", slug)
        return (await ledger.get_balance(conn, book, points.wallet(resident_id))).balance


async def count(db: Database, table: str) -> int:
    async with db.connection() as conn:
        return int(await conn.fetchval(f"SELECT COUNT(*) FROM {table}"))


async def neighbourhood(
    db: Database, slug: str, budget: int, n: int = 3, rule: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A community of its own: two staff members (with tokens), ``n`` residents, a budget and a
    rule ``r`` of 10 points with the given caps or threshold."""
    community = await communities.create_community(db, ADMIN, slug, f"{slug}社区")
    staff, principals = [], []
    for i in (1, 2):
        user = await users.create_user_unchecked(db, f"{slug}-s{i}", PASSWORD, "staff", slug)
        async with db.transaction() as conn:
            staff.append(
                await auth.create_session(conn, "api", user_id=user.id, ttl=auth.API_TOKEN)
            )
        principals.append(support.staff(user.id, community.id, slug, f"{slug}-s{i}"))

    people = [
        (await residents.create_resident(db, ADMIN, slug, f"居民{i}", None, None)).id
        for i in range(n)
    ]
    if budget:
        await communities.grant_budget(db, ADMIN, slug, budget, "", idempotency_key=f"{slug}:g")
    await rules.create_rule(db, ADMIN, slug, "r", "帮扶困难户", "timely_help", 10, **(rule or {}))
    return {"staff": staff, "principals": principals, "residents": people, "slug": slug}


# Rules ---------------------------------------------------------------------------------


def test_staff_create_a_rule_and_see_it_listed(api: Api, token: Token) -> None:
    body = {
        "code": "wish-done",
        "name": "完成微心愿",
        "path": "timely_help",
        "points": 20,
        "daily_cap": 40,
        "monthly_cap": 100,
        "approval_threshold": 200,
    }
    made = api.post(f"/communities/{A}/rules", token("staff-a"), json=body)
    assert made.status_code == 201
    assert made.json() == {**body, "id": made.json()["id"], "active": True}
    listed = api.get(f"/communities/{A}/rules", token("staff-a")).json()["rules"]
    assert "wish-done" in [r["code"] for r in listed]
    again = api.post(f"/communities/{A}/rules", token("staff-a"), json=body)
    problem(again, 409, "already_exists")


@pytest.mark.parametrize(
    "change",
    [
        {"path": "charity"},
        {"points": 0},
        {"points": -5},
        {"daily_cap": 0},
        {"monthly_cap": -1},
        {"approval_threshold": -1},
        {"code": "has space"},
        {"name": ""},
    ],
)
def test_a_bad_rule_is_refused_and_nothing_is_created(
    api: Api, token: Token, change: dict[str, Any]
) -> None:
    body = {"code": "bad", "name": "坏规则", "path": "timely_help", "points": 5} | change
    problem(
        api.post(f"/communities/{A}/rules", token("staff-a"), json=body), 400, "validation_error"
    )
    codes = [
        r["code"] for r in api.get(f"/communities/{A}/rules", token("staff-a")).json()["rules"]
    ]
    assert "bad" not in codes


# Awards --------------------------------------------------------------------------------


def test_an_award_to_many_residents_is_one_journal_with_the_memo_and_path_in_each_passbook(
    api: Api, world: World, token: Token
) -> None:
    people = [world.target, world.residents["res-a"]]
    before = api.get(f"/communities/{A}/budget", token("staff-a")).json()
    made = give(api, token("staff-a"), people, memo="参加三月议事会")
    assert made.status_code == 201 and made.json()["status"] == "posted"
    after = api.get(f"/communities/{A}/budget", token("staff-a")).json()
    assert after["balance"] == before["balance"] - 10 and after["issued"] == before["issued"] + 10
    shown = api.get(f"/awards/{made.json()['id']}", token("staff-a")).json()
    assert shown["total"] == 10 and {r["id"] for r in shown["residents"]} == set(people)
    entry = api.get("/me/passbook", token("res-a")).json()["entries"][0]
    assert entry["memo"] == "参加三月议事会" and entry["path"] == "adding_to_good"
    assert entry["kind"] == "award" and entry["amount"] == 5
    target = api.get(f"/residents/{world.target}/passbook", token("staff-a")).json()["entries"][0]
    assert target["journal_id"] == entry["journal_id"] == shown["journal_id"]


def test_an_award_without_a_reason_or_residents_is_refused(
    api: Api, world: World, token: Token
) -> None:
    problem(give(api, token("staff-a"), [world.target], memo="  "), 400, "validation_error")
    problem(give(api, token("staff-a"), []), 400, "validation_error")
    problem(give(api, token("staff-a"), [world.target, world.target]), 400, "validation_error")
    problem(give(api, token("staff-a"), [world.target], rule="nope"), 404, "not_found")


def test_an_award_without_an_idempotency_key_is_refused(
    api: Api, world: World, token: Token
) -> None:
    body = {"community": A, "rule": RULE, "resident_ids": [world.target], "memo": "x"}
    problem(api.post("/awards", token("staff-a"), json=body), 400, "validation_error")


def test_same_key_and_body_replays_the_first_answer_and_posts_nothing_more(
    api: Api, world: World, token: Token
) -> None:
    headers, staff = key(), token("staff-a")
    first = give(api, staff, [world.target], headers=headers)
    journals = api.run(count, "ledger_journal")
    again = give(api, token("staff-a"), [world.target], headers=headers)
    assert again.status_code == 201 and again.json() == first.json()
    assert api.run(count, "ledger_journal") == journals
    other = give(api, staff, [world.target], memo="另一个理由", headers=headers)
    problem(other, 422, "idempotency_key_reused")
    assert api.run(count, "ledger_journal") == journals


def test_a_different_staff_member_may_use_the_same_key(
    api: Api, world: World, token: Token
) -> None:
    headers = key()
    first = give(api, token("staff-a"), [world.target], headers=headers)
    second = give(api, token("staff-a2"), [world.target], headers=headers)
    assert second.status_code == 201 and second.json()["id"] != first.json()["id"]


def test_nobody_awards_points_to_themselves(api: Api, world: World, token: Token) -> None:
    async def link(db: Database, user: int, resident: int | None) -> None:
        async with db.transaction() as conn:
            await conn.execute("UPDATE mall_user SET resident = ? WHERE id = ?", resident, user)

    api.run(link, world.users["staff-a2"], world.residents["res-a"])
    try:
        before = api.run(wallet, A, world.residents["res-a"])
        refused = give(api, token("staff-a2"), [world.target, world.residents["res-a"]])
        assert "自己" in problem(refused, 403, "self_dealing")["title"]
        assert api.run(wallet, A, world.residents["res-a"]) == before
        # nor approves an award that includes them
        pending = give(api, token("staff-a"), [world.residents["res-a"]], rule=BIG_RULE)
        assert pending.json()["status"] == "pending_approval"
        approve = api.post(f"/awards/{pending.json()['id']}/approve", token("staff-a2"))
        problem(approve, 403, "self_dealing")
        assert api.run(wallet, A, world.residents["res-a"]) == before
    finally:
        api.run(link, world.users["staff-a2"], None)


def test_above_the_threshold_an_award_waits_for_a_second_staff_member(
    api: Api, world: World, token: Token
) -> None:
    before = api.run(wallet, A, world.target)
    made = give(api, token("staff-a"), [world.target], rule=BIG_RULE, memo="调解漏水纠纷")
    assert made.status_code == 201 and made.json()["status"] == "pending_approval"
    award_id = made.json()["id"]
    assert api.run(wallet, A, world.target) == before
    waiting = api.get(f"/communities/{A}/awards?status=pending_approval", token("staff-a2"))
    assert award_id in [a["id"] for a in waiting.json()["awards"]]
    by_maker = api.post(f"/awards/{award_id}/approve", token("staff-a"))
    assert "另一位" in problem(by_maker, 403, "forbidden")["title"]
    assert api.run(wallet, A, world.target) == before
    approved = api.post(f"/awards/{award_id}/approve", token("staff-a2"))
    assert approved.status_code == 200 and approved.json() == {"id": award_id, "status": "posted"}
    assert api.run(wallet, A, world.target) == before + 50
    problem(api.post(f"/awards/{award_id}/approve", token("admin")), 409, "already_exists")
    assert api.run(wallet, A, world.target) == before + 50
    shown = api.get(f"/awards/{award_id}", token("staff-a")).json()
    assert (shown["maker"], shown["decider"], shown["status"]) == ("staff-a", "staff-a2", "posted")


def test_a_rejected_award_posts_nothing_and_cannot_be_approved(
    api: Api, world: World, token: Token
) -> None:
    before = api.run(wallet, A, world.target)
    award_id = give(api, token("staff-a"), [world.target], rule=BIG_RULE).json()["id"]
    problem(
        api.post(f"/awards/{award_id}/reject", token("staff-a2"), json={"reason": ""}),
        400,
        "validation_error",
    )
    rejected = api.post(
        f"/awards/{award_id}/reject", token("staff-a2"), json={"reason": "重复申报"}
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    problem(api.post(f"/awards/{award_id}/approve", token("admin")), 409, "already_exists")
    assert api.run(wallet, A, world.target) == before
    kept = api.get(f"/awards/{award_id}", token("staff-a")).json()
    assert (kept["status"], kept["rejection_reason"]) == ("rejected", "重复申报")


def test_approval_checks_the_budget_again(api: Api) -> None:
    place = api.run(neighbourhood, "pine", 30, 3, {"approval_threshold": 15})
    maker, checker = place["staff"]
    first, second = place["residents"][:2]
    waiting = give(api, maker, [first, second], rule="r", slug="pine")
    assert waiting.json()["status"] == "pending_approval"
    give_now = give(api, maker, [place["residents"][2]], rule="r", slug="pine")
    assert give_now.json()["status"] == "posted"  # 10 of 30 used; 20 left
    also = give(api, maker, [first], rule="r", slug="pine")
    assert also.json()["status"] == "posted"  # 10 left: the waiting award (20) no longer fits
    refused = api.post(f"/awards/{waiting.json()['id']}/approve", checker)
    body = problem(refused, 409, "budget_exhausted")
    assert "10" in body["title"] and "20" in body["title"]
    assert api.run(wallet, "pine", second) == 0


def test_an_award_the_budget_does_not_cover_is_budget_exhausted_and_changes_nothing(
    api: Api,
) -> None:
    place = api.run(neighbourhood, "elm", 25)
    journals = api.run(count, "ledger_journal")
    awards_before = api.run(count, "mall_award")
    refused = give(api, place["staff"][0], place["residents"], rule="r", slug="elm")
    problem(refused, 409, "budget_exhausted")  # 30 asked, 25 left
    assert api.run(count, "ledger_journal") == journals
    assert api.run(count, "mall_award") == awards_before
    assert all(api.run(wallet, "elm", r) == 0 for r in place["residents"])
    fits = give(api, place["staff"][0], place["residents"][:2], rule="r", slug="elm")
    assert fits.status_code == 201


def test_without_any_budget_an_award_is_budget_exhausted_not_insufficient_points(
    api: Api,
) -> None:
    place = api.run(neighbourhood, "ash", 0, 1)
    refused = give(api, place["staff"][0], place["residents"], rule="r", slug="ash")
    problem(refused, 409, "budget_exhausted")


def test_the_daily_cap_counts_posted_and_pending_awards(api: Api) -> None:
    place = api.run(neighbourhood, "fir", 1000, 2, {"daily_cap": 25, "approval_threshold": 15})
    staff, (one, two) = place["staff"][0], place["residents"]
    assert give(api, staff, [one], rule="r", slug="fir").json()["status"] == "posted"
    assert give(api, staff, [one, two], rule="r", slug="fir").json()["status"] == "pending_approval"
    refused = give(api, staff, [two, one], rule="r", slug="fir")
    body = problem(refused, 409, "cap_exceeded")
    assert "居民0" in body["title"] and "25" in body["title"]
    assert api.run(wallet, "fir", two) == 0
    assert give(api, staff, [two], rule="r", slug="fir").status_code == 201


def test_the_monthly_cap_is_a_limit_of_its_own(api: Api) -> None:
    place = api.run(neighbourhood, "oak", 1000, 1, {"monthly_cap": 20})
    staff, (one,) = place["staff"][0], place["residents"]
    assert give(api, staff, [one], rule="r", slug="oak").status_code == 201
    assert give(api, staff, [one], rule="r", slug="oak").status_code == 201
    body = problem(give(api, staff, [one], rule="r", slug="oak"), 409, "cap_exceeded")
    assert "居民0" in body["title"] and "20" in body["title"]
    assert api.run(wallet, "oak", one) == 20


def test_a_rejected_award_no_longer_counts_towards_the_cap(api: Api) -> None:
    place = api.run(neighbourhood, "yew", 1000, 1, {"daily_cap": 10, "approval_threshold": 5})
    maker, checker = place["staff"]
    one = place["residents"][0]
    waiting = give(api, maker, [one], rule="r", slug="yew").json()["id"]
    problem(give(api, maker, [one], rule="r", slug="yew"), 409, "cap_exceeded")
    api.post(f"/awards/{waiting}/reject", checker, json={"reason": "记错人了"})
    assert give(api, maker, [one], rule="r", slug="yew").status_code == 201


# The community's daily threshold ------------------------------------------------------


def test_splitting_a_large_award_into_small_ones_never_gets_round_the_daily_threshold(
    api: Api,
) -> None:
    place = api.run(neighbourhood, "larch", 1000, 2)
    maker, checker = place["staff"]
    one, two = place["residents"]
    # ten awards of 10 to one resident reach the default threshold of 100; the 11th passes it
    statuses = [give(api, maker, [one], rule="r", slug="larch").json()["status"] for _ in range(11)]
    assert statuses == ["posted"] * 10 + ["pending_approval"]
    assert api.run(wallet, "larch", one) == 100
    # and so does every one after it, also when another resident is in the same award
    both = give(api, maker, [two, one], rule="r", slug="larch").json()
    assert both["status"] == "pending_approval" and api.run(wallet, "larch", two) == 0
    # a second staff member approves: the points arrive
    api.post(f"/awards/{both['id']}/approve", checker)
    assert (api.run(wallet, "larch", one), api.run(wallet, "larch", two)) == (110, 10)
    # the threshold is the policy's
    api.put("/communities/larch/policy", api_admin(api), json={"approval_threshold": 1000})
    assert give(api, maker, [one], rule="r", slug="larch").json()["status"] == "posted"


def api_admin(api: Api) -> str:
    async def make(db: Database) -> str:
        user = await users.create_user_unchecked(db, "larch-admin", PASSWORD, "admin", None)
        async with db.transaction() as conn:
            return await auth.create_session(conn, "api", user_id=user.id, ttl=auth.API_TOKEN)

    return api.run(make)


# Scope ---------------------------------------------------------------------------------


def test_staff_of_another_community_cannot_award_or_approve_a_residents(
    api: Api, world: World, token: Token
) -> None:
    before = api.run(wallet, A, world.target)
    problem(give(api, token("staff-b"), [world.target]), 403, "forbidden")
    problem(give(api, token("staff-b"), [world.target], rule=RULE, slug=B), 404, "not_found")
    pending = give(api, token("staff-a"), [world.target], rule=BIG_RULE).json()["id"]
    problem(api.post(f"/awards/{pending}/approve", token("staff-b")), 404, "not_found")
    problem(api.get(f"/awards/{pending}", token("staff-b")), 404, "not_found")
    problem(api.post(f"/awards/{pending}/approve", token("res-a")), 403, "forbidden")
    problem(give(api, token("res-a"), [world.target]), 403, "forbidden")
    problem(give(api, token("vol-a"), [world.target]), 403, "forbidden")
    assert api.run(wallet, A, world.target) == before


# Concurrency ---------------------------------------------------------------------------


async def test_the_same_key_at_the_same_moment_makes_one_award(db: Database, db_url: str) -> None:
    place = await neighbourhood(db, "race", 1000, 1)
    maker = place["principals"][0]

    async def work(db: Database, i: int) -> awards.AwardOutcome:
        return await awards.create_award(
            db, maker, "race", "r", place["residents"], "同时提交", idempotency_key="race-key"
        )

    results = race(db_url, 8, work)
    assert all(isinstance(r, awards.AwardOutcome) for r in results), results
    assert len({r.id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert await count(db, "mall_award") == 1
    assert await wallet(db, "race", place["residents"][0]) == 10


@pytest.fixture
def live(db_url: str, tmp_path: Path) -> Iterator[str]:
    """``mall serve`` on a free port and a fresh database: real HTTP, real processes."""
    with serving(db_url, tmp_path) as base:
        yield base


def test_twenty_staff_pressing_award_at_once_never_overdraw_the_budget(
    live: str, db_url: str
) -> None:
    n, budget = 20, 70  # 10 points each: exactly 7 fit

    async def setup() -> tuple[list[str], list[int]]:
        db = open_database(db_url)
        try:
            place = await neighbourhood(db, "rush", budget, n)
            tokens = []
            for i in range(n):
                user = await users.create_user_unchecked(
                    db, f"rush-x{i}", PASSWORD, "staff", "rush"
                )
                async with db.transaction() as conn:
                    tokens.append(
                        await auth.create_session(conn, "api", user_id=user.id, ttl=auth.API_TOKEN)
                    )
            return tokens, place["residents"]
        finally:
            await db.close()

    import asyncio

    tokens, people = asyncio.run(setup())
    barrier = threading.Barrier(n)
    answers: list[Any] = [None] * n

    def press(i: int) -> None:
        with httpx.Client(base_url=live, timeout=60) as client:
            client.get("/healthz")
            barrier.wait(timeout=60)
            answers[i] = client.post(
                "/api/v1/awards",
                json={"community": "rush", "rule": "r", "resident_ids": [people[i]], "memo": "抢"},
                headers={"Authorization": f"Bearer {tokens[i]}", "Idempotency-Key": f"k{i}"},
            )

    threads = [threading.Thread(target=press, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    statuses = sorted(
        (a.status_code, a.json().get("code", a.json().get("status"))) for a in answers
    )
    assert statuses == [(201, "posted")] * 7 + [(409, "budget_exhausted")] * 13, statuses

    async def check() -> tuple[int, ledger.Report, list[int]]:
        db = open_database(db_url)
        try:
            async with db.connection() as conn:
                book = await conn.fetchval("SELECT book FROM mall_community WHERE slug = 'rush'")
                left = (await ledger.get_balance(conn, book, points.BUDGET)).balance
                report = await ledger.verify_ledger(conn)
                wallets = [
                    (await ledger.get_balance(conn, book, points.wallet(r))).balance for r in people
                ]
            return left, report, wallets
        finally:
            await db.close()

    left, report, wallets = asyncio.run(check())
    assert left == 0 and sum(wallets) == budget and sorted(set(wallets)) == [0, 10]
    assert report.ok, report.problems


MALFORMED = [b"", b"{not json", b"[]", b"null", b"{}", b'{"memo": "\\ud800"}']


@pytest.mark.parametrize("body", MALFORMED, ids=[b.decode(errors="replace") for b in MALFORMED])
@pytest.mark.parametrize(
    ("path", "who"),
    [
        ("/awards", "staff-a"),
        (f"/communities/{A}/rules", "staff-a"),
        ("/me/submissions", "res-a"),
        (f"/communities/{A}/submission-deadlines", "staff-a"),
    ],
)
def test_a_malformed_earning_body_is_a_validation_error(
    api: Api, token: Token, path: str, who: str, body: bytes
) -> None:
    method = "PUT" if path.endswith("deadlines") else "POST"
    headers = {"Content-Type": "application/json", "Idempotency-Key": "malformed"}
    response = api.request(method, path, token(who), content=body, headers=headers)
    problem(response, 400, "validation_error")
