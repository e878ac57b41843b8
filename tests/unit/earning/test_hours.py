"""Volunteer hours through the services (issue #20): hours as typed become whole tenths, never
floats; settlement writes each attendee's hours (or staff's correction); the year's hours and
the star level; and the ranking's figures (reversed awards and closed records left out)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from mall.access import Principal
from mall.db import Database
from mall.earning import activities, checkin, hours, reversals, sheet
from mall.errors import Invalid, NotFound, SelfDealing
from mall.org import policy
from mall.people import lifecycle, preferences
from mall.reports import ranking
from tests.unit.earning.test_activities import place, publish


async def activity_with_hours(db: Database, p: Principal, tenths: int) -> int:
    starts = datetime.now(UTC) - timedelta(minutes=10)
    made = await activities.create_activity(
        db,
        p,
        "ax",
        title="敬老院陪护",
        path="timely_help",
        points=10,
        capacity=10,
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
        place="敬老院",
        hours_tenths=tenths,
    )
    return made.id


@pytest.mark.parametrize(
    ("typed", "tenths"),
    [(2.5, 25), ("2.5", 25), (3, 30), ("0", 0), (Decimal("200"), 2000), (" 1.0 ", 10), (0.1, 1)],
)
def test_hours_as_typed_become_whole_tenths(typed: object, tenths: int) -> None:
    found = hours.tenths(typed)
    assert found == tenths and isinstance(found, int)
    assert hours.as_hours(found) == float(Decimal(tenths) / 10)


@pytest.mark.parametrize(
    "typed", [1.25, "1.25", -1, "-0.5", 200.1, "abc", "nan", "inf", True, None, [2], 0.1 + 0.2]
)
def test_hours_with_more_than_one_decimal_or_out_of_range_are_refused(typed: object) -> None:
    with pytest.raises(Invalid):
        hours.tenths(typed)


@pytest.mark.parametrize(
    ("tenths", "stars"),
    [(0, 0), (999, 0), (1000, 1), (2999, 1), (3000, 2), (6000, 3), (10000, 4), (15000, 5)],
)
def test_star_levels_by_the_default_national_scheme(tenths: int, stars: int) -> None:
    assert policy.stars(tenths, policy.DEFAULT_STAR_HOURS) == stars


async def test_settlement_writes_the_hours_of_each_attendee_and_a_correction_stands(
    db: Database,
) -> None:
    p = await place(db, n=3)
    activity_id = await activity_with_hours(db, p.staff, 25)
    ids = [r.resident_id for r in p.residents]
    await sheet.record_attendance_by_name(db, p.staff, activity_id, ids[:2])
    fixed = await sheet.set_hours(db, p.staff, activity_id, ids[1], 10)
    assert fixed.hours_tenths == 10
    await checkin.settle(db, p.staff, activity_id)
    shown = await activities.activity_for_staff(db, p.staff, activity_id)
    assert {s.resident_id: s.hours_tenths for s in shown.signups} == {ids[0]: 25, ids[1]: 10}
    assert (await hours.my_hours(db, p.residents[0])).year_tenths == 25
    assert (await hours.my_hours(db, p.residents[1])).year_tenths == 10
    assert (await hours.my_hours(db, p.residents[2])).year_tenths == 0
    with pytest.raises(Invalid):  # settled: the hours stand
        await sheet.set_hours(db, p.staff, activity_id, ids[0], 5)
    assert (await hours.my_hours(db, p.residents[0])).year_tenths == 25


async def test_hours_are_not_counted_before_settlement(db: Database) -> None:
    p = await place(db, n=1)
    activity_id = await activity_with_hours(db, p.staff, 30)
    await sheet.record_attendance_by_name(db, p.staff, activity_id, [p.residents[0].resident_id])
    await sheet.set_hours(db, p.staff, activity_id, p.residents[0].resident_id, 20)
    assert (await hours.my_hours(db, p.residents[0])).total_tenths == 0


async def test_a_correction_outside_the_callers_scope_is_refused_and_changes_nothing(
    db: Database,
) -> None:
    p = await place(db, n=2)
    activity_id = await activity_with_hours(db, p.staff, 25)
    one, absent = (r.resident_id for r in p.residents)
    await sheet.record_attendance_by_name(db, p.staff, activity_id, [one])
    with pytest.raises(NotFound):  # another community's staff
        await sheet.set_hours(db, p.other_staff, activity_id, one, 5)
    with pytest.raises(NotFound):  # not checked in
        await sheet.set_hours(db, p.staff, activity_id, absent, 5)
    with pytest.raises(NotFound):  # another community's resident
        await sheet.set_hours(db, p.staff, activity_id, p.outsider.resident_id, 5)
    with pytest.raises(Invalid):
        await sheet.set_hours(db, p.staff, activity_id, one, 2001)
    async with db.transaction() as conn:
        await conn.execute("UPDATE mall_user SET resident = ? WHERE id = ?", one, p.staff.user_id)
    with pytest.raises(SelfDealing):
        await sheet.set_hours(db, p.staff, activity_id, one, 5)
    async with db.connection() as conn:
        assert (
            await conn.fetchval("SELECT hours_tenths FROM mall_signup WHERE resident = ?", one)
            is None
        )


async def test_an_activity_s_hours_must_be_whole_tenths_in_range(db: Database) -> None:
    p = await place(db, n=1)
    for bad in (-1, 2001, True):
        with pytest.raises(Invalid):
            await activity_with_hours(db, p.staff, bad)
    assert (await activities.activity_for_staff(db, p.staff, await publish(db, p.staff))).hours == 0


async def test_last_year_s_hours_count_for_stars_but_not_this_year(db: Database) -> None:
    p = await place(db, n=1)
    me = p.residents[0]
    old, new = (
        await activity_with_hours(db, p.staff, 1000),
        await activity_with_hours(db, p.staff, 15),
    )
    for activity_id in (old, new):
        await sheet.record_attendance_by_name(db, p.staff, activity_id, [me.resident_id])
        await checkin.settle(db, p.staff, activity_id)
    async with db.transaction() as conn:
        last_year = datetime.now(UTC) - timedelta(days=400)
        await conn.execute("UPDATE mall_activity SET settled_at = ? WHERE id = ?", last_year, old)
    found = await hours.my_hours(db, me)
    assert (found.year_tenths, found.total_tenths, found.stars) == (15, 1015, 1)
    assert found.next_star_hours == 300
    await preferences.set_ranking_opt_in(db, me, True)
    board = await ranking.ranking(db, "ax", "hours")
    assert [(e.hours_tenths, e.stars) for e in board.entries] == [(15, 1)]


async def test_the_ranking_leaves_out_reversed_points_closed_records_and_those_not_opted_in(
    db: Database,
) -> None:
    p = await place(db, n=3)
    activity_id = await activity_with_hours(db, p.staff, 20)
    ids = [r.resident_id for r in p.residents]
    await sheet.record_attendance_by_name(db, p.staff, activity_id, ids)
    made = await checkin.settle(db, p.staff, activity_id)
    for r in p.residents:
        await preferences.set_ranking_opt_in(db, r, True)
    assert {e.points for e in (await ranking.ranking(db, "ax")).entries} == {10}
    assert made.award_id is not None
    await reversals.reverse_award(db, p.staff, made.award_id, "误发", idempotency_key="undo")
    assert (await ranking.ranking(db, "ax", "points")).entries == []
    by_hours = (await ranking.ranking(db, "ax", "hours")).entries
    assert [(e.rank, e.points, e.hours_tenths) for e in by_hours] == [(1, 0, 20)] * 3
    await lifecycle.close_resident(db, p.staff, ids[0], "搬走")
    await preferences.set_ranking_opt_in(db, p.residents[1], False)
    assert len((await ranking.ranking(db, "ax", "hours")).entries) == 1
    assert (await ranking.ranking(db, "bx", "hours")).entries == []
    with pytest.raises(Invalid):
        await ranking.ranking(db, "ax", "name")
    with pytest.raises(NotFound):
        await ranking.ranking(db, "nowhere")
