"""Statistics (统计): a community's points, goods, volunteering and submissions over a range of
days (China time, both included; by default the current calendar month), for its staff or the
street administrator, and the street's total over every community (administrators only).

The figures of API.md's ``GET /communities/{slug}/stats`` are ``Figures``; the breakdowns the
pages and the monthly workbook show besides are the rest of ``Report``. It never writes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import msgspec

import catalog
from ledger import Connection, Row
from mall import access, days
from mall import query as q
from mall import tables as t
from mall.access import STAFF_ROLES, Principal
from mall.days import month_end
from mall.db import Database
from mall.org import overview, points
from mall.reports import tallies

#: the longest range one request may ask for
MAX_DAYS = 366
TOP_GOODS = 10
SUBMISSION_KINDS = ("proposal", "dispute", "wish")
SUBMISSION_STATUSES = ("open", "accepted", "resolved", "rejected")
#: the grid of residents who belong to none
NO_GRID = "-"


class ByPath(msgspec.Struct, frozen=True, kw_only=True):
    timely_help: int = 0
    adding_to_good: int = 0
    settling_disputes: int = 0


class Figures(msgspec.Struct, frozen=True, kw_only=True):
    """The figures of ``GET /communities/{slug}/stats`` (API.md), for one community or a total."""

    issued: int
    """Points of every award posted in the range; reversals are in ``reversed``, not netted."""
    issued_by_path: ByPath
    reversed: int
    """Points of the awards reversed in the range."""
    redeemed: int
    """Points of every order made in the range; refunds are in ``refunded``, not netted."""
    refunded: int
    earners: int
    """Residents with a posted award in the range."""
    redeemers: int
    """Residents with an order in the range."""
    residents: int
    """Residents now (closed records left out)."""
    outstanding: int
    """Points residents hold now, reserved ones included."""
    stock_value: int
    """Price × level of the goods on the community's shelves now, in points."""
    coverage: float | None
    """``stock_value / outstanding``; ``None`` when residents hold nothing. Under 1: the
    shelves hold fewer points of goods than residents hold (兑付能力不足)."""
    ratings: int = 0
    """Ratings residents gave in the range to their resolved submissions (1 to 5 stars)."""
    average_rating: float | None = None
    """Their average, to two places; ``None`` when there is none."""
    volunteer_tenths: int = 0
    """Volunteer hours, in tenths, of the activities settled in the range."""
    volunteer_tenths_by_path: ByPath = ByPath()

    @property
    def volunteer_hours(self) -> float:
        return self.volunteer_tenths / 10

    @property
    def volunteer_hours_by_path(self) -> dict[str, float]:
        return {k: getattr(self.volunteer_tenths_by_path, k) / 10 for k in points.PATHS}

    @property
    def short_of_goods(self) -> bool:
        return self.coverage is not None and self.coverage < 1


class RuleLine(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name: str
    path: str
    points: int


class GridLine(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    """The grid's code, ``NO_GRID`` for residents of none."""
    name: str
    points: int


class MonthLine(msgspec.Struct, frozen=True, kw_only=True):
    month: str
    """``YYYY-MM``."""
    points: int
    volunteer_tenths: int = 0
    """Volunteer hours, in tenths, of the activities settled in the month."""

    @property
    def volunteer_hours(self) -> float:
        return self.volunteer_tenths / 10


class RatingMonth(msgspec.Struct, frozen=True, kw_only=True):
    """The ratings residents gave in one month of the range (闭环满意度)."""

    month: str
    """``YYYY-MM``."""
    ratings: int
    stars: int
    """The stars added up."""
    average: float | None


class GoodsLine(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    quantity: int
    points: int


class Volunteering(msgspec.Struct, frozen=True, kw_only=True):
    activities: int
    signups: int
    checkins: int


class Submissions(msgspec.Struct, frozen=True, kw_only=True):
    by_kind: dict[str, int]
    """Every kind, 0 included."""
    by_status: dict[str, int]
    overdue: int
    """Filed in the range and still undecided past their due date now."""


class Report(msgspec.Struct, frozen=True, kw_only=True):
    """One community's statistics (or the street's total, slug ``""``) for ``start`` to ``end``."""

    slug: str
    name: str
    start: date
    end: date
    figures: Figures
    by_rule: list[RuleLine]
    by_grid: list[GridLine]
    by_month: list[MonthLine]
    top_goods: list[GoodsLine]
    volunteering: Volunteering
    submissions: Submissions
    ratings_by_month: list[RatingMonth] = []


class StreetReport(msgspec.Struct, frozen=True, kw_only=True):
    start: date
    end: date
    communities: list[Report]
    total: Report


#: ``YYYY-MM`` → its first and last day (``mall.days``, shared with the partners' settlement)
month = days.month


def window(start: date | None, end: date | None, *, today: date | None = None) -> tuple[date, date]:
    """The days asked for, both included: by default the calendar month of today (China time);
    with only ``start``, to the end of its month; with only ``end``, from the start of its month.
    A first day after the last, or more than ``MAX_DAYS``, is ``validation_error``."""
    if start is None and end is None:
        start = (today or days.today()).replace(day=1)
    if start is None:
        assert end is not None
        start = end.replace(day=1)
    if end is None:
        end = month_end(start)
    return days.window(start, end, default_days=1, max_days=MAX_DAYS)


def months(start: date, end: date) -> list[tuple[str, date, date]]:
    """Each calendar month the range touches, as ``(YYYY-MM, first day, last day)`` clipped."""
    found = []
    first = start
    while first <= end:
        last = min(month_end(first), end)
        found.append((f"{first:%Y-%m}", first, last))
        first = last + timedelta(days=1)
    return found


def average(stars: int, ratings: int) -> float | None:
    return None if ratings <= 0 else round(stars / ratings, 2)


def coverage(stock_value: int, outstanding: int) -> float | None:
    return None if outstanding <= 0 else round(stock_value / outstanding, 4)


async def community_report(
    db: Database,
    p: Principal,
    slug: str,
    *,
    start: date | None = None,
    end: date | None = None,
) -> Report:
    """One community's statistics: its staff, or a street administrator (anyone else is refused
    as ``access.community`` refuses)."""
    start, end = window(start, end)
    async with db.connection() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES)
        return await _report(conn, community, start, end)


async def street_report(
    db: Database, p: Principal, *, start: date | None = None, end: date | None = None
) -> StreetReport:
    """Every community by code and their total (street administrators only)."""
    access.require(p, ["admin"])
    start, end = window(start, end)
    C = t.Community
    async with db.connection() as conn:
        rows = await q.fetch(conn, C.select(C.id, C.slug, C.name, C.book).order_by(C.slug))
        found = [await _report(conn, row, start, end) for row in rows]
    return StreetReport(start=start, end=end, communities=found, total=total(found, start, end))


async def _report(conn: Connection, community: Row, start: date, end: date) -> Report:
    cid = int(community["id"])
    lo, hi = days.utc_bounds(start, end)
    redeemed, redeemers = await tallies.redemptions(conn, cid, lo, hi)
    outstanding = await overview.held_by_residents(conn, community["book"])
    stock_value = await catalog.stock_value(conn, cid)
    paths = await tallies.issued_by_path(conn, cid, lo, hi)
    ratings, stars = await tallies.ratings(conn, cid, lo, hi)
    served = await tallies.hours_by_path(conn, cid, lo, hi)
    figures = Figures(
        issued=sum(paths.values()),
        issued_by_path=ByPath(**{k: v for k, v in paths.items() if k in points.PATHS}),
        reversed=await tallies.reversed_points(conn, cid, lo, hi),
        redeemed=redeemed,
        refunded=await tallies.refunded(conn, cid, lo, hi),
        earners=await tallies.earners(conn, cid, lo, hi),
        redeemers=redeemers,
        residents=await tallies.residents(conn, cid),
        outstanding=outstanding,
        stock_value=stock_value,
        coverage=coverage(stock_value, outstanding),
        ratings=ratings,
        average_rating=average(stars, ratings),
        volunteer_tenths=sum(served.values()),
        volunteer_tenths_by_path=_by_path(served),
    )
    per_month, rated = [], []
    for label, first, last in months(start, end):
        bounds = days.utc_bounds(first, last)
        points_then = await tallies.issued(conn, cid, *bounds)
        served_then = sum((await tallies.hours_by_path(conn, cid, *bounds)).values())
        per_month.append(MonthLine(month=label, points=points_then, volunteer_tenths=served_then))
        n, total_stars = await tallies.ratings(conn, cid, *bounds)
        rated.append(
            RatingMonth(month=label, ratings=n, stars=total_stars, average=average(total_stars, n))
        )
    held, signups, checkins = await tallies.volunteering(conn, cid, lo, hi)
    filed, overdue = await tallies.submissions(conn, cid, lo, hi, datetime.now(UTC))
    return Report(
        slug=community["slug"],
        name=community["name"],
        start=start,
        end=end,
        figures=figures,
        by_rule=sorted(
            (RuleLine(**r) for r in await tallies.by_rule(conn, cid, lo, hi)),
            key=lambda r: (-r.points, r.code),
        ),
        by_grid=await _by_grid(conn, cid, lo, hi),
        by_month=per_month,
        top_goods=_top_goods(await tallies.goods(conn, cid, lo, hi)),
        volunteering=Volunteering(activities=held, signups=signups, checkins=checkins),
        submissions=_submissions(filed, overdue),
        ratings_by_month=rated,
    )


def _by_path(found: dict[str, int]) -> ByPath:
    return ByPath(**{k: v for k, v in found.items() if k in points.PATHS})


async def _by_grid(conn: Connection, cid: int, lo: datetime, hi: datetime) -> list[GridLine]:
    grids = {g["id"]: g for g in await tallies.grids(conn, cid)}
    lines = []
    for grid_id, pts in await tallies.by_grid(conn, cid, lo, hi):
        grid = grids.get(grid_id)
        code, name = (grid["code"], grid["name"]) if grid else (NO_GRID, "")
        lines.append(GridLine(code=code, name=name, points=pts))
    return sorted(lines, key=lambda g: (-g.points, g.code))


def _top_goods(rows: Sequence[Row]) -> list[GoodsLine]:
    """By item: its latest name, the quantity and the points at the prices paid; most points
    first, ``TOP_GOODS`` of them."""
    quantity: dict[int, int] = defaultdict(int)
    paid: dict[int, int] = defaultdict(int)
    names: dict[int, str] = {}
    for r in rows:
        quantity[r["item"]] += int(r["quantity"])
        paid[r["item"]] += int(r["quantity"]) * int(r["price_points"])
        names.setdefault(r["item"], r["name"])
    lines = [GoodsLine(name=names[i], quantity=quantity[i], points=paid[i]) for i in quantity]
    return sorted(lines, key=lambda g: (-g.points, -g.quantity, g.name))[:TOP_GOODS]


def _submissions(rows: Sequence[Row], overdue: int) -> Submissions:
    kinds = dict.fromkeys(SUBMISSION_KINDS, 0)
    statuses = dict.fromkeys(SUBMISSION_STATUSES, 0)
    for r in rows:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + r["count"]
        statuses[r["status"]] = statuses.get(r["status"], 0) + r["count"]
    return Submissions(by_kind=kinds, by_status=statuses, overdue=overdue)


def total(reports: list[Report], start: date, end: date) -> Report:
    """The street's total: every figure added up, coverage over the sums, rules by path and
    name, grids named with their community, months and goods added up."""
    f = [r.figures for r in reports]
    stock_value, outstanding = sum(x.stock_value for x in f), sum(x.outstanding for x in f)
    rated: dict[str, list[int]] = {m: [0, 0] for m, _, _ in months(start, end)}
    for r in reports:
        for line in r.ratings_by_month:
            rated[line.month][0] += line.ratings
            rated[line.month][1] += line.stars
    ratings, stars = sum(v[0] for v in rated.values()), sum(v[1] for v in rated.values())
    figures = Figures(
        issued=sum(x.issued for x in f),
        issued_by_path=ByPath(
            **{k: sum(getattr(x.issued_by_path, k) for x in f) for k in points.PATHS}
        ),
        reversed=sum(x.reversed for x in f),
        redeemed=sum(x.redeemed for x in f),
        refunded=sum(x.refunded for x in f),
        earners=sum(x.earners for x in f),
        redeemers=sum(x.redeemers for x in f),
        residents=sum(x.residents for x in f),
        outstanding=outstanding,
        stock_value=stock_value,
        coverage=coverage(stock_value, outstanding),
        ratings=ratings,
        average_rating=average(stars, ratings),
        volunteer_tenths=sum(x.volunteer_tenths for x in f),
        volunteer_tenths_by_path=ByPath(
            **{k: sum(getattr(x.volunteer_tenths_by_path, k) for x in f) for k in points.PATHS}
        ),
    )
    rules: dict[tuple[str, str], int] = defaultdict(int)
    month_points: dict[str, int] = defaultdict(int)
    month_tenths: dict[str, int] = defaultdict(int)
    goods: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in reports:
        for rule in r.by_rule:
            rules[(rule.path, rule.name)] += rule.points
        for m in r.by_month:
            month_points[m.month] += m.points
            month_tenths[m.month] += m.volunteer_tenths
        for g in r.top_goods:
            goods[g.name][0] += g.quantity
            goods[g.name][1] += g.points
    kinds = {k: sum(r.submissions.by_kind.get(k, 0) for r in reports) for k in SUBMISSION_KINDS}
    statuses = {
        s: sum(r.submissions.by_status.get(s, 0) for r in reports) for s in SUBMISSION_STATUSES
    }
    return Report(
        slug="",
        name="",
        start=start,
        end=end,
        figures=figures,
        by_rule=sorted(
            (RuleLine(code="", name=n, path=pth, points=v) for (pth, n), v in rules.items()),
            key=lambda x: (-x.points, x.name),
        ),
        by_grid=sorted(
            (
                GridLine(
                    code=f"{r.slug}/{g.code}", name=f"{r.name} {g.name}".strip(), points=g.points
                )
                for r in reports
                for g in r.by_grid
            ),
            key=lambda g: (-g.points, g.code),
        ),
        by_month=[
            MonthLine(month=m, points=month_points[m], volunteer_tenths=month_tenths[m])
            for m, _, _ in months(start, end)
        ],
        top_goods=sorted(
            (GoodsLine(name=n, quantity=v[0], points=v[1]) for n, v in goods.items()),
            key=lambda g: (-g.points, -g.quantity, g.name),
        )[:TOP_GOODS],
        volunteering=Volunteering(
            activities=sum(r.volunteering.activities for r in reports),
            signups=sum(r.volunteering.signups for r in reports),
            checkins=sum(r.volunteering.checkins for r in reports),
        ),
        submissions=Submissions(
            by_kind=kinds,
            by_status=statuses,
            overdue=sum(r.submissions.overdue for r in reports),
        ),
        ratings_by_month=[
            RatingMonth(month=m, ratings=n, stars=st, average=average(st, n))
            for m, (n, st) in rated.items()
        ],
    )
