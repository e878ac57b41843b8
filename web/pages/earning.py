"""Staff pages for earning: the dashboard (budget, approvals waiting, overdue submissions), issuing
points (发积分) to one or many residents, and approvals (four eyes). Rules have their pages in
``web.pages.rules``, submissions in ``web.pages.submissions``; ``ROUTES`` lists every controller.

Every form works without JavaScript and answers a POST with a 303; the issue form carries a
hidden idempotency key, so a double tap posts one award.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.types import ControllerRouterHandler

import ledger
from mall.access import STAFF_ROLES, Principal
from mall.db import Database
from mall.earning import award_records, awards, rules, submissions
from mall.errors import N_, Invalid, MallError
from mall.org import communities, policy
from mall.people import code_lookup, residents
from mall.reports import objections
from web import qr
from web.deps import Db
from web.idempotency import idempotency, new_key
from web.pages.common import (
    EXCEPTION_HANDLERS,
    FORM,
    form_status,
    message,
    no_store,
    see_other,
    user,
    when,
)
from web.pages.notice import public_url
from web.pages.policy import PolicyController
from web.pages.reversals import ReversalController
from web.pages.rules import PATH_WORDS, RuleController
from web.pages.staff import community_of
from web.pages.submissions import (
    KIND_WORDS,
    ResidentSubmissionController,
    StaffSubmissionController,
)
from web.render import render
from web.session import client_ip

#: how many of the latest awards the approvals page lists under the waiting ones
RECENT_AWARDS = 30
#: award status → words
AWARD_WORDS = {
    "posted": N_("Points issued"),
    "pending_approval": N_("Waiting for approval"),
    "rejected": N_("Not approved"),
    "reversed": N_("Reversed"),
}


@dataclass
class RejectForm:
    reason: str = ""
    community: str = ""


def ids(values: list[str]) -> list[int]:
    """Resident ids from checkboxes or hidden fields, in order, once each; junk is skipped."""
    found: list[int] = []
    for value in values:
        if value.isdigit() and len(value) < 10 and int(value) not in found:
            found.append(int(value))
    return found


def suffix(p: Principal, slug: str) -> str:
    """``?community=...`` for a street administrator, who names the community on every page."""
    return "" if p.community_slug else f"?community={slug}"


class EarningController(Controller):
    path = "/staff"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/earning")
    async def dashboard(
        self, request: Request[Any, Any, Any], db: Db, community: FromQuery[str] = ""
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        slug = community_of(p, community)
        context: dict[str, Any] = {"me": p, "slug": slug, "kinds": KIND_WORDS, "when": when}
        if slug:
            context["budget"] = await communities.budget(db, p, slug)
            context["policy"] = await policy.get_policy(db, p, slug)
            context["pending"] = await award_records.count_pending(db, p, slug)
            queue = await submissions.queue(db, p, slug, limit=200)
            context["overdue"] = [s for s in queue if s.overdue]
            context["waiting"] = sum(1 for s in queue if s.status == submissions.OPEN)
            context["objections"] = await objections.community_objections(
                db, p, slug, status=objections.OPEN
            )
            context["notice_url"] = public_url(slug)
            context["notice_qr"] = await qr.render(public_url(slug), cache=True)
        return no_store(render(request, "earning/dashboard.html", **context))

    async def _issue_page(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        p: Principal,
        slug: str,
        *,
        q: str = "",
        grid: str = "",
        picked: list[int] | None = None,
        rule: str = "",
        memo: str = "",
        key: str = "",
        error: str | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        picked = picked or []
        found = await residents.list_residents(
            db, p, slug, query=q, grid=grid.strip() or None, status="open", limit=200
        )
        chosen = []
        if picked:  # looked up by id: anyone of the community, not only the first 200 by name
            by_id = {
                r.id: r for r in await residents.list_residents(db, p, slug, ids=picked, limit=200)
            }
            chosen = [by_id[i] for i in picked if i in by_id]
        shown = chosen + [r for r in found if r.id not in picked]
        return no_store(
            render(
                request,
                "earning/issue.html",
                status_code=status_code,
                me=p,
                slug=slug,
                q=q,
                grid=grid,
                picked=picked,
                shown=shown,
                rules=[r for r in await rules.list_rules(db, p, slug) if r.active],
                rule=rule,
                memo=memo,
                key=key or new_key(),
                error=error,
                paths=PATH_WORDS,
            )
        )

    @get("/awards/new")
    async def issue_page(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        q: FromQuery[str] = "",
        grid: FromQuery[str] = "",
        rule: FromQuery[str] = "",
        community: FromQuery[str] = "",
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        slug = community_of(p, community)
        if not slug:
            return no_store(render(request, "earning/issue.html", me=p, slug=""))
        picked = ids(request.query_params.getall("picked", []))
        return await self._issue_page(
            request, db, p, slug, q=q, grid=grid, picked=picked, rule=rule
        )

    @post("/awards/find")
    async def find(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        """A pay code or card code (with PIN) typed or scanned: add that resident to the list."""
        p = await user(request, db, STAFF_ROLES)
        form = await request.form()
        slug = community_of(p, form.get("community", ""))
        picked = ids(form.getall("picked", []))
        try:
            found = await code_lookup.find_resident_by_code(
                db,
                p,
                form.get("code", ""),
                form.get("pin", "") or None,
                ip=client_ip(request),
            )
        except MallError as exc:
            return await self._issue_page(
                request,
                db,
                p,
                slug,
                picked=picked,
                rule=form.get("rule", ""),
                error=message(exc),
                status_code=form_status(exc),
            )
        if found.id not in picked:
            picked.append(found.id)
        query = "&".join(f"picked={i}" for i in picked)
        if not p.community_slug:
            query += f"&community={slug}"
        return see_other(f"/staff/awards/new?{query}")

    @post("/awards")
    async def issue(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        form = await request.form()
        slug = community_of(p, form.get("community", ""))
        chosen = ids(form.getall("resident", []))
        rule, memo, key = form.get("rule", ""), form.get("memo", ""), form.get("key", "")
        try:
            idem = await idempotency(request, p.label())
            made = await awards.create_award(
                db,
                p,
                slug,
                rule,
                chosen,
                memo,
                idempotency_key=idem.key,
                req_hash=idem.request_hash,
                ip=client_ip(request),
            )
        except (MallError, ledger.IdempotencyKeyReused) as exc:
            text = (
                message(exc)
                if isinstance(exc, MallError)
                else message(Invalid(N_("This form was already sent with other choices.")))
            )
            return await self._issue_page(
                request,
                db,
                p,
                slug,
                picked=chosen,
                rule=rule,
                memo=memo,
                key=key if isinstance(exc, MallError) else "",
                error=text,
                status_code=form_status(exc) if isinstance(exc, MallError) else 400,
            )
        return see_other(f"/staff/awards/{made.id}{suffix(p, slug)}")

    @get("/awards/{award_id:int}")
    async def award_page(
        self, request: Request[Any, Any, Any], db: Db, award_id: FromPath[int]
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        found = await award_records.get_award(db, p, award_id)
        return no_store(
            render(
                request,
                "earning/award.html",
                me=p,
                award=found,
                when=when,
                words=AWARD_WORDS,
                paths=PATH_WORDS,
            )
        )

    async def _approvals_page(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        p: Principal,
        slug: str,
        error: str | None = None,
        status: int = 200,
    ) -> Response[Any]:
        waiting = (
            await award_records.list_awards(db, p, slug, status=award_records.PENDING)
            if slug
            else []
        )
        # the latest awards of every state, so a mistaken one can be found and reversed
        recent = await award_records.list_awards(db, p, slug, limit=RECENT_AWARDS) if slug else []
        return no_store(
            render(
                request,
                "earning/approvals.html",
                status_code=status,
                me=p,
                slug=slug,
                waiting=waiting,
                recent=recent,
                words=AWARD_WORDS,
                error=error,
                when=when,
                paths=PATH_WORDS,
            )
        )

    @get("/approvals")
    async def approvals(
        self, request: Request[Any, Any, Any], db: Db, community: FromQuery[str] = ""
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        return await self._approvals_page(request, db, p, community_of(p, community))

    @post("/awards/{award_id:int}/approve")
    async def approve(
        self, request: Request[Any, Any, Any], db: Db, award_id: FromPath[int]
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        form = await request.form()
        slug = community_of(p, form.get("community", ""))
        try:
            await awards.approve(db, p, award_id, ip=client_ip(request))
        except MallError as exc:
            return await self._approvals_page(
                request, db, p, slug, message(exc), exc.status if exc.status in (403, 409) else 400
            )
        return see_other(f"/staff/awards/{award_id}{suffix(p, slug)}")

    @post("/awards/{award_id:int}/reject")
    async def reject(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        award_id: FromPath[int],
        data: Annotated[RejectForm, FORM],
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        slug = community_of(p, data.community)
        try:
            await awards.reject(db, p, award_id, data.reason, ip=client_ip(request))
        except MallError as exc:
            return await self._approvals_page(
                request, db, p, slug, message(exc), exc.status if exc.status in (403, 409) else 400
            )
        return see_other(f"/staff/approvals{suffix(p, slug)}")


ROUTES: list[ControllerRouterHandler] = [
    EarningController,
    ReversalController,
    RuleController,
    PolicyController,
    StaffSubmissionController,
    ResidentSubmissionController,
]
