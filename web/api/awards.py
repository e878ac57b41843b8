"""Earning through the API: rules, awards with four-eyes approval (API.md "Earning"), and, through
``web.api.submissions``, residents' submissions. ``ROUTES`` lists every controller of the area."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import JSONBody, QueryParameter
from litestar.types import ControllerRouterHandler
from msgspec import Meta

from mall.earning import award_records, awards, proposals, reversals, rules
from web.api.callers import STAFF, allow
from web.api.fields import MAX_ID, Id, IdempotencyKey, Limit, Name, Slug
from web.api.submissions import SubmissionController
from web.deps import Caller, Db
from web.idempotency import idempotency
from web.session import client_ip

Points = Annotated[int, Meta(ge=1, le=rules.MAX_POINTS)]
Cap = Annotated[int, Meta(ge=1, le=rules.MAX_CAP)]
Threshold = Annotated[int, Meta(ge=0, le=rules.MAX_CAP)]
ResidentId = Annotated[int, Meta(ge=1, le=MAX_ID)]
RuleCode = Annotated[str, Meta(max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")]
AwardStatus = Annotated[
    Literal["posted", "pending_approval", "rejected", "reversed"] | None,
    QueryParameter(description="only awards with this status"),
]


class NewRule(msgspec.Struct):
    code: RuleCode
    name: Name
    path: Literal["timely_help", "adding_to_good", "settling_disputes"]
    points: Points
    daily_cap: Cap | None = None
    """Points per resident per calendar day (China time), posted and pending awards counted."""
    monthly_cap: Cap | None = None
    """Points per resident per calendar month (China time)."""
    approval_threshold: Threshold | None = None
    """An award whose total is above this waits for a second staff member."""


class Rule(msgspec.Struct):
    id: int
    code: str
    name: str
    path: str
    points: int
    daily_cap: int | None
    monthly_cap: int | None
    approval_threshold: int | None
    active: bool


class RuleList(msgspec.Struct):
    rules: list[Rule]


class NewAward(msgspec.Struct):
    community: Annotated[str, Meta(max_length=63, pattern=r"^[a-z0-9-]+$")]
    rule: RuleCode
    resident_ids: Annotated[list[ResidentId], Meta(min_length=1, max_length=awards.MAX_RESIDENTS)]
    memo: Name
    """The reason, shown in each resident's passbook."""


class AwardStatusOut(msgspec.Struct):
    id: int
    status: str
    """``posted`` or ``pending_approval`` (``rejected`` after a rejection)."""


class Rejection(msgspec.Struct):
    reason: Name


class ReversalRequest(msgspec.Struct):
    reason: Annotated[str, Meta(min_length=1, max_length=reversals.MAX_REASON)]
    """Why the points are taken back; the residents' passbooks show it (``撤销：<reason>``)."""


class Reversed(msgspec.Struct):
    id: int
    status: str
    """``reversed``."""


class AwardedResident(msgspec.Struct):
    id: int
    name: str


class Award(msgspec.Struct):
    id: int
    community: str
    rule: str
    rule_name: str
    path: str
    memo: str
    points_each: int
    total: int
    status: str
    maker: str
    decider: str | None
    created_at: datetime
    decided_at: datetime | None
    journal_id: int | None
    residents: list[AwardedResident]
    rejection_reason: str = ""
    """Why it was not approved (``rejected`` only)."""
    reverser: str | None = None
    """Who reversed it (``reversed`` only)."""
    reversed_at: datetime | None = None
    reversal_reason: str = ""
    """Why it was reversed (``reversed`` only)."""


class AwardList(msgspec.Struct):
    awards: list[Award]


def award(found: award_records.Award) -> Award:
    return msgspec.convert(found, Award, from_attributes=True)


class RuleController(Controller):
    tags = ["earning"]

    @post(
        "/communities/{slug:str}/rules",
        dependencies=allow(*STAFF),
        summary="Create an earning rule",
        description=(
            "Staff of the community and administrators. `path` is one of `timely_help`, "
            "`adding_to_good`, `settling_disputes`; caps are points per resident per calendar "
            "day / month (China time); an award whose total is above `approval_threshold` "
            "waits for a second staff member. A code in use is `already_exists`."
        ),
    )
    async def create(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        slug: Slug,
        data: JSONBody[NewRule],
    ) -> Rule:
        made = await rules.create_rule(
            db,
            p,
            slug,
            data.code,
            data.name,
            data.path,
            data.points,
            daily_cap=data.daily_cap,
            monthly_cap=data.monthly_cap,
            approval_threshold=data.approval_threshold,
            ip=client_ip(request),
        )
        return msgspec.convert(made, Rule, from_attributes=True)

    @get(
        "/communities/{slug:str}/rules",
        dependencies=allow(*STAFF),
        summary="A community's earning rules",
        description="Staff of the community and administrators.",
    )
    async def index(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, slug: Slug
    ) -> RuleList:
        found = await rules.list_rules(db, p, slug)
        return RuleList(rules=[msgspec.convert(r, Rule, from_attributes=True) for r in found])


class AwardController(Controller):
    tags = ["earning"]

    @post(
        "/awards",
        dependencies=allow(*STAFF, "building_head"),
        summary="Award points to residents",
        description=(
            "Staff of the community and administrators; needs an `Idempotency-Key` header. "
            "Every resident gets the rule's points, from the community's budget, in one "
            "journal; `memo` is the reason they read in the passbook. Above the rule's "
            "approval threshold, or when it would take what this staff member issued to one "
            "of the residents today (China time; awards, settlements and submission rewards "
            "together) past the community policy's `approval_threshold`, the award is "
            "`pending_approval` until another staff member approves it. Refusals: "
            "`budget_exhausted`, `cap_exceeded` (naming the resident), `self_dealing` for an "
            "award to oneself, `not_found` for a resident of another "
            "community. The same key with the same body returns the first response again; "
            "with another body it is `idempotency_key_reused`. A building head (`building_head`) "
            "proposes: for residents of their own buildings and community only (else "
            "`forbidden`; themselves `self_dealing`), always `pending_approval` until a staff "
            "member approves it."
        ),
    )
    async def create(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        data: JSONBody[NewAward],
        idempotency_key: IdempotencyKey,  # declared for the OpenAPI document; mapped below
    ) -> AwardStatusOut:
        idem = await idempotency(request, principal=p.label())
        make = proposals.propose if p.role == "building_head" else awards.create_award
        made = await make(
            db,
            p,
            data.community,
            data.rule,
            data.resident_ids,
            data.memo,
            idempotency_key=idem.key,
            req_hash=idem.request_hash,
            ip=client_ip(request),
        )
        return msgspec.convert(made, AwardStatusOut, from_attributes=True)

    @post(
        "/awards/{award_id:int}/approve",
        dependencies=allow(*STAFF),
        status_code=200,
        summary="Approve a waiting award",
        description=(
            "Another staff member of the community (four eyes): the maker, or a staff member "
            "the award includes, is `forbidden`. Posts the award's journal now, checking the "
            "budget and caps again. An award already approved or rejected is `already_exists`."
        ),
    )
    async def approve(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, award_id: Id
    ) -> AwardStatusOut:
        made = await awards.approve(db, p, award_id, ip=client_ip(request))
        return msgspec.convert(made, AwardStatusOut, from_attributes=True)

    @post(
        "/awards/{award_id:int}/reject",
        dependencies=allow(*STAFF),
        status_code=200,
        summary="Reject a waiting award",
        description=(
            "Any staff member of the community, the maker too (withdrawing it); nothing is "
            "posted and the reason is kept in the audit log. An award already decided is "
            "`already_exists`."
        ),
    )
    async def reject(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        award_id: Id,
        data: JSONBody[Rejection],
    ) -> AwardStatusOut:
        made = await awards.reject(db, p, award_id, data.reason, ip=client_ip(request))
        return msgspec.convert(made, AwardStatusOut, from_attributes=True)

    @post(
        "/awards/{award_id:int}/reverse",
        dependencies=allow(*STAFF),
        summary="Reverse a posted award",
        description=(
            "Staff of the award's community and administrators; needs an `Idempotency-Key`. "
            "Every resident's points go back to the budget by one reversing journal, which "
            "their passbook shows with the reason. All or nothing: `insufficient_points` when a "
            "resident no longer has the points available (reservations' holds do not count). "
            "A second reversal is `already_reversed`; an award not posted (waiting or rejected) "
            "is `validation_error`; an award that includes the caller's own resident record "
            "is `self_dealing`; another community's is `not_found`."
        ),
    )
    async def reverse(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        award_id: Id,
        data: JSONBody[ReversalRequest],
        idempotency_key: IdempotencyKey,  # declared for the OpenAPI document; mapped below
    ) -> Reversed:
        idem = await idempotency(request, principal=p.label())
        done = await reversals.reverse_award(
            db,
            p,
            award_id,
            data.reason,
            idempotency_key=idem.key,
            req_hash=idem.request_hash,
            ip=client_ip(request),
        )
        return Reversed(id=done.id, status=done.status)

    @get(
        "/awards/{award_id:int}",
        dependencies=allow(*STAFF),
        summary="An award",
        description="Staff of its community and administrators; anyone else's is `not_found`.",
    )
    async def show(self, request: Request[Any, Any, Any], db: Db, p: Caller, award_id: Id) -> Award:
        return award(await award_records.get_award(db, p, award_id))

    @get(
        "/communities/{slug:str}/awards",
        dependencies=allow(*STAFF),
        summary="A community's awards",
        description=(
            "Staff of the community and administrators: newest first, with their residents; "
            "`status=pending_approval` lists those waiting for approval."
        ),
    )
    async def index(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        slug: Slug,
        status: AwardStatus = None,
        limit: Limit = 50,
    ) -> AwardList:
        found = await award_records.list_awards(db, p, slug, status=status, limit=limit)
        return AwardList(awards=[award(a) for a in found])


ROUTES: list[ControllerRouterHandler] = [RuleController, AwardController, SubmissionController]
