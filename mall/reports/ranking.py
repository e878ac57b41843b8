"""The community's ranking (积分榜): residents who opted in, by points earned this calendar year
or by volunteer hours this year, with their star volunteer level (星级志愿者) from their hours in
all. Public, like the notice board: no sign-in, so it shows only masked names (张**), never a
full name, phone or resident id, and never a resident who has not opted in (or has opted out).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

import msgspec
from piccolo.query.functions.aggregate import Sum

from ledger import Connection
from mall import access, days
from mall import query as q
from mall import tables as t
from mall.db import Database
from mall.earning import hours
from mall.earning.award_records import POSTED
from mall.errors import N_, Invalid, NotFound
from mall.org import policy
from mall.reports.notice import mask
from mall.reports.tallies import posted_between

#: the most residents one ranking shows
TOP = 50

By = Literal["points", "hours"]


class RankingEntry(msgspec.Struct, frozen=True, kw_only=True):
    rank: int
    """1 for the first; residents with equal figures share a rank (1, 2, 2, 4)."""
    name: str
    """Masked: the surname, then ``*`` (``mall.reports.notice.mask``)."""
    points: int
    """Points of awards posted this year and not reversed."""
    hours_tenths: int
    """Volunteer hours this year, in tenths of an hour."""
    stars: int
    """Star volunteer level (0 to 5) of the hours in all."""

    @property
    def hours(self) -> float:
        return hours.as_hours(self.hours_tenths)


class Ranking(msgspec.Struct, frozen=True, kw_only=True):
    community: str
    """The community's name."""
    slug: str
    by: By
    year: int
    star_hours: tuple[int, ...]
    """The hours of service in all for one to five stars (the community's policy)."""
    entries: list[RankingEntry]


def _by(value: str) -> By:
    if value == "points":
        return "points"
    if value == "hours":
        return "hours"
    raise Invalid(N_("Rank by points or by hours."))


async def ranking(db: Database, slug: str, by: str = "points") -> Ranking:
    """The community's ranking this year (China time), ``by`` points or hours; residents with
    none of that measure are left out. An unknown community is ``not_found``."""
    order = _by(by)
    if not access.SLUG.fullmatch(slug or ""):
        raise NotFound()
    year = days.today().year
    lo, hi = days.utc_bounds(date(year, 1, 1), date(year, 12, 31))
    c, r = t.Community, t.Resident
    async with db.connection() as conn:
        row = await q.fetchrow(conn, c.select(c.id, c.name, c.slug).where(c.slug == slug).first())
        if row is None:
            raise NotFound()
        cid = int(row["id"])
        levels = (await policy.policy_of(conn, cid)).star_hours
        people = {
            int(p["id"]): p["name"]
            for p in await q.fetch(
                conn,
                r.select(r.id, r.name).where(
                    (r.community == cid) & r.ranking_opt_in.eq(True) & r.closed_at.is_null()
                ),
            )
        }
        earned = await _points(conn, cid, list(people), lo, hi) if people else {}
        served = await _hours(conn, cid, list(people), lo, hi) if people else {}
        in_all = await _hours(conn, cid, list(people), None, None) if people else {}
    found = [
        RankingEntry(
            rank=0,
            name=mask(name),
            points=earned.get(i, 0),
            hours_tenths=served.get(i, 0),
            stars=policy.stars(in_all.get(i, 0), levels),
        )
        for i, name in people.items()
    ]

    def measure(e: RankingEntry) -> tuple[int, int]:
        return (e.points, e.hours_tenths) if order == "points" else (e.hours_tenths, e.points)

    found = sorted(
        (e for e in found if measure(e)[0] > 0),
        key=lambda e: (-measure(e)[0], -measure(e)[1], e.name),
    )
    entries: list[RankingEntry] = []
    for n, e in enumerate(found[:TOP]):
        tied = n > 0 and measure(found[n - 1])[0] == measure(e)[0]
        entries.append(msgspec.structs.replace(e, rank=entries[-1].rank if tied else n + 1))
    return Ranking(
        community=row["name"],
        slug=row["slug"],
        by=order,
        year=year,
        star_hours=levels,
        entries=entries,
    )


async def _points(
    conn: Connection, cid: int, ids: list[int], lo: datetime, hi: datetime
) -> dict[int, int]:
    """Points each resident got from awards posted in ``[lo, hi)`` and not reversed since."""
    L = t.AwardLine
    rows = await q.fetch(
        conn,
        L.select(L.resident, Sum(L.points, alias="points"))
        .where(
            (L.award.community == cid)
            & L.resident.is_in(ids)
            & (L.award.status == POSTED)
            & posted_between(L.award, lo, hi)
        )
        .group_by(L.resident),
    )
    return {int(x["resident"]): int(x["points"] or 0) for x in rows}


async def _hours(
    conn: Connection, cid: int, ids: list[int], lo: datetime | None, hi: datetime | None
) -> dict[int, int]:
    """Tenths of hours each resident served at this community's activities settled in
    ``[lo, hi)`` (ever, without a range)."""
    S = t.Signup
    where = (S.activity.community == cid) & S.resident.is_in(ids) & hours.settled_hours(S)
    if lo is not None and hi is not None:
        where = where & (S.activity.settled_at >= lo) & (S.activity.settled_at < hi)
    rows = await q.fetch(
        conn,
        S.select(S.resident, Sum(S.hours_tenths, alias="tenths")).where(where).group_by(S.resident),
    )
    return {int(x["resident"]): int(x["tenths"] or 0) for x in rows}
