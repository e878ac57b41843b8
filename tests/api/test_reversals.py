"""Reversing an award through the API (API.md v1.1 Trust, ``POST /awards/{id}/reverse``): 201
``{id, status: "reversed"}``, the passbook line with the reason, the award listed as reversed, and
every refusal leaving balances, journals and the award as they were."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from httpx import Response

import ledger
from mall.db import Database
from mall.org import points
from tests.api.helpers import Api, problem
from tests.api.test_awards import count, give, key, wallet
from tests.api.world import BIG_RULE, A, World

Token = Callable[[str], str]


def reverse(
    api: Api,
    token: str,
    award_id: int,
    reason: str = "重复发放",
    headers: dict[str, str] | None = None,
) -> Response:
    return api.post(
        f"/awards/{award_id}/reverse", token, json={"reason": reason}, headers=headers or key()
    )


def posted(api: Api, token: str, residents: list[int]) -> int:
    made = give(api, token, residents)
    assert made.status_code == 201 and made.json()["status"] == "posted", made.text
    return int(made.json()["id"])


async def budget(db: Database, slug: str) -> int:
    async with db.connection() as conn:
        book = await conn.fetchval("SELECT book FROM mall_community WHERE slug = ?", slug)
        return (await ledger.get_balance(conn, book, points.BUDGET)).balance


def state(api: Api, world: World, award_id: int, token: str) -> tuple[Any, ...]:
    """What a refused reversal must leave untouched."""
    return (
        api.run(wallet, A, world.target),
        api.run(wallet, A, world.residents["res-a"]),
        api.run(budget, A),
        api.run(count, "ledger_journal"),
        api.get(f"/awards/{award_id}", token).json()["status"],
    )


def test_staff_reverse_a_posted_award_and_the_passbook_says_why(
    api: Api, world: World, token: Token
) -> None:
    staff = token("staff-a2")
    people = [world.target, world.residents["res-a"]]
    award_id = posted(api, token("staff-a"), people)
    before = [api.run(wallet, A, r) for r in people]
    left = api.run(budget, A)
    done = reverse(api, staff, award_id, "误发给了搬走的居民")
    assert done.status_code == 201, done.text
    assert done.json() == {"id": award_id, "status": "reversed"}
    assert [api.run(wallet, A, r) for r in people] == [b - 5 for b in before]
    assert api.run(budget, A) == left + 10
    shown = api.get(f"/awards/{award_id}", staff).json()
    assert shown["status"] == "reversed"
    assert shown["reverser"] == "staff-a2" and shown["reversal_reason"] == "误发给了搬走的居民"
    assert shown["reversed_at"] is not None
    listed = api.get(f"/communities/{A}/awards?status=reversed", staff).json()["awards"]
    assert award_id in [a["id"] for a in listed]
    line = api.get(f"/residents/{world.target}/passbook?limit=1", staff).json()["entries"][0]
    assert (line["kind"], line["memo"], line["amount"]) == (
        "reversal",
        "撤销：误发给了搬走的居民",
        -5,
    )
    audit = api.get(f"/communities/{A}/audit", staff).json()["entries"][0]
    assert (audit["actor"], audit["action"], audit["target"]) == (
        "staff-a2",
        "award.reverse",
        f"award:{award_id}",
    )
    assert audit["detail"]["reason"] == "误发给了搬走的居民"


def test_the_same_key_replays_and_a_second_reversal_is_already_reversed(
    api: Api, world: World, token: Token
) -> None:
    staff = token("staff-a2")
    award_id = posted(api, token("staff-a"), [world.target])
    headers = key()
    first = reverse(api, staff, award_id, headers=headers)
    assert first.status_code == 201
    after = state(api, world, award_id, staff)
    again = reverse(api, token("staff-a2"), award_id, headers=headers)
    assert again.status_code == 201 and again.json() == first.json()
    problem(
        reverse(api, staff, award_id, "别的理由", headers=headers), 422, "idempotency_key_reused"
    )
    problem(reverse(api, staff, award_id), 409, "already_reversed")
    problem(reverse(api, token("staff-a"), award_id, headers=headers), 409, "already_reversed")
    assert state(api, world, award_id, staff) == after


def test_a_resident_without_the_points_available_stops_the_whole_reversal(
    api: Api, world: World, token: Token
) -> None:
    staff = token("staff-a2")
    award_id = posted(api, token("staff-a"), [world.target, world.residents["res-a"]])

    async def set_aside_all_but(db: Database, resident: int, keep: int) -> None:
        async with db.transaction() as conn:
            book = await conn.fetchval("SELECT book FROM mall_community WHERE slug = ?", A)
            have = (await ledger.get_balance(conn, book, points.wallet(resident))).balance
            await ledger.place_hold(
                conn,
                book,
                points.wallet(resident),
                have - keep,
                expires_at=datetime.now(UTC) + timedelta(days=1),
                idempotency_key=f"reserve-{resident}-{award_id}",
            )

    api.run(set_aside_all_but, world.residents["res-a"], 4)  # 4 available, the award gave 5
    before = state(api, world, award_id, staff)
    refused = problem(reverse(api, staff, award_id), 409, "insufficient_points")
    assert "李海" in refused["detail"] or "李海" in refused["title"]
    assert state(api, world, award_id, staff) == before == (*before[:4], "posted")


def test_nobody_reverses_an_award_that_includes_their_own_resident_record(
    api: Api, world: World, token: Token
) -> None:
    async def link(db: Database, user: int, resident: int | None) -> None:
        async with db.transaction() as conn:
            await conn.execute("UPDATE mall_user SET resident = ? WHERE id = ?", resident, user)

    staff = token("staff-a2")
    award_id = posted(api, token("staff-a"), [world.target, world.residents["res-a"]])
    api.run(link, world.users["staff-a2"], world.residents["res-a"])
    try:
        before = state(api, world, award_id, staff)
        problem(reverse(api, staff, award_id), 403, "self_dealing")
        assert state(api, world, award_id, staff) == before
    finally:
        api.run(link, world.users["staff-a2"], None)


def test_only_a_posted_award_is_reversed(api: Api, world: World, token: Token) -> None:
    """A waiting award has moved no points: ``validation_error`` (400) says to reject it instead,
    as v1.1 answers an act on a record not yet in the state it needs (a rating before the
    submission is resolved); no 409 code of the contract fits."""
    staff = token("staff-a2")
    waiting = give(api, token("staff-a"), [world.target], rule=BIG_RULE).json()["id"]
    rejected = give(api, token("staff-a"), [world.target], rule=BIG_RULE).json()["id"]
    api.post(f"/awards/{rejected}/reject", staff, json={"reason": "不符合"})
    for award_id, status in ((waiting, "pending_approval"), (rejected, "rejected")):
        before = state(api, world, award_id, staff)
        problem(reverse(api, staff, award_id), 400, "validation_error")
        assert state(api, world, award_id, staff) == before == (*before[:4], status)


def test_other_communities_and_other_roles_cannot_reverse(
    api: Api, world: World, token: Token
) -> None:
    staff = token("staff-a2")
    award_id = posted(api, token("staff-a"), [world.target])
    before = state(api, world, award_id, staff)
    problem(reverse(api, token("staff-b"), award_id), 404, "not_found")
    problem(reverse(api, token("vol-a"), award_id), 403, "forbidden")
    problem(reverse(api, token("res-a"), award_id), 403, "forbidden")
    problem(reverse(api, "", award_id), 401, "unauthenticated")
    problem(reverse(api, staff, 999_999), 404, "not_found")
    assert state(api, world, award_id, staff) == before
    # the street administrator may
    assert reverse(api, token("admin"), award_id).status_code == 201


def test_a_reversal_without_a_reason_or_a_key_is_refused(
    api: Api, world: World, token: Token
) -> None:
    staff = token("staff-a2")
    award_id = posted(api, token("staff-a"), [world.target])
    before = state(api, world, award_id, staff)
    problem(reverse(api, staff, award_id, "  "), 400, "validation_error")
    problem(reverse(api, staff, award_id, ""), 400, "validation_error")
    problem(reverse(api, staff, award_id, "x" * 191), 400, "validation_error")
    no_key = api.post(f"/awards/{award_id}/reverse", staff, json={"reason": "重复"})
    problem(no_key, 400, "validation_error")
    problem(
        api.post(f"/awards/{award_id}/reverse", staff, json={}, headers=key()),
        400,
        "validation_error",
    )
    assert state(api, world, award_id, staff) == before
