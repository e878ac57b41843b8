"""Rating a resolved submission (闭环满意度) without HTTP: only its filer, only once resolved,
1 to 5 stars, once even when two taps race; the statistics count and average the ratings by
month and over the street."""

from __future__ import annotations

from datetime import date

import pytest

from mall import days
from mall.access import ResidentPrincipal
from mall.db import Database
from mall.earning import ratings, submissions
from mall.errors import AlreadyRated, Forbidden, Invalid, NotFound
from mall.org import communities
from mall.people import residents
from mall.reports import stats
from tests import support
from tests.support import on_database, race

ADMIN = support.admin("t")
SLUG, OTHER = "maple", "birch"


async def two_filers(db: Database) -> tuple[ResidentPrincipal, ResidentPrincipal]:
    made = await communities.create_community(db, ADMIN, SLUG, "枫林社区")
    other = await communities.create_community(db, ADMIN, OTHER, "白桦社区")
    a = (await residents.create_resident(db, ADMIN, SLUG, "王秀英", None, None)).id
    b = (await residents.create_resident(db, ADMIN, OTHER, "赵六", None, None)).id
    return support.resident(a, made.id, SLUG), support.resident(b, other.id, OTHER)


async def resolved(db: Database, me: ResidentPrincipal, title: str = "楼道灯坏了") -> int:
    made = await submissions.file(db, me, "dispute", title, "")
    await submissions.decide(db, ADMIN, made.id, "resolve", reason="已修好")
    return made.id


async def test_the_filer_rates_once_and_the_first_rating_stands(db: Database) -> None:
    me, _ = await two_filers(db)
    sid = await resolved(db, me)
    done = await ratings.rate(db, me, sid, 4, "  修得很快  ")
    assert (done.stars, done.comment) == (4, "修得很快")
    with pytest.raises(AlreadyRated) as refused:
        await ratings.rate(db, me, sid, 1)
    assert refused.value.code == "already_rated" and refused.value.status == 409
    found = await submissions.get(db, ADMIN, sid)
    assert (found.stars, found.rating_comment) == (4, "修得很快")


async def test_nobody_but_the_filer_rates(db: Database) -> None:
    me, stranger = await two_filers(db)
    sid = await resolved(db, me)
    neighbour = support.resident(
        (await residents.create_resident(db, ADMIN, SLUG, "李海", None, None)).id,
        me.community_id,
        SLUG,
    )
    for someone in (neighbour, stranger):
        with pytest.raises(NotFound):
            await ratings.rate(db, someone, sid, 5)
    with pytest.raises(Forbidden):
        await ratings.rate(db, ADMIN, sid, 5)
    assert (await submissions.get(db, ADMIN, sid)).stars is None


@pytest.mark.parametrize("steps", [[], ["accept"], ["reject"], ["accept", "reject"]])
async def test_only_a_resolved_submission_is_rated(db: Database, steps: list[str]) -> None:
    me, _ = await two_filers(db)
    made = await submissions.file(db, me, "proposal", "加装扶手", "")
    for step in steps:
        await submissions.decide(db, ADMIN, made.id, step, reason="理由")
    with pytest.raises(Invalid):
        await ratings.rate(db, me, made.id, 5)
    assert (await submissions.get(db, me, made.id)).stars is None


@pytest.mark.parametrize("stars", [0, 6, -1, True, 2.5, "5", None])
async def test_stars_are_a_whole_number_from_one_to_five(db: Database, stars: object) -> None:
    me, _ = await two_filers(db)
    sid = await resolved(db, me)
    with pytest.raises(Invalid):
        await ratings.rate(db, me, sid, stars)  # type: ignore[arg-type]
    with pytest.raises(Invalid):
        await ratings.rate(db, me, sid, 5, "x" * 501)
    assert (await submissions.get(db, me, sid)).stars is None


def test_two_ratings_at_once_write_one(db_url: str) -> None:
    async def prepare(db: Database) -> tuple[ResidentPrincipal, int]:
        me, _ = await two_filers(db)
        return me, await resolved(db, me)

    me, sid = on_database(db_url, prepare)
    results = race(db_url, 4, lambda db, i: ratings.rate(db, me, sid, i + 1))
    written = [r for r in results if isinstance(r, ratings.Rating)]
    assert len(written) == 1, results
    assert all(isinstance(r, AlreadyRated) for r in results if r not in written), results

    async def stars(db: Database) -> int | None:
        return (await submissions.get(db, ADMIN, sid)).stars

    assert on_database(db_url, stars) == written[0].stars


async def test_the_statistics_count_and_average_by_month_and_over_the_street(
    db: Database,
) -> None:
    me, stranger = await two_filers(db)
    for stars in (5, 4, 4):
        await ratings.rate(db, me, await resolved(db, me), stars)
    await ratings.rate(db, stranger, await resolved(db, stranger), 1)
    this_month = days.today()  # China time, as the statistics count
    start = date(this_month.year, 1, 1)
    report = await stats.community_report(db, ADMIN, SLUG, start=start, end=this_month)
    assert (report.figures.ratings, report.figures.average_rating) == (3, 4.33)
    months = {m.month: m for m in report.ratings_by_month}
    assert months[f"{this_month:%Y-%m}"].ratings == 3
    assert sum(m.ratings for m in report.ratings_by_month) == 3
    street = await stats.street_report(db, ADMIN, start=start, end=this_month)
    assert (street.total.figures.ratings, street.total.figures.average_rating) == (4, 3.5)
    empty = await stats.community_report(
        db, ADMIN, SLUG, start=date(2020, 1, 1), end=date(2020, 1, 31)
    )
    assert (empty.figures.ratings, empty.figures.average_rating) == (0, None)
