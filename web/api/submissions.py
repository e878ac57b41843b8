"""Residents' submissions through the API: proposals, dispute reports and micro-wishes, their due
dates per kind, and staff decisions that may award points (API.md "Earning")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.datastructures import CacheControlHeader
from litestar.params import JSONBody, QueryParameter
from msgspec import Meta

from mall.earning import ratings, submissions
from web.api.callers import RESIDENT, STAFF, allow
from web.api.fields import MAX_ID, NO_CONTROL, Id, Limit, Name, Slug
from web.deps import Caller, Db
from web.session import client_ip

Kind = Literal["proposal", "dispute", "wish"]
Days = Annotated[int, Meta(ge=1, le=submissions.MAX_DAYS)]
Status = Annotated[
    Literal["open", "accepted", "resolved", "rejected"] | None,
    QueryParameter(description="only submissions with this status"),
]


class NewSubmission(msgspec.Struct):
    kind: Kind
    title: Annotated[str, Meta(max_length=100, pattern=NO_CONTROL)]
    body: Annotated[str, Meta(max_length=4000)] = ""
    """Several lines allowed."""


class Filed(msgspec.Struct):
    id: int
    status: str
    due_at: datetime


class Submission(msgspec.Struct):
    id: int
    kind: str
    title: str
    body: str
    status: str
    """``open``, ``accepted``, ``resolved`` or ``rejected``."""
    created_at: datetime
    due_at: datetime
    overdue: bool
    """Due date passed and not resolved or rejected."""
    decided_at: datetime | None
    reason: str
    rule: str | None
    award: int | None
    """The award its decision made, if any."""
    award_status: str | None
    resident: int
    resident_name: str
    helper: int | None
    helper_name: str | None
    stars: int | None = None
    """The filer's rating once resolved (1 to 5), null until rated."""
    rating_comment: str = ""
    rated_at: datetime | None = None


class SubmissionList(msgspec.Struct):
    submissions: list[Submission]


class Decision(msgspec.Struct):
    decision: Literal["accept", "reject", "resolve"]
    reason: Name = ""
    """Required to reject."""
    rule: Annotated[str, Meta(max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")] | None = None
    """Award this rule's points to one resident: the filer, or the helper (`reward_to`)."""
    helper_id: Annotated[int, Meta(ge=1, le=MAX_ID)] | None = None
    """For a micro-wish: the neighbour who fulfilled it (a resident of the community)."""
    reward_to: Literal["filer", "helper"] | None = None
    """Whom the rule's points go to; default: the helper when `helper_id` is given, else the
    filer."""


class NewRating(msgspec.Struct):
    stars: Annotated[int, Meta(ge=1, le=5)]
    comment: Annotated[str, Meta(max_length=ratings.COMMENT_MAX, pattern=NO_CONTROL)] = ""


class Rated(msgspec.Struct):
    submission: int
    stars: int
    comment: str
    created_at: datetime


class Deadlines(msgspec.Struct):
    proposal: Days | None = None
    dispute: Days | None = None
    wish: Days | None = None


class DeadlinesOut(msgspec.Struct):
    proposal: int
    dispute: int
    wish: int


def submission(found: submissions.Submission) -> Submission:
    return msgspec.convert(found, Submission, from_attributes=True)


class SubmissionController(Controller):
    tags = ["earning"]
    cache_control = CacheControlHeader(no_store=True)

    @post(
        "/me/submissions",
        dependencies=allow(*RESIDENT),
        summary="File a proposal, dispute report or micro-wish",
        description=(
            "The signed-in resident. `due_at` is when the community promises a decision "
            "(days per kind, set by staff; by default dispute 3, proposal 7, wish 14)."
        ),
    )
    async def file(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, data: JSONBody[NewSubmission]
    ) -> Filed:
        made = await submissions.file(db, p, data.kind, data.title, data.body)
        return msgspec.convert(made, Filed, from_attributes=True)

    @get(
        "/me/submissions",
        dependencies=allow(*RESIDENT),
        summary="My submissions",
        description="The signed-in resident's own submissions, newest first, with their status.",
    )
    async def mine(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, limit: Limit = 50
    ) -> SubmissionList:
        found = await submissions.mine(db, p, limit=limit)
        return SubmissionList(submissions=[submission(s) for s in found])

    @post(
        "/me/submissions/{submission_id:int}/rating",
        dependencies=allow(*RESIDENT),
        summary="Rate how a resolved submission was handled",
        description=(
            "Its filer only, once it is resolved: 1 to 5 `stars` and an optional `comment`. "
            "Before it is resolved `validation_error`; a second rating `already_rated` (409, "
            "the first one stands); anyone else's submission `not_found`."
        ),
    )
    async def rate(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        submission_id: Id,
        data: JSONBody[NewRating],
    ) -> Rated:
        made = await ratings.rate(db, p, submission_id, data.stars, data.comment)
        return msgspec.convert(made, Rated, from_attributes=True)

    @get(
        "/communities/{slug:str}/submissions",
        dependencies=allow(*STAFF),
        summary="A community's submissions",
        description=(
            "Staff of the community and administrators: overdue first (`overdue`), then by "
            "due date."
        ),
    )
    async def queue(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        slug: Slug,
        status: Status = None,
        limit: Limit = 100,
    ) -> SubmissionList:
        found = await submissions.queue(db, p, slug, status=status, limit=limit)
        return SubmissionList(submissions=[submission(s) for s in found])

    @get(
        "/submissions/{submission_id:int}",
        dependencies=allow(*STAFF, *RESIDENT),
        summary="A submission",
        description=(
            "Its filer, or staff of its community and administrators; anyone else gets `not_found`."
        ),
    )
    async def show(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, submission_id: Id
    ) -> Submission:
        return submission(await submissions.get(db, p, submission_id))

    @post(
        "/submissions/{submission_id:int}/decision",
        dependencies=allow(*STAFF),
        status_code=200,
        summary="Decide on a submission",
        description=(
            "Staff of its community. `accept` (from open), `resolve` (from open or accepted), "
            "`reject` (from open or accepted, `reason` required). With `rule`, the rule's "
            "points go, as an award (budget, caps, the daily threshold and approval apply), "
            "to the neighbour who fulfilled a micro-wish (`helper_id`) when one is named, "
            "otherwise to the filer; `reward_to` (`filer` or `helper`) chooses. A decision the "
            "status does not allow is `already_exists` (409)."
        ),
    )
    async def decide(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        submission_id: Id,
        data: JSONBody[Decision],
    ) -> Submission:
        return submission(
            await submissions.decide(
                db,
                p,
                submission_id,
                data.decision,
                reason=data.reason,
                rule=data.rule,
                helper_id=data.helper_id,
                reward_to=data.reward_to,
                ip=client_ip(request),
            )
        )

    @get(
        "/communities/{slug:str}/submission-deadlines",
        dependencies=allow(*STAFF),
        summary="Days to decide each kind of submission",
        description="Staff of the community and administrators.",
    )
    async def deadlines(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, slug: Slug
    ) -> DeadlinesOut:
        found = await submissions.deadlines(db, p, slug)
        return msgspec.convert(found, DeadlinesOut, from_attributes=True)

    @put(
        "/communities/{slug:str}/submission-deadlines",
        dependencies=allow(*STAFF),
        summary="Change the days to decide each kind",
        description=(
            "Staff of the community and administrators: days (1 to 365) for the kinds given; "
            "submissions filed from now on get the new due date."
        ),
    )
    async def set_deadlines(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        slug: Slug,
        data: JSONBody[Deadlines],
    ) -> DeadlinesOut:
        days = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
        found = await submissions.set_deadlines(db, p, slug, days, ip=client_ip(request))
        return msgspec.convert(found, DeadlinesOut, from_attributes=True)
