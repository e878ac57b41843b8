"""The community's daily approval threshold and settlement as an award, through the services:
what one staff member issues to one resident in a China-time day, across awards, activity
settlements and submission rewards together; splitting never gets round it, not even at the same
moment on real concurrent connections; the policy's most an activity may pay a head; nobody
settles or rewards for themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

import ledger
from mall.access import Principal, Staff
from mall.db import Database
from mall.earning import activities, awards, checkin, rules, submissions
from mall.errors import Forbidden, Invalid, NotFound, SelfDealing
from mall.org import communities, points, policy
from mall.people import residents, users
from tests import support
from tests.support import race

ADMIN = support.admin("t")
SLUG = "trust"


@dataclass(frozen=True)
class Place:
    maker: Staff
    checker: Staff
    people: list[int]


async def place(db: Database, n: int = 3, budget: int = 5000) -> Place:
    """A community with two staff members, ``n`` residents, ``budget`` and rules ``r30`` (30
    points, no threshold of its own) and ``big`` (150 points)."""
    made = await communities.create_community(db, ADMIN, SLUG, "信任社区")
    staff = []
    for name in ("maker", "checker"):
        user = await users.create_user_unchecked(db, name, "correct horse battery", "staff", SLUG)
        staff.append(support.staff(user.id, made.id, SLUG, name))
    people = [
        (await residents.create_resident(db, ADMIN, SLUG, f"居民{i}", None, None)).id
        for i in range(n)
    ]
    await communities.grant_budget(db, ADMIN, SLUG, budget, "预算", idempotency_key="g")
    await rules.create_rule(db, ADMIN, SLUG, "r30", "帮扶", "timely_help", 30)
    await rules.create_rule(db, ADMIN, SLUG, "big", "调解", "settling_disputes", 150)
    return Place(staff[0], staff[1], people)


async def wallet(db: Database, resident_id: int) -> int:
    async with db.connection() as conn:
        book = await conn.fetchval("SELECT book FROM mall_community WHERE slug = ?", SLUG)
        return (await ledger.get_balance(conn, book, points.wallet(resident_id))).balance


async def give(db: Database, p: Principal, rule: str, ids: list[int], key: str) -> str:
    return (await awards.create_award(db, p, SLUG, rule, ids, "帮忙", idempotency_key=key)).status


async def activity(db: Database, p: Staff, each: int, attendees: list[int]) -> int:
    """An activity that started ten minutes ago paying ``each``, with ``attendees`` checked in."""
    starts = datetime.now(UTC) - timedelta(minutes=10)
    made = await activities.create_activity(
        db,
        p,
        SLUG,
        title="清理楼道",
        path="adding_to_good",
        points=each,
        capacity=50,
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        place="3栋",
    )
    async with db.transaction() as conn:
        for r in attendees:
            await conn.execute(
                "INSERT INTO mall_signup (activity, resident, status, created_at, checked_in_at, "
                "checked_in_by) VALUES (?, ?, 'confirmed', ?, ?, ?)",
                made.id,
                r,
                starts,
                starts,
                p.user_id,
            )
    return made.id


async def own_record(db: Database, p: Staff, resident_id: int) -> None:
    """The staff member's own resident record (``POST /users`` ``resident_id``)."""
    async with db.transaction() as conn:
        await conn.execute("UPDATE mall_user SET resident = ? WHERE id = ?", resident_id, p.user_id)


async def test_splitting_a_large_award_into_small_ones_never_gets_round_the_threshold(
    db: Database,
) -> None:
    p = await place(db)
    one = p.people[0]
    statuses = [await give(db, p.maker, "r30", [one], f"k{i}") for i in range(5)]
    # 30 + 30 + 30 = 90 posted; a fourth would make 120 > 100, and so would every one after it
    assert statuses == ["posted"] * 3 + ["pending_approval"] * 2
    assert await wallet(db, one) == 90
    # another staff member's own awards count on their own day
    assert await give(db, p.checker, "r30", [one], "c1") == "posted"
    assert await wallet(db, one) == 120


async def test_one_award_above_the_threshold_waits_for_a_different_staff_member(
    db: Database,
) -> None:
    p = await place(db)
    made = await awards.create_award(
        db, p.maker, SLUG, "big", [p.people[0]], "调解成功", idempotency_key="b1"
    )
    assert made.status == "pending_approval" and await wallet(db, p.people[0]) == 0
    with pytest.raises(Forbidden):
        await awards.approve(db, p.maker, made.id)
    assert (await awards.approve(db, p.checker, made.id)).status == "posted"
    assert await wallet(db, p.people[0]) == 150


async def test_the_threshold_is_per_resident(db: Database) -> None:
    p = await place(db)
    for i in range(3):
        assert await give(db, p.maker, "r30", [p.people[0]], f"a{i}") == "posted"
    assert await give(db, p.maker, "r30", [p.people[1]], "b0") == "posted"
    # one resident over it holds the whole award
    assert await give(db, p.maker, "r30", [p.people[0], p.people[2]], "ab") == "pending_approval"


async def test_the_policy_sets_the_threshold_and_zero_means_every_award_waits(
    db: Database,
) -> None:
    p = await place(db)
    await policy.set_policy(db, ADMIN, SLUG, approval_threshold=0)
    assert await give(db, p.maker, "r30", [p.people[0]], "z") == "pending_approval"
    await policy.set_policy(db, ADMIN, SLUG, approval_threshold=1000)
    assert await give(db, p.maker, "big", [p.people[1]], "y") == "posted"


async def test_yesterdays_awards_do_not_count_today(db: Database) -> None:
    p = await place(db)
    for i in range(3):
        await give(db, p.maker, "r30", [p.people[0]], f"y{i}")
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE mall_award_line SET created_at = ? WHERE resident = ?",
            datetime.now(UTC) - timedelta(days=1, hours=1),
            p.people[0],
        )
    assert await give(db, p.maker, "r30", [p.people[0]], "t0") == "posted"


async def test_awards_settlements_and_submission_rewards_count_together(db: Database) -> None:
    p = await place(db)
    one = p.people[0]
    assert await give(db, p.maker, "r30", [one], "a") == "posted"  # 30
    activity_id = await activity(db, p.maker, 50, [one])
    settled = await checkin.settle(db, p.maker, activity_id)  # 80
    assert settled.status == "posted" and settled.award_id is not None
    assert (settled.awarded, settled.points, settled.journal_id is not None) == (1, 50, True)
    # the resident files a micro-wish; rewarding it by r30 would make 110
    resident = support.resident(one, p.maker.community_id, SLUG)
    filed = await submissions.file(db, resident, "proposal", "装路灯", "楼道太黑")
    decided = await submissions.decide(db, p.maker, filed.id, "resolve", rule="r30")
    assert decided.award_status == "pending_approval"
    assert await wallet(db, one) == 80
    assert decided.award is not None
    await awards.approve(db, p.checker, decided.award)
    assert await wallet(db, one) == 110


async def test_a_settlement_over_the_threshold_waits_and_approval_posts_it(db: Database) -> None:
    p = await place(db)
    activity_id = await activity(db, p.maker, 120, p.people[:2])
    budget_before = (await communities.budget(db, ADMIN, SLUG)).balance
    settled = await checkin.settle(db, p.maker, activity_id)
    assert (settled.status, settled.awarded, settled.points) == ("pending_approval", 2, 240)
    assert settled.journal_id is None and settled.award_id is not None
    assert [await wallet(db, r) for r in p.people[:2]] == [0, 0]
    assert (await communities.budget(db, ADMIN, SLUG)).balance == budget_before
    # settling again answers the same and writes nothing more
    again = await checkin.settle(db, p.checker, activity_id)
    assert (again.award_id, again.status) == (settled.award_id, "pending_approval")
    with pytest.raises(Forbidden):
        await awards.approve(db, p.maker, settled.award_id)
    await awards.approve(db, p.checker, settled.award_id)
    assert [await wallet(db, r) for r in p.people[:2]] == [120, 120]
    shown = await checkin.settle(db, p.maker, activity_id)
    assert shown.status == "posted" and shown.journal_id is not None
    found = await activities.activity_for_staff(db, p.maker, activity_id)
    assert found.status == "settled" and found.journal_id == shown.journal_id


async def test_an_activity_above_the_policys_most_a_head_is_refused(db: Database) -> None:
    p = await place(db)
    with pytest.raises(Invalid):
        await activity(db, p.maker, 201, [])
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT COUNT(*) FROM mall_activity") == 0
    activity_id = await activity(db, p.maker, 150, [p.people[0]])
    await policy.set_policy(db, ADMIN, SLUG, activity_max_points=100)
    with pytest.raises(Invalid):
        await checkin.settle(db, p.maker, activity_id)
    found = await activities.activity_for_staff(db, p.maker, activity_id)
    assert found.status == "open" and await wallet(db, p.people[0]) == 0
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT COUNT(*) FROM mall_award") == 0


async def test_nobody_settles_an_activity_they_attended(db: Database) -> None:
    p = await place(db)
    await own_record(db, p.maker, p.people[0])
    activity_id = await activity(db, p.maker, 10, p.people[:2])
    with pytest.raises(SelfDealing):
        await checkin.settle(db, p.maker, activity_id)
    found = await activities.activity_for_staff(db, p.maker, activity_id)
    assert found.status == "open" and await wallet(db, p.people[1]) == 0
    assert (await checkin.settle(db, p.checker, activity_id)).status == "posted"
    assert await wallet(db, p.people[0]) == 10


async def test_nobody_rewards_their_own_submission(db: Database) -> None:
    p = await place(db)
    await own_record(db, p.maker, p.people[0])
    resident = support.resident(p.people[0], p.maker.community_id, SLUG)
    filed = await submissions.file(db, resident, "proposal", "装路灯", "楼道太黑")
    with pytest.raises(SelfDealing):
        await submissions.decide(db, p.maker, filed.id, "resolve", rule="r30")
    assert (await submissions.get(db, p.maker, filed.id)).status == "open"
    assert await wallet(db, p.people[0]) == 0


async def test_a_settlements_rule_is_neither_listed_nor_usable_by_hand(db: Database) -> None:
    p = await place(db)
    activity_id = await activity(db, p.maker, 10, [p.people[0]])
    await checkin.settle(db, p.maker, activity_id)
    listed = [r.code for r in await rules.list_rules(db, p.maker, SLUG)]
    assert listed and not any(code.startswith("activity:") for code in listed)
    with pytest.raises(NotFound):
        await give(db, p.maker, "activity:adding_to_good", [p.people[1]], "hand")
    assert await wallet(db, p.people[1]) == 0


async def test_small_awards_at_the_same_moment_never_pass_the_threshold(
    db: Database, db_url: str
) -> None:
    p = await place(db, n=1)
    await rules.create_rule(db, ADMIN, SLUG, "r10", "小帮扶", "timely_help", 10)
    one = p.people[0]

    async def work(db: Database, i: int) -> str:
        # two rules, so the rule's own lock does not serialise them: only the issuer's does
        made = await awards.create_award(
            db, p.maker, SLUG, "r30" if i % 2 else "r10", [one], "同时", idempotency_key=f"s{i}"
        )
        return made.status

    results = race(db_url, 12, work)
    assert all(isinstance(r, str) for r in results), results
    assert await wallet(db, one) <= 100
    async with db.connection() as conn:
        posted = await conn.fetchval(
            "SELECT COALESCE(SUM(total), 0) FROM mall_award WHERE status = 'posted'"
        )
    assert posted == await wallet(db, one)
