"""The award service without HTTP: caps on the residents' calendar (China time) at day and month
boundaries, caps and the budget under real concurrency, and what an award writes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import TypedDict, Unpack

import pytest

import ledger
from mall.access import Staff
from mall.db import Database
from mall.earning import award_records, awards, rules
from mall.errors import BudgetExhausted, CapExceeded
from mall.org import communities, points
from mall.people import residents, users
from tests import support
from tests.support import race

ADMIN = support.admin("t")
SLUG = "maple"


class Caps(TypedDict, total=False):
    """The limits ``setup`` passes on to rule ``r``."""

    daily_cap: int
    monthly_cap: int
    approval_threshold: int


async def setup(db: Database, budget: int = 1000, **rule: Unpack[Caps]) -> tuple[Staff, list[int]]:
    """A community, a staff member, three residents, a budget and rule ``r`` of 10 points."""
    made = await communities.create_community(db, ADMIN, SLUG, "枫林社区")
    user = await users.create_user_unchecked(db, "maple-staff", "correct horse", "staff", SLUG)
    staff = support.staff(user.id, made.id, SLUG, "maple-staff")
    people = [
        (await residents.create_resident(db, ADMIN, SLUG, name, None, None)).id
        for name in ("王秀英", "李建国", "张桂兰")
    ]
    await communities.grant_budget(db, ADMIN, SLUG, budget, "", idempotency_key="grant")
    await rules.create_rule(db, ADMIN, SLUG, "r", "参加议事会", "adding_to_good", 10, **rule)
    return staff, people


async def move_lines(db: Database, at: datetime) -> None:
    """Pretend every award line so far was written at ``at``."""
    async with db.transaction() as conn:
        await conn.execute("UPDATE mall_award_line SET created_at = ?", at)


async def check(db: Database, resident_id: int, at: datetime) -> None:
    async with db.transaction() as conn:
        community = await conn.fetchval("SELECT id FROM mall_community WHERE slug = ?", SLUG)
        rule = await rules.rule_for_award(conn, community, code="r")
        people = await conn.fetch("SELECT id, name FROM mall_resident WHERE id = ?", resident_id)
        await rules.check_caps(conn, rule, people, 10, at)


def test_a_day_and_a_month_are_those_of_a_clock_in_china() -> None:
    (day_start, day_end), (month_start, month_end) = rules.day_and_month(
        datetime(2026, 2, 28, 16, 30, tzinfo=UTC)  # 1 March, 00:30 in China
    )
    assert day_start == datetime(2026, 2, 28, 16, tzinfo=UTC)
    assert day_end == datetime(2026, 3, 1, 16, tzinfo=UTC)
    assert month_start == datetime(2026, 2, 28, 16, tzinfo=UTC)
    assert month_end == datetime(2026, 3, 31, 16, tzinfo=UTC)


async def test_the_daily_cap_starts_afresh_at_midnight_in_china(db: Database) -> None:
    staff, (one, *_) = await setup(db, daily_cap=10)
    await awards.create_award(db, staff, SLUG, "r", [one], "议事会", idempotency_key="k1")
    await move_lines(db, datetime(2026, 3, 10, 15, 59, tzinfo=UTC))  # 23:59 on 10 March
    with pytest.raises(CapExceeded) as refused:
        await check(db, one, datetime(2026, 3, 10, 15, 59, 30, tzinfo=UTC))
    assert refused.value.params["name"] == "王秀英" and refused.value.params["had"] == 10
    await check(db, one, datetime(2026, 3, 10, 16, 0, tzinfo=UTC))  # 00:00 on 11 March: fine


async def test_the_monthly_cap_starts_afresh_on_the_first_in_china(db: Database) -> None:
    staff, (one, *_) = await setup(db, monthly_cap=20)
    await awards.create_award(db, staff, SLUG, "r", [one], "议事会", idempotency_key="k1")
    await awards.create_award(db, staff, SLUG, "r", [one], "议事会", idempotency_key="k2")
    await move_lines(db, datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    with pytest.raises(CapExceeded):
        await check(db, one, datetime(2026, 3, 31, 15, 59, tzinfo=UTC))  # 23:59 on 31 March
    await check(db, one, datetime(2026, 3, 31, 16, 0, tzinfo=UTC))  # 00:00 on 1 April


async def test_a_posted_award_is_one_journal_with_the_rules_path(db: Database) -> None:
    staff, people = await setup(db)
    made = await awards.create_award(db, staff, SLUG, "r", people, "议事会", idempotency_key="k")
    assert made.status == "posted"
    found = await award_records.get_award(db, staff, made.id)
    assert found.journal_id is not None
    async with db.connection() as conn:
        journal = await ledger.get_journal(conn, found.journal_id)
    assert (journal.kind, journal.path, journal.memo) == ("award", "adding_to_good", "议事会")
    assert sorted((p.account, p.amount) for p in journal.postings) == sorted(
        [(points.BUDGET, -30)] + [(points.wallet(r), 10) for r in people]
    )


async def test_a_refused_award_writes_nothing_and_leaves_its_key_free(db: Database) -> None:
    staff, people = await setup(db, budget=20)
    with pytest.raises(BudgetExhausted):
        await awards.create_award(db, staff, SLUG, "r", people, "议事会", idempotency_key="k")
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT COUNT(*) FROM mall_award") == 0
        assert await conn.fetchval("SELECT COUNT(*) FROM mall_award_line") == 0
    made = await awards.create_award(
        db, staff, SLUG, "r", people[:2], "议事会", idempotency_key="k"
    )
    assert made.status == "posted"


async def test_the_daily_cap_holds_when_awards_race(db: Database, db_url: str) -> None:
    staff, (one, *_) = await setup(db, daily_cap=30)

    async def work(db: Database, i: int) -> object:
        return await awards.create_award(
            db, staff, SLUG, "r", [one], "同时发放", idempotency_key=f"race-{i}"
        )

    results = race(db_url, 8, work)
    assert sum(isinstance(r, awards.AwardOutcome) for r in results) == 3, results
    assert all(isinstance(r, awards.AwardOutcome | CapExceeded) for r in results), results
    async with db.connection() as conn:
        book = await conn.fetchval("SELECT book FROM mall_community WHERE slug = ?", SLUG)
        assert (await ledger.get_balance(conn, book, points.wallet(one))).balance == 30


async def test_the_budget_holds_when_awards_race(db: Database, db_url: str) -> None:
    staff, people = await setup(db, budget=50)

    async def work(db: Database, i: int) -> object:
        return await awards.create_award(
            db, staff, SLUG, "r", [people[i % 3]], "同时发放", idempotency_key=f"race-{i}"
        )

    results = race(db_url, 8, work)
    assert sum(isinstance(r, awards.AwardOutcome) for r in results) == 5, results
    assert all(isinstance(r, awards.AwardOutcome | BudgetExhausted) for r in results), results
    async with db.connection() as conn:
        book = await conn.fetchval("SELECT book FROM mall_community WHERE slug = ?", SLUG)
        assert (await ledger.get_balance(conn, book, points.BUDGET)).balance == 0
        assert (await ledger.verify_ledger(conn)).ok


async def test_approving_rechecks_caps_against_other_awards(db: Database) -> None:
    staff, (one, *_) = await setup(db, daily_cap=20, approval_threshold=5)
    checker_user = await users.create_user_unchecked(
        db, "maple-staff2", "correct horse", "staff", SLUG
    )
    checker = replace(staff, user_id=checker_user.id, username="maple-staff2")
    first = await awards.create_award(db, staff, SLUG, "r", [one], "甲", idempotency_key="a")
    second = await awards.create_award(db, staff, SLUG, "r", [one], "乙", idempotency_key="b")
    assert first.status == second.status == "pending_approval"
    async with db.transaction() as conn:  # the rule's cap was lowered meanwhile
        await conn.execute("UPDATE mall_rule SET daily_cap = 10")
    with pytest.raises(CapExceeded):
        await awards.approve(db, checker, first.id)
    assert (await award_records.get_award(db, checker, first.id)).status == "pending_approval"
