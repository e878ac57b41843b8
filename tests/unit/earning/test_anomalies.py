"""The anomaly list without HTTP: each pattern found on data that should trigger it and not on
data just beside it (two awards, not three; three spread over more than thirty days; a total 11%
under a threshold; one card), the window of days, the policy hook, and administrators only."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from mall import days
from mall.access import Staff
from mall.db import Database
from mall.earning import anomalies, awards, reversals, rules
from mall.errors import Forbidden, Invalid
from mall.org import communities, policy
from mall.people import credentials, residents, users
from tests import support

ADMIN = support.admin("t")
SLUG = "maple"
TODAY = days.today()


class Place:
    def __init__(self, community: int, staff: list[Staff], people: dict[str, int]) -> None:
        self.community, self.staff, self.people = community, staff, people
        self.keys = 0

    async def award(
        self, db: Database, who: int, rule: str, names: list[str], days_ago: int = 0
    ) -> int:
        self.keys += 1
        made = await awards.create_award(
            db,
            self.staff[who],
            SLUG,
            rule,
            [self.people[n] for n in names],
            "帮扶",
            idempotency_key=f"k{self.keys}",
        )
        if days_ago:
            async with db.transaction() as conn:
                await conn.execute(
                    "UPDATE mall_award SET created_at = ? WHERE id = ?",
                    datetime.now(UTC) - timedelta(days=days_ago),
                    made.id,
                )
        return made.id


async def place(db: Database) -> Place:
    """maple: two staff members, five residents, a budget, rule ``r`` (10 points, no threshold),
    rule ``t`` (10 points, approval above 20) and rule ``u`` (10 points, approval above 12)."""
    made = await communities.create_community(db, ADMIN, SLUG, "枫林社区")
    staff = []
    for i in (1, 2):
        user = await users.create_user_unchecked(db, f"staff{i}", "correct horse", "staff", SLUG)
        staff.append(support.staff(user.id, made.id, SLUG, f"staff{i}"))
    people = {
        name: (await residents.create_resident(db, ADMIN, SLUG, name, None, None)).id
        for name in ("王秀英", "李建国", "张桂兰", "赵六", "钱七")
    }
    await communities.grant_budget(db, ADMIN, SLUG, 10_000, "", idempotency_key="grant")
    await rules.create_rule(db, ADMIN, SLUG, "r", "参加议事会", "adding_to_good", 10)
    await rules.create_rule(
        db, ADMIN, SLUG, "t", "调解", "settling_disputes", 10, approval_threshold=20
    )
    await rules.create_rule(db, ADMIN, SLUG, "u", "帮扶", "timely_help", 10, approval_threshold=12)
    return Place(made.id, staff, people)


async def test_three_awards_from_one_issuer_to_one_resident_within_thirty_days(
    db: Database,
) -> None:
    at = await place(db)
    repeated = [await at.award(db, 0, "r", ["王秀英"], days_ago=d) for d in (29, 10, 0)]
    await at.award(db, 1, "r", ["王秀英"])  # another issuer: a pair of its own
    for _ in range(2):  # two, not three
        await at.award(db, 0, "r", ["李建国"])
    for days_ago in (80, 45, 10):  # three, but never three inside thirty days
        await at.award(db, 0, "r", ["张桂兰"], days_ago=days_ago)
    found = await anomalies.find(db, ADMIN, TODAY - timedelta(days=90), TODAY)
    assert [(r.issuer, r.resident.name, r.award_ids, r.points) for r in found.repeats] == [
        ("staff1", "王秀英", repeated, 30)
    ]
    assert found.repeats[0].community == SLUG
    assert found.repeats[0].resident.id == at.people["王秀英"]


async def test_repeats_count_only_awards_in_the_window_and_not_rejected_ones(
    db: Database,
) -> None:
    at = await place(db)
    for days_ago in (35, 34, 33):
        await at.award(db, 0, "r", ["王秀英"], days_ago=days_ago)
    for _ in range(2):
        await at.award(db, 0, "r", ["李建国"])
    big = await at.award(db, 0, "t", ["王秀英", "李建国", "张桂兰"])  # 30 > 20: waits
    await awards.reject(db, at.staff[1], big, "不符合")
    assert (await anomalies.find(db, ADMIN)).repeats == []  # the default: the last 30 days
    found = (await anomalies.find(db, ADMIN, TODAY - timedelta(days=41))).repeats
    assert [(r.resident.name, len(r.award_ids)) for r in found] == [("王秀英", 3)]


async def test_awards_just_under_their_rule_s_threshold(db: Database) -> None:
    at = await place(db)
    near = await at.award(db, 0, "t", ["王秀英", "李建国"])  # 20 of 20
    await at.award(db, 0, "t", ["赵六"])  # 10 of 20: 50% under
    await at.award(db, 0, "u", ["钱七"])  # 10 of 12: 17% under
    waiting = await at.award(db, 0, "t", ["王秀英", "李建国", "张桂兰"])  # 30: over, waits
    await at.award(db, 0, "r", ["钱七"])  # no threshold
    found = (await anomalies.find(db, ADMIN)).near_threshold
    assert [(n.source, n.award_ids, n.points, n.threshold, n.rule) for n in found] == [
        ("rule", [near], 20, 20, "调解")
    ]
    assert [p.name for p in found[0].residents] == ["王秀英", "李建国"]
    assert waiting not in found[0].award_ids


async def test_an_issuer_s_day_just_under_the_policy_threshold_is_flagged(db: Database) -> None:
    at = await place(db)
    day = [await at.award(db, 0, "r", ["王秀英"]) for _ in range(2)]  # 20 in one day
    await at.award(db, 1, "r", ["王秀英"])  # another issuer's 10
    await at.award(db, 0, "r", ["李建国"])  # 10
    # the default policy (100 a day) is far above 20: nothing is near it
    assert (await anomalies.find(db, ADMIN)).near_threshold == []
    await policy.set_policy(db, ADMIN, SLUG, approval_threshold=21)
    found = (await anomalies.find(db, ADMIN)).near_threshold
    assert [(n.source, n.issuer, n.award_ids, n.points, n.threshold) for n in found] == [
        ("policy", "staff1", day, 20, 21)
    ]
    # 0 means every award needs a second staff member: no day can be "just under" it
    await policy.set_policy(db, ADMIN, SLUG, approval_threshold=0)
    assert (await anomalies.find(db, ADMIN)).near_threshold == []


async def test_residents_given_a_card_more_than_once(db: Database) -> None:
    at = await place(db)
    for pin in ("2580", "1379"):
        await credentials.issue_card(db, at.staff[0], at.people["王秀英"], pin)
    await credentials.issue_card(db, at.staff[1], at.people["李建国"], "2580")
    found = (await anomalies.find(db, ADMIN)).cards_reissued
    assert [(c.resident.name, c.cards, c.last_issued_by) for c in found] == [
        ("王秀英", 2, "staff1")
    ]
    # issued before the window: not this window's anomaly
    assert (
        await anomalies.find(db, ADMIN, TODAY - timedelta(days=9), TODAY - timedelta(days=2))
    ).cards_reissued == []


async def test_reversed_awards_are_listed_with_reason_and_residents(db: Database) -> None:
    at = await place(db)
    undone = await at.award(db, 0, "r", ["王秀英", "李建国"])
    await at.award(db, 0, "r", ["张桂兰"])
    await reversals.reverse_award(db, at.staff[1], undone, "重复发放", idempotency_key="rev")
    found = (await anomalies.find(db, ADMIN)).reversals
    assert [(r.award_id, r.issuer, r.reverser, r.points, r.reason) for r in found] == [
        (undone, "staff1", "staff2", 20, "重复发放")
    ]
    assert [p.name for p in found[0].residents] == ["王秀英", "李建国"]
    yesterday = TODAY - timedelta(days=1)
    assert (await anomalies.find(db, ADMIN, yesterday, yesterday)).reversals == []


async def test_only_administrators_see_the_list(db: Database) -> None:
    at = await place(db)
    with pytest.raises(Forbidden):
        await anomalies.find(db, at.staff[0])


def test_the_window_of_days() -> None:
    today = date(2026, 12, 5)
    assert anomalies.window(None, None, today=today) == (date(2026, 11, 6), today)
    assert anomalies.window(date(2026, 1, 1), date(2026, 1, 1)) == (date(2026, 1, 1),) * 2
    with pytest.raises(Invalid):
        anomalies.window(date(2026, 2, 1), date(2026, 1, 1))
    assert anomalies.window(date(2025, 1, 1), date(2026, 1, 1))  # 366 days
    with pytest.raises(Invalid):
        anomalies.window(date(2024, 12, 31), date(2026, 1, 1))
    lo, hi = days.utc_bounds(date(2026, 3, 1), date(2026, 3, 1))
    assert (lo, hi) == (datetime(2026, 2, 28, 16, tzinfo=UTC), datetime(2026, 3, 1, 16, tzinfo=UTC))
