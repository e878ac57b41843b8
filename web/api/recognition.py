"""Volunteer hours and recognition through the API (issue #20): staff correct one attendee's
hours before settlement; a resident reads their hours and star level and opts in to or out of
the ranking; anyone reads a community's ranking (积分榜) of the residents who opted in. The rules
are in ``mall.earning.hours``, ``mall.earning.sheet``, ``mall.people.preferences`` and
``mall.reports.ranking``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.datastructures import CacheControlHeader
from litestar.params import JSONBody, QueryParameter
from litestar.types import ControllerRouterHandler

from mall.earning import hours, sheet
from mall.people import preferences
from mall.reports import ranking
from web.api.callers import RESIDENT, STAFF, allow
from web.api.fields import Id, Slug
from web.deps import Caller, Db
from web.session import client_ip

By = Annotated[
    Literal["points", "hours"],
    QueryParameter(description="`points` earned this year (the default) or volunteer `hours`"),
]


class HoursBody(msgspec.Struct, forbid_unknown_fields=True):
    resident_id: int
    hours: float
    """0 to 200, at most one decimal (e.g. `1.5`)."""


class HoursSet(msgspec.Struct):
    activity_id: int
    resident_id: int
    hours: float


class MyHours(msgspec.Struct):
    year: int
    year_hours: float
    """Volunteer hours from activities settled this calendar year (China time)."""
    total_hours: float
    """Volunteer hours in all."""
    stars: int
    """Star volunteer level (星级志愿者), 0 to 5, of the hours in all."""
    next_star_hours: int | None
    """Hours in all the next star needs; null at five stars."""
    ranking_opt_in: bool
    """Whether I appear (masked) on my community's ranking."""


class OptIn(msgspec.Struct, forbid_unknown_fields=True):
    ranking_opt_in: bool


class Entry(msgspec.Struct):
    rank: int
    name: str
    """Masked: the surname, then `*` (张晓明 → 张**)."""
    points: int
    hours: float
    stars: int


class Ranking(msgspec.Struct):
    community: str
    by: str
    year: int
    star_hours: list[int]
    entries: list[Entry]


class RecognitionController(Controller):
    tags = ["community"]
    cache_control = CacheControlHeader(no_store=True)

    @post(
        "/activities/{activity_id:int}/hours",
        dependencies=allow(*STAFF),
        status_code=200,
        summary="Correct one attendee's volunteer hours",
        description=(
            "Staff of the activity's community, before settlement (after it, "
            "`validation_error`): the attendee's hours instead of the activity's, e.g. for "
            "someone who left early. A resident not checked in is `not_found`; the caller's "
            "own resident record is `self_dealing`."
        ),
    )
    async def set_hours(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        activity_id: Id,
        data: JSONBody[HoursBody],
    ) -> HoursSet:
        made = await sheet.set_hours(
            db, p, activity_id, data.resident_id, hours.tenths(data.hours), ip=client_ip(request)
        )
        return HoursSet(
            activity_id=made.activity_id,
            resident_id=made.resident_id,
            hours=hours.as_hours(made.hours_tenths),
        )

    @get(
        "/me/hours",
        dependencies=allow(*RESIDENT),
        summary="My volunteer hours and star level",
        description="Hours this year and in all, the star level, and whether I am on the ranking.",
    )
    async def my_hours(self, request: Request[Any, Any, Any], db: Db, p: Caller) -> MyHours:
        found = await hours.my_hours(db, p)
        return MyHours(
            year=found.year,
            year_hours=found.year_hours,
            total_hours=found.total_hours,
            stars=found.stars,
            next_star_hours=found.next_star_hours,
            ranking_opt_in=await preferences.ranking_opt_in(db, p),
        )

    @put(
        "/me/ranking",
        dependencies=allow(*RESIDENT),
        summary="Opt in to or out of the ranking",
        description=(
            "`ranking_opt_in: true` shows me, with my name masked, on my community's public "
            "ranking; `false` (the default for everyone) takes me off at once."
        ),
    )
    async def opt_in(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, data: JSONBody[OptIn]
    ) -> OptIn:
        shown = await preferences.set_ranking_opt_in(
            db, p, data.ranking_opt_in, ip=client_ip(request)
        )
        return OptIn(ranking_opt_in=shown)

    @get(
        "/communities/{slug:str}/ranking",
        summary="A community's ranking (积分榜)",
        description=(
            "No sign-in. The residents who opted in, by `points` earned this calendar year "
            "(China time; awards posted and not reversed) or by volunteer `hours` this year, "
            f"at most {ranking.TOP}, with their star level from their hours in all (the "
            "policy's `star_hours`). Names are masked; no full name, phone or resident id "
            "appears, and residents who have not opted in never do (nor, at once, those who opt "
            "out: the answer is never cached). An unknown community is "
            "`not_found`."
        ),
    )
    async def show(
        self, request: Request[Any, Any, Any], db: Db, slug: Slug, by: By = "points"
    ) -> Ranking:
        found = await ranking.ranking(db, slug, by)
        return Ranking(
            community=found.community,
            by=found.by,
            year=found.year,
            star_hours=list(found.star_hours),
            entries=[
                Entry(rank=e.rank, name=e.name, points=e.points, hours=e.hours, stars=e.stars)
                for e in found.entries
            ],
        )


ROUTES: list[ControllerRouterHandler] = [RecognitionController]
