"""Statistics through the API (API.md "v1.1 additions — Transparency"): one community's figures
for its staff or an administrator, and every community's with the street's total."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.datastructures import CacheControlHeader
from litestar.params import QueryParameter
from litestar.types import ControllerRouterHandler

from mall.reports import stats
from web.api.callers import STAFF, allow
from web.api.fields import Slug
from web.deps import Caller, Db

From = Annotated[
    date | None,
    QueryParameter(name="from", description="first day (China time); default the month's first"),
]
To = Annotated[
    date | None,
    QueryParameter(
        name="to", description="last day, included (China time); default the month's last"
    ),
]
RANGE = (
    "Between `from` and `to` (China time, `to` included; by default the current calendar "
    "month). `issued` counts every award posted in the range and `reversed` the awards "
    "reversed in it (not netted); `redeemed` every order made in it and `refunded` the "
    "refunds in it; `residents`, `outstanding` (points residents hold, reserved ones "
    "included) and `stock_value` (price × level of the goods on the shelves) are now; "
    "`coverage` = stock_value / outstanding, null when residents hold nothing. `ratings` counts "
    "the ratings (1 to 5 stars) filers gave their resolved submissions in the range, "
    "`average_rating` their average to two places, null when there is none. `volunteer_hours` "
    "(and `volunteer_hours_by_path`) adds up the hours of the activities settled in the "
    "range. A date that is not "
    f"YYYY-MM-DD, `from` after `to` or more than {stats.MAX_DAYS} days is `validation_error`."
)


class ByPath(msgspec.Struct):
    timely_help: int
    adding_to_good: int
    settling_disputes: int


class HoursByPath(msgspec.Struct):
    timely_help: float
    adding_to_good: float
    settling_disputes: float


class Figures(msgspec.Struct):
    issued: int
    issued_by_path: ByPath
    reversed: int
    redeemed: int
    refunded: int
    earners: int
    redeemers: int
    residents: int
    outstanding: int
    stock_value: int
    coverage: float | None
    ratings: int
    average_rating: float | None
    volunteer_hours: float
    """Volunteer hours of the activities settled in the range (kept in tenths of an hour)."""
    volunteer_hours_by_path: HoursByPath


class CommunityFigures(Figures):
    slug: str


class StreetFigures(msgspec.Struct):
    communities: list[CommunityFigures]
    total: Figures


class StatsController(Controller):
    tags = ["transparency"]
    dependencies = allow(*STAFF)

    @get(
        "/communities/{slug:str}/stats",
        summary="A community's statistics",
        cache_control=CacheControlHeader(no_store=True),
        description="Staff of the community and administrators. " + RANGE,
    )
    async def community(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        slug: Slug,
        start: From = None,
        end: To = None,
    ) -> Figures:
        found = await stats.community_report(db, p, slug, start=start, end=end)
        return msgspec.convert(found.figures, Figures, from_attributes=True)

    @get(
        "/stats",
        summary="The street's statistics: every community and the total",
        cache_control=CacheControlHeader(no_store=True),
        description="Administrators only. Every community by code, then the total. " + RANGE,
    )
    async def street(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        start: From = None,
        end: To = None,
    ) -> StreetFigures:
        found = await stats.street_report(db, p, start=start, end=end)
        return StreetFigures(
            communities=[
                CommunityFigures(slug=r.slug, **msgspec.structs.asdict(convert(r.figures)))
                for r in found.communities
            ],
            total=convert(found.total.figures),
        )


def convert(figures: stats.Figures) -> Figures:
    return msgspec.convert(figures, Figures, from_attributes=True)


ROUTES: list[ControllerRouterHandler] = [StatsController]
