"""Submission pages: residents file a proposal, dispute report or micro-wish and follow their own;
staff work the queue (overdue first), decide, award by a rule, and set the days per kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from mall.access import STAFF_ROLES, Principal
from mall.db import Database
from mall.earning import ratings, rules, submissions
from mall.errors import N_, Invalid, MallError
from web.deps import Db
from web.pages.common import (
    EXCEPTION_HANDLERS,
    FORM,
    form_status,
    message,
    no_store,
    resident,
    see_other,
    user,
    when,
)
from web.pages.staff import community_of
from web.render import render
from web.session import client_ip

KIND_WORDS = {
    "proposal": N_("Proposal"),
    "dispute": N_("Dispute report"),
    "wish": N_("Micro-wish"),
}
STATUS_WORDS = {
    "open": N_("Waiting"),
    "accepted": N_("Accepted"),
    "resolved": N_("Resolved"),
    "rejected": N_("Not accepted"),
}
DECISION_WORDS = {
    "accept": N_("Accept"),
    "resolve": N_("Resolve"),
    "reject": N_("Reject"),
}


@dataclass
class SubmissionForm:
    kind: str = ""
    title: str = ""
    body: str = ""


@dataclass
class RatingForm:
    stars: str = ""
    comment: str = ""


@dataclass
class DecisionForm:
    decision: str = ""
    reason: str = ""
    rule: str = ""
    helper: str = ""
    reward_to: str = "helper"


@dataclass
class DeadlineForm:
    proposal: str = ""
    dispute: str = ""
    wish: str = ""
    community: str = ""


def words() -> dict[str, Any]:
    return {
        "kinds": KIND_WORDS,
        "statuses": STATUS_WORDS,
        "decisions": DECISION_WORDS,
        "when": when,
    }


def whole(value: str) -> int:
    value = (value or "").strip()
    if not value.isdigit() or len(value) > 9:
        raise Invalid(N_("Please enter a whole number."))
    return int(value)


class ResidentSubmissionController(Controller):
    path = "/me/submissions"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/")
    async def mine(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        filed: FromQuery[int | None] = None,
        rated: FromQuery[int | None] = None,
    ) -> Response[Any]:
        p = await resident(request, db)
        found = await submissions.mine(db, p)
        return no_store(
            render(
                request,
                "earning/my_submissions.html",
                found=found,
                filed=filed,
                rated=rated,
                rating_error=None,
                **words(),
            )
        )

    @post("/{submission_id:int}/rating")
    async def rate(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        submission_id: FromPath[int],
        data: Annotated[RatingForm, FORM],
    ) -> Response[Any]:
        p = await resident(request, db)
        try:
            stars = data.stars.strip()
            if not stars.isdigit() or len(stars) > 1:
                raise Invalid(N_("Please choose from 1 to 5 stars."))
            await ratings.rate(db, p, submission_id, int(stars), data.comment)
        except MallError as exc:
            return no_store(
                render(
                    request,
                    "earning/my_submissions.html",
                    status_code=exc.status if exc.status in (404, 409) else 400,
                    found=await submissions.mine(db, p),
                    filed=None,
                    rated=None,
                    rating_error=(submission_id, message(exc)),
                    **words(),
                )
            )
        return see_other(f"/me/submissions?rated={submission_id}")

    @get("/new")
    async def new(
        self, request: Request[Any, Any, Any], db: Db, kind: FromQuery[str] = ""
    ) -> Response[Any]:
        await resident(request, db)
        form = SubmissionForm(kind=kind if kind in submissions.KINDS else "")
        return no_store(
            render(request, "earning/submission_new.html", form=form, error=None, **words())
        )

    @post("/")
    async def file(
        self, request: Request[Any, Any, Any], db: Db, data: Annotated[SubmissionForm, FORM]
    ) -> Response[Any]:
        p = await resident(request, db)
        try:
            made = await submissions.file(db, p, data.kind, data.title, data.body)
        except MallError as exc:
            return no_store(
                render(
                    request,
                    "earning/submission_new.html",
                    status_code=form_status(exc),
                    form=data,
                    error=message(exc),
                    **words(),
                )
            )
        return see_other(f"/me/submissions?filed={made.id}")


class StaffSubmissionController(Controller):
    path = "/staff/submissions"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/")
    async def queue(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        status: FromQuery[str] = "",
        community: FromQuery[str] = "",
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        slug = community_of(p, community)
        status = status if status in submissions.STATUSES else ""
        found = await submissions.queue(db, p, slug, status=status or None) if slug else []
        days = await submissions.deadlines(db, p, slug) if slug else None
        return no_store(
            render(
                request,
                "earning/submissions.html",
                fragment="queue",
                me=p,
                slug=slug,
                status=status,
                found=found,
                days=days,
                error=None,
                **words(),
            )
        )

    async def _detail(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        p: Principal,
        submission_id: int,
        form: DecisionForm | None = None,
        error: str | None = None,
        status: int = 200,
    ) -> Response[Any]:
        found = await submissions.get(db, p, submission_id)
        slug = found.community_slug
        return no_store(
            render(
                request,
                "earning/submission.html",
                status_code=status,
                me=p,
                slug=slug,
                s=found,
                rules=[r for r in await rules.list_rules(db, p, slug) if r.active],
                form=form or DecisionForm(),
                error=error,
                **words(),
            )
        )

    @get("/{submission_id:int}")
    async def detail(
        self, request: Request[Any, Any, Any], db: Db, submission_id: FromPath[int]
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        return await self._detail(request, db, p, submission_id)

    @post("/{submission_id:int}/decision")
    async def decide(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        submission_id: FromPath[int],
        data: Annotated[DecisionForm, FORM],
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        try:
            helper = whole(data.helper) if data.helper.strip() else None
            await submissions.decide(
                db,
                p,
                submission_id,
                data.decision,
                reason=data.reason,
                rule=data.rule or None,
                helper_id=helper,
                reward_to=data.reward_to if helper is not None else None,
                ip=client_ip(request),
            )
        except MallError as exc:
            status = exc.status if exc.status in (403, 404, 409) else 400
            return await self._detail(request, db, p, submission_id, data, message(exc), status)
        return see_other(f"/staff/submissions/{submission_id}")

    @post("/deadlines")
    async def deadlines(
        self, request: Request[Any, Any, Any], db: Db, data: Annotated[DeadlineForm, FORM]
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        slug = community_of(p, data.community)
        try:
            days = {
                kind: whole(getattr(data, kind))
                for kind in submissions.KINDS
                if getattr(data, kind).strip()
            }
            await submissions.set_deadlines(db, p, slug, days, ip=client_ip(request))
        except MallError as exc:
            return no_store(
                render(
                    request,
                    "earning/submissions.html",
                    status_code=form_status(exc),
                    me=p,
                    slug=slug,
                    status="",
                    found=await submissions.queue(db, p, slug),
                    days=await submissions.deadlines(db, p, slug),
                    error=message(exc),
                    **words(),
                )
            )
        return see_other("/staff/submissions" + ("" if p.community_slug else f"?community={slug}"))
