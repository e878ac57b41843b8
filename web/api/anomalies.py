"""The street administrator's anomaly list through the API: ``GET /anomalies?from=&to=`` (admin).
The patterns and their thresholds live in ``mall.earning.anomalies``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.params import QueryParameter

from mall.earning import anomalies
from web.api.callers import allow
from web.deps import Caller, Db

From = Annotated[
    date | None,
    QueryParameter(name="from", description="first day (China time); default 30 days before `to`"),
]
To = Annotated[
    date | None,
    QueryParameter(name="to", description="last day, included (China time); default today"),
]


class Person(msgspec.Struct):
    id: int
    name: str


class RepeatedPayment(msgspec.Struct):
    community: str
    issuer: str
    resident: Person
    award_ids: list[int]
    points: int
    first_at: datetime
    last_at: datetime


class NearThreshold(msgspec.Struct):
    source: str
    """``rule`` (one award under its rule's threshold) or ``policy`` (one issuer's day for one
    resident under the community policy's)."""
    community: str
    issuer: str
    award_ids: list[int]
    points: int
    threshold: int
    rule: str | None
    residents: list[Person]
    at: datetime


class ReissuedCard(msgspec.Struct):
    community: str
    resident: Person
    cards: int
    last_issued_at: datetime
    last_issued_by: str | None


class ReversedAward(msgspec.Struct):
    community: str
    award_id: int
    issuer: str
    reverser: str | None
    points: int
    reason: str
    residents: list[Person]
    at: datetime


class Anomalies(msgspec.Struct):
    start: date
    end: date
    repeats: list[RepeatedPayment]
    near_threshold: list[NearThreshold]
    cards_reissued: list[ReissuedCard]
    reversals: list[ReversedAward]


class AnomalyController(Controller):
    tags = ["audit"]

    @get(
        "/anomalies",
        dependencies=allow(*anomalies.ADMIN_ROLES),
        summary="Anomalies to look at (street administrators)",
        description=(
            "Administrators only. Between `from` and `to` (China time, `to` included; by "
            f"default the last {anomalies.DEFAULT_DAYS} days): one issuer's "
            f"{anomalies.REPEAT_AWARDS} or more awards to one resident within "
            f"{anomalies.REPEAT_DAYS} days (`repeats`), awards within {anomalies.NEAR_PERCENT}% "
            "below an approval threshold (`near_threshold`), residents given a card more than "
            "once (`cards_reissued`) and reversed awards (`reversals`). A window longer than "
            f"{anomalies.MAX_DAYS} days, or `from` after `to`, is `validation_error`."
        ),
    )
    async def index(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        start: From = None,
        end: To = None,
    ) -> Anomalies:
        found = await anomalies.find(db, p, start, end)
        return msgspec.convert(found, Anomalies, from_attributes=True)
