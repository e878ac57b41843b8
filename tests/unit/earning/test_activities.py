"""Recruitment calls through the services: publishing, the waiting list, rotating check-in codes,
staff check-in by pay code or card, settlement in one journal, and the races that must not
double anything (real concurrent connections, ``tests.support.race``)."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import ledger
from mall.access import Principal, ResidentPrincipal, Staff
from mall.db import Database
from mall.demo import activities as demo_activities
from mall.earning import activities, checkin, signups
from mall.errors import (
    AlreadyCheckedIn,
    AlreadyExists,
    BudgetExhausted,
    CodeExpired,
    CodeInvalid,
    Forbidden,
    Invalid,
    NotFound,
)
from mall.org import communities, points
from mall.people import codes, credentials, residents, users
from mall.settings import get_settings
from tests import support
from tests.support import on_database, race

ADMIN = support.admin("t")


@dataclass(frozen=True)
class Place:
    staff: Staff
    other_staff: Staff
    residents: list[ResidentPrincipal]
    outsider: ResidentPrincipal
    """A resident of community ``b``."""


def resident_principal(community_id: int, slug: str, resident_id: int) -> ResidentPrincipal:
    return support.resident(resident_id, community_id, slug)


async def place(db: Database, n: int = 3, budget: int = 1000) -> Place:
    """Community ``a`` with a staff member, ``n`` residents and ``budget``; ``b`` with staff and
    one resident."""
    staff = []
    people: dict[str, list[ResidentPrincipal]] = {}
    for slug in ("a", "b"):
        c = await communities.create_community(db, ADMIN, slug + "x", f"社区{slug}")
        user = await users.create_user_unchecked(
            db, f"staff-{slug}", "correct horse battery", "staff", slug + "x"
        )
        staff.append(support.staff(user.id, c.id, slug + "x", f"staff-{slug}"))
        count = n if slug == "a" else 1
        people[slug] = [
            resident_principal(
                c.id,
                slug + "x",
                (await residents.create_resident(db, ADMIN, slug + "x", f"居民{i}", None, None)).id,
            )
            for i in range(count)
        ]
    if budget:
        await communities.grant_budget(db, ADMIN, "ax", budget, "预算", idempotency_key="g")
    return Place(staff[0], staff[1], people["a"], people["b"][0])


async def publish(
    db: Database,
    p: Principal,
    *,
    capacity: int = 10,
    points_each: int = 15,
    start: timedelta = timedelta(minutes=-10),
    length: timedelta = timedelta(hours=2),
    title: str = "清理楼道",
) -> int:
    starts = datetime.now(UTC) + start
    made = await activities.create_activity(
        db,
        p,
        "ax",
        title=title,
        path="adding_to_good",
        points=points_each,
        capacity=capacity,
        starts_at=starts,
        ends_at=starts + length,
        place="3栋楼下",
    )
    return made.id


def code_now(activity_id: int, windows_ago: int = 0) -> str:
    window = checkin.window_of(datetime.now(UTC)) - windows_ago
    return codes.checkin_code(get_settings().secret_key, activity_id, window)


async def wallet(db: Database, resident_id: int) -> int:
    async with db.connection() as conn:
        book = await conn.fetchval("SELECT book FROM mall_community WHERE slug = 'ax'")
        return (await ledger.get_balance(conn, book, points.wallet(resident_id))).balance


async def journals(db: Database) -> int:
    async with db.connection() as conn:
        return int(await conn.fetchval("SELECT COUNT(*) FROM ledger_journal WHERE kind = 'award'"))


# Publishing -------------------------------------------------------------------------------


async def test_staff_publish_an_activity_that_residents_of_the_community_see(db: Database) -> None:
    p = await place(db)
    activity_id = await publish(db, p.staff)
    shown = await activities.get_activity(db, p.residents[0], activity_id)
    assert isinstance(shown, activities.ActivityForResident)
    assert shown.title == "清理楼道" and shown.places_left == 10
    assert shown.my_status is None and shown.status == "open"
    listed = await activities.community_activities(db, p.staff, "ax")
    assert [a.id for a in listed] == [activity_id]
    async with db.connection() as conn:
        assert await conn.fetchval(
            "SELECT COUNT(*) FROM mall_audit WHERE action = 'activity.create'"
        )


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"path": "shopping"}, "three paths"),
        ({"points": 0}, "Points"),
        ({"points": True}, "Points"),
        ({"capacity": 0}, "Places"),
        ({"ends_at": datetime(2026, 12, 1, 9, tzinfo=UTC)}, "after the start"),
        ({"starts_at": datetime(2026, 12, 1, 9)}, "time zone"),
        ({"title": " "}, "title"),
        ({"title": "a\x00b"}, "ordinary letters"),
        ({"place": ""}, "place"),
        ({"ends_at": datetime(2027, 2, 1, 9, tzinfo=UTC)}, "at most"),
    ],
)
async def test_bad_activities_are_refused_in_words_and_nothing_is_written(
    db: Database, change: dict[str, Any], problem: str
) -> None:
    p = await place(db, n=0, budget=0)
    fields = {
        "title": "议事会",
        "path": "adding_to_good",
        "points": 10,
        "capacity": 5,
        "starts_at": datetime(2026, 12, 1, 10, tzinfo=UTC),
        "ends_at": datetime(2026, 12, 1, 12, tzinfo=UTC),
        "place": "活动室",
        **change,
    }
    with pytest.raises(Invalid) as refused:
        await activities.create_activity(db, p.staff, "ax", **fields)
    assert problem in str(refused.value)
    assert await activities.community_activities(db, p.staff, "ax") == []


async def test_only_staff_of_the_community_publish(db: Database) -> None:
    p = await place(db, n=1, budget=0)
    with pytest.raises(Forbidden):
        await publish(db, p.other_staff)
    with pytest.raises(Forbidden):
        await publish(db, p.residents[0])


async def test_another_community_cannot_see_the_activity(db: Database) -> None:
    p = await place(db, n=1, budget=0)
    activity_id = await publish(db, p.staff)
    for outsider in (p.other_staff, p.outsider):
        with pytest.raises(NotFound):
            await activities.get_activity(db, outsider, activity_id)
    with pytest.raises(NotFound):
        await signups.sign_up(db, p.outsider, activity_id)
    with pytest.raises(NotFound):
        await checkin.checkin_code(db, p.other_staff, activity_id)


# Signing up -------------------------------------------------------------------------------


async def test_signups_past_capacity_wait_in_order_and_a_cancel_promotes_the_first(
    db: Database,
) -> None:
    p = await place(db, n=4)
    activity_id = await publish(db, p.staff, capacity=2)
    got = [await signups.sign_up(db, r, activity_id) for r in p.residents]
    assert [(g.status, g.position) for g in got] == [
        ("confirmed", None),
        ("confirmed", None),
        ("waiting", 1),
        ("waiting", 2),
    ]
    last = await activities.get_activity(db, p.residents[3], activity_id)
    assert isinstance(last, activities.ActivityForResident)
    assert last.my_position == 2
    await signups.cancel_sign_up(db, p.residents[0], activity_id)
    third = await activities.get_activity(db, p.residents[2], activity_id)
    assert isinstance(third, activities.ActivityForResident)
    assert third.my_status == "confirmed" and third.places_left == 0
    fourth = await activities.get_activity(db, p.residents[3], activity_id)
    assert isinstance(fourth, activities.ActivityForResident)
    assert fourth.my_status == "waiting" and fourth.my_position == 1
    staff_view = await activities.get_activity(db, p.staff, activity_id)
    assert isinstance(staff_view, activities.ActivityForStaff)
    assert [s.status for s in staff_view.signups] == [
        "cancelled",
        "confirmed",
        "confirmed",
        "waiting",
    ]


async def test_signing_up_twice_is_already_exists_but_again_after_cancelling_works(
    db: Database,
) -> None:
    p = await place(db, n=1)
    activity_id = await publish(db, p.staff)
    await signups.sign_up(db, p.residents[0], activity_id)
    with pytest.raises(AlreadyExists):
        await signups.sign_up(db, p.residents[0], activity_id)
    await signups.cancel_sign_up(db, p.residents[0], activity_id)
    with pytest.raises(NotFound):
        await signups.cancel_sign_up(db, p.residents[0], activity_id)
    again = await signups.sign_up(db, p.residents[0], activity_id)
    assert again.status == "confirmed"


async def test_no_signups_after_the_end_or_after_settlement(db: Database) -> None:
    p = await place(db, n=2)
    over = await publish(db, p.staff, start=timedelta(hours=-3), length=timedelta(hours=1))
    with pytest.raises(Invalid, match="over"):
        await signups.sign_up(db, p.residents[0], over)
    settled = await publish(db, p.staff)
    await checkin.settle(db, p.staff, settled)
    with pytest.raises(Invalid, match="closed"):
        await signups.sign_up(db, p.residents[0], settled)


async def test_my_activities_lists_upcoming_and_my_own(db: Database) -> None:
    p = await place(db, n=1)
    soon = await publish(db, p.staff, start=timedelta(days=1), title="议事会")
    past = await publish(db, p.staff, start=timedelta(hours=-1), length=timedelta(minutes=30))
    await checkin.check_in(db, p.residents[0], past, code_now(past))
    mine = await activities.my_activities(db, p.residents[0])
    assert [a.id for a in mine.upcoming] == [soon]
    assert [(a.id, a.my_status) for a in mine.mine] == [(past, "confirmed")]
    assert mine.mine[0].my_checked_in_at is not None


# Checking in ------------------------------------------------------------------------------


async def test_a_resident_checks_in_once_with_the_current_or_the_previous_code(
    db: Database,
) -> None:
    p = await place(db, n=2)
    activity_id = await publish(db, p.staff)
    shown = await checkin.checkin_code(db, p.staff, activity_id)
    assert shown.url.endswith(f"/c/{shown.code}")
    assert shown.expires_at - shown.refreshes_at == timedelta(seconds=checkin.WINDOW)
    await signups.sign_up(db, p.residents[0], activity_id)
    done = await checkin.check_in(db, p.residents[0], activity_id, shown.code)
    assert done.resident_id == p.residents[0].resident_id
    with pytest.raises(AlreadyCheckedIn):
        await checkin.check_in(db, p.residents[0], activity_id, shown.code)
    await checkin.check_in(db, p.residents[1], activity_id, code_now(activity_id, 1))
    assert (await activities.get_activity(db, p.staff, activity_id)).checked_in == 2


async def test_an_old_code_is_expired_and_a_forged_or_other_activitys_code_invalid(
    db: Database,
) -> None:
    p = await place(db, n=1)
    activity_id = await publish(db, p.staff)
    other = await publish(db, p.staff)
    with pytest.raises(CodeExpired):
        await checkin.check_in(db, p.residents[0], activity_id, code_now(activity_id, 2))
    with pytest.raises(CodeInvalid):
        await checkin.check_in(db, p.residents[0], activity_id, code_now(other))
    code = code_now(activity_id)
    forged = code[:-1] + ("A" if code[-1] != "A" else "B")
    for bad in (forged, "", "K1-1-1-AAAAAAAAAA", code.replace("K1", "K2"), "x" * 500):
        with pytest.raises(CodeInvalid):
            await checkin.check_in(db, p.residents[0], activity_id, bad)
    future = codes.checkin_code(
        get_settings().secret_key, activity_id, checkin.window_of(datetime.now(UTC)) + 5
    )
    with pytest.raises(CodeInvalid):
        await checkin.check_in(db, p.residents[0], activity_id, future)
    assert (await activities.get_activity(db, p.staff, activity_id)).checked_in == 0


async def test_walk_ins_and_the_waiting_list_are_checked_in_too(db: Database) -> None:
    p = await place(db, n=3)
    activity_id = await publish(db, p.staff, capacity=1)
    await signups.sign_up(db, p.residents[0], activity_id)
    await signups.sign_up(db, p.residents[1], activity_id)  # waiting
    await checkin.check_in(db, p.residents[1], activity_id, code_now(activity_id))
    await checkin.check_in(db, p.residents[2], activity_id, code_now(activity_id))  # walk-in
    shown = await activities.get_activity(db, p.staff, activity_id)
    assert isinstance(shown, activities.ActivityForStaff)
    assert [(s.status, s.checked_in_at is not None) for s in shown.signups] == [
        ("confirmed", False),
        ("confirmed", True),
        ("confirmed", True),
    ]


async def test_check_in_only_within_the_time_window_and_while_open(db: Database) -> None:
    p = await place(db, n=1)
    later = await publish(db, p.staff, start=timedelta(hours=3))
    with pytest.raises(Invalid, match="opens 60 minutes"):
        await checkin.check_in(db, p.residents[0], later, code_now(later))
    soon = await publish(db, p.staff, start=timedelta(minutes=50))
    await checkin.check_in(db, p.residents[0], soon, code_now(soon))
    long_over = await publish(db, p.staff, start=timedelta(hours=-5), length=timedelta(hours=1))
    with pytest.raises(Invalid, match="closed"):
        await checkin.check_in(db, p.residents[0], long_over, code_now(long_over))
    settled = await publish(db, p.staff)
    await checkin.settle(db, p.staff, settled)
    with pytest.raises(Invalid, match="closed"):
        await checkin.check_in(db, p.residents[0], settled, code_now(settled))
    with pytest.raises(Invalid, match="closed"):
        await checkin.checkin_code(db, p.staff, settled)


async def test_staff_check_in_a_resident_by_pay_code_or_card_once(db: Database) -> None:
    p = await place(db, n=2)
    activity_id = await publish(db, p.staff)
    pay = await credentials.new_pay_code(db, p.residents[0])
    done = await checkin.record_attendance(db, p.staff, activity_id, pay.code)
    assert done.resident_id == p.residents[0].resident_id and done.name == "居民0"
    with pytest.raises(AlreadyCheckedIn):
        await checkin.record_attendance(db, p.staff, activity_id, pay.code)
    with pytest.raises(AlreadyCheckedIn):  # and the pay code was not used up by it
        await checkin.check_in(db, p.residents[0], activity_id, code_now(activity_id))
    second = p.residents[1].resident_id
    assert second is not None
    card = await credentials.issue_card(db, ADMIN, second, "2580")
    with pytest.raises(Invalid, match="Wrong PIN"):
        await checkin.record_attendance(db, p.staff, activity_id, card.card_code, "1357")
    await checkin.record_attendance(db, p.staff, activity_id, card.card_code, "2580")
    shown = await activities.get_activity(db, p.staff, activity_id)
    assert isinstance(shown, activities.ActivityForStaff)
    assert [s.checked_in_by for s in shown.signups] == ["staff-a", "staff-a"]
    async with db.connection() as conn:
        audited = await conn.fetchval(
            "SELECT COUNT(*) FROM mall_audit WHERE action = 'activity.attendance'"
        )
    assert audited == 2


async def test_staff_cannot_check_in_a_code_of_another_community_or_a_bad_code(
    db: Database,
) -> None:
    p = await place(db, n=1)
    activity_id = await publish(db, p.staff)
    theirs = await credentials.new_pay_code(db, p.outsider)
    with pytest.raises(CodeInvalid):
        await checkin.record_attendance(db, p.staff, activity_id, theirs.code)
    with pytest.raises(CodeInvalid):
        await checkin.record_attendance(db, p.staff, activity_id, "12345")
    with pytest.raises(NotFound):
        mine = await credentials.new_pay_code(db, p.residents[0])
        await checkin.record_attendance(db, p.other_staff, activity_id, mine.code)
    assert (await activities.get_activity(db, p.staff, activity_id)).checked_in == 0


# Settling ---------------------------------------------------------------------------------


async def test_settlement_awards_every_attendee_in_one_journal_once(db: Database) -> None:
    p = await place(db, n=3)
    activity_id = await publish(db, p.staff, points_each=15, title="清理楼道")
    for r in p.residents[:2]:
        await checkin.check_in(db, r, activity_id, code_now(activity_id))
    await signups.sign_up(db, p.residents[2], activity_id)  # signed up, never came
    before = await journals(db)
    done = await checkin.settle(db, p.staff, activity_id)
    assert (done.awarded, done.points, done.points_each) == (2, 30, 15)
    assert await journals(db) == before + 1
    assert [await wallet(db, r.resident_id) for r in p.residents] == [15, 15, 0]
    first = p.residents[0].resident_id
    assert first is not None
    book = await residents.passbook(db, p.residents[0], first)
    entry = book.entries[0]
    assert (entry.memo, entry.path, entry.kind, entry.amount) == (
        "清理楼道",
        "adding_to_good",
        "award",
        15,
    )
    again = await checkin.settle(db, p.staff, activity_id)
    assert again == done and await journals(db) == before + 1
    async with db.connection() as conn:
        assert (
            await conn.fetchval("SELECT COUNT(*) FROM mall_audit WHERE action = 'activity.settle'")
            == 1
        )
        report = await ledger.verify_ledger(conn)
    assert report.ok, report.problems


async def test_settling_without_attendees_writes_no_journal(db: Database) -> None:
    p = await place(db, n=1)
    activity_id = await publish(db, p.staff)
    before = await journals(db)
    done = await checkin.settle(db, p.staff, activity_id)
    assert (done.awarded, done.points, done.journal_id) == (0, 0, None)
    assert await journals(db) == before
    assert (await activities.get_activity(db, p.staff, activity_id)).status == "settled"


async def test_settling_beyond_the_budget_is_refused_and_changes_nothing(db: Database) -> None:
    p = await place(db, n=3, budget=40)
    activity_id = await publish(db, p.staff, points_each=15)
    for r in p.residents:
        await checkin.check_in(db, r, activity_id, code_now(activity_id))
    with pytest.raises(BudgetExhausted):
        await checkin.settle(db, p.staff, activity_id)
    shown = await activities.get_activity(db, p.staff, activity_id)
    assert shown.status == "open" and shown.journal_id is None
    assert [await wallet(db, r.resident_id) for r in p.residents] == [0, 0, 0]
    assert (await communities.budget(db, p.staff, "ax")).balance == 40


async def test_an_activity_that_has_not_started_cannot_be_settled(db: Database) -> None:
    p = await place(db, n=1)
    activity_id = await publish(db, p.staff, start=timedelta(days=1))
    with pytest.raises(Invalid, match="started"):
        await checkin.settle(db, p.staff, activity_id)
    with pytest.raises(Forbidden):
        await checkin.settle(db, p.residents[0], activity_id)
    with pytest.raises(NotFound):
        await checkin.settle(db, p.other_staff, activity_id)


# Races (real concurrent connections) ------------------------------------------------------


def outcomes(results: Iterable[object]) -> Counter[str]:
    return Counter(type(r).__name__ for r in results)


def test_twenty_residents_checking_in_at_once_are_each_checked_in_once(db_url: str) -> None:
    async def prepare(db: Database) -> tuple[Place, int]:
        p = await place(db, n=20)
        return p, await publish(db, p.staff, capacity=5)

    p, activity_id = on_database(db_url, prepare)
    code = code_now(activity_id)

    async def scan(db: Database, i: int) -> checkin.CheckedIn:
        return await checkin.check_in(db, p.residents[i], activity_id, code)

    results = race(db_url, 20, scan)
    assert outcomes(results) == Counter({"CheckedIn": 20}), results

    async def check(db: Database) -> activities.ActivityForStaff | activities.ActivityForResident:
        return await activities.get_activity(db, p.staff, activity_id)

    shown = on_database(db_url, check)
    assert isinstance(shown, activities.ActivityForStaff)
    assert shown.checked_in == 20 and len(shown.signups) == 20


def test_one_resident_checking_in_from_ten_connections_is_checked_in_once(db_url: str) -> None:
    async def prepare(db: Database) -> tuple[Place, int]:
        p = await place(db, n=1)
        return p, await publish(db, p.staff)

    p, activity_id = on_database(db_url, prepare)
    code = code_now(activity_id)

    async def scan(db: Database, i: int) -> checkin.CheckedIn:
        return await checkin.check_in(db, p.residents[0], activity_id, code)

    results = race(db_url, 10, scan)
    assert outcomes(results) == Counter({"CheckedIn": 1, "AlreadyCheckedIn": 9}), results


def test_signups_raced_never_pass_the_capacity(db_url: str) -> None:
    async def prepare(db: Database) -> tuple[Place, int]:
        p = await place(db, n=12, budget=0)
        return p, await publish(db, p.staff, capacity=5)

    p, activity_id = on_database(db_url, prepare)

    async def join(db: Database, i: int) -> signups.SignedUp:
        return await signups.sign_up(db, p.residents[i], activity_id)

    results = race(db_url, 12, join)
    assert Counter(r.status for r in results) == Counter({"confirmed": 5, "waiting": 7})
    assert sorted(r.position for r in results if r.position) == list(range(1, 8))


def test_settlement_raced_by_five_staff_posts_one_journal(db_url: str) -> None:
    async def prepare(db: Database) -> tuple[Place, int]:
        p = await place(db, n=4)
        activity_id = await publish(db, p.staff, points_each=7)
        for r in p.residents:
            await checkin.check_in(db, r, activity_id, code_now(activity_id))
        return p, activity_id

    p, activity_id = on_database(db_url, prepare)

    async def press(db: Database, i: int) -> checkin.Settlement:
        return await checkin.settle(db, p.staff, activity_id)

    results = race(db_url, 5, press)
    assert outcomes(results) == Counter({"Settlement": 5}), results
    assert len({r.journal_id for r in results}) == 1
    assert all((r.awarded, r.points) == (4, 28) for r in results)
    assert on_database(db_url, journals) == 1
    assert [
        on_database(db_url, lambda db, r=r: wallet(db, r.resident_id))  # type: ignore[misc]  # r bound by a default argument
        for r in p.residents
    ] == [7] * 4


# The demo ---------------------------------------------------------------------------------


async def test_the_demo_settles_past_calls_and_leaves_open_ones_with_a_waiting_list(
    db: Database,
) -> None:
    p = await place(db, n=8, budget=20_000)
    ids = [r.resident_id for r in p.residents]
    assert await demo_activities.load(db, random.Random(7), "ax", p.staff, ids) == []
    found = await activities.community_activities(db, p.staff, "ax")
    settled = [a for a in found if a.status == "settled"]
    assert len(settled) == 2 and all(a.journal_id and a.checked_in for a in settled)
    now_on = [a for a in found if a.status == "open" and a.starts_at <= datetime.now(UTC)]
    assert len(now_on) == 1 and now_on[0].checked_in == 2
    assert any(a.waiting for a in found if a.starts_at > datetime.now(UTC))
    staff_view = await activities.get_activity(db, p.staff, settled[0].id)
    assert isinstance(staff_view, activities.ActivityForStaff)
    attendee = next(s for s in staff_view.signups)
    who = next(r for r in p.residents if r.resident_id == attendee.resident_id)
    assert who.resident_id is not None
    memos = [e.memo for e in (await residents.passbook(db, who, who.resident_id)).entries]
    assert settled[0].title in memos
    assert (await communities.budget(db, p.staff, "ax")).balance > 19_000
