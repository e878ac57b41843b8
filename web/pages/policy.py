"""The community's trust policy (信任规则) as a page: staff read it, a street administrator
changes it with a plain form (no JavaScript needed; a POST answers with a 303)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery

from mall.access import STAFF_ROLES, Principal
from mall.db import Database
from mall.errors import N_, Invalid, MallError
from mall.org import policy
from web.deps import Db
from web.pages.common import EXCEPTION_HANDLERS, FORM, form_status, message, no_store, see_other
from web.pages.common import user as signed_in
from web.pages.staff import community_of
from web.render import render
from web.session import client_ip


@dataclass
class PolicyForm:
    approval_threshold: str = ""
    activity_max_points: str = ""
    objection_days: str = ""
    community: str = ""


def _number(value: str) -> int | None:
    """A whole number typed in a form; empty keeps the value; anything else is refused."""
    value = value.strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 9:
        raise Invalid(N_("Please enter whole numbers only."))
    return int(value)


class PolicyController(Controller):
    path = "/staff"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    async def _page(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        p: Principal,
        slug: str,
        *,
        form: PolicyForm | None = None,
        error: str | None = None,
        status_code: int = 200,
        saved: bool = False,
    ) -> Response[Any]:
        found = await policy.get_policy(db, p, slug) if slug else None
        return no_store(
            render(
                request,
                "earning/policy.html",
                status_code=status_code,
                me=p,
                slug=slug,
                policy=found,
                form=form,
                error=error,
                saved=saved,
            )
        )

    @get("/policy")
    async def policy_page(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        community: FromQuery[str] = "",
        saved: FromQuery[str] = "",
    ) -> Response[Any]:
        p = await signed_in(request, db, STAFF_ROLES)
        return await self._page(request, db, p, community_of(p, community), saved=bool(saved))

    @post("/policy")
    async def change_policy(
        self, request: Request[Any, Any, Any], db: Db, data: Annotated[PolicyForm, FORM]
    ) -> Response[Any]:
        p = await signed_in(request, db, ("admin",))
        slug = community_of(p, data.community)
        try:
            await policy.set_policy(
                db,
                p,
                slug,
                approval_threshold=_number(data.approval_threshold),
                activity_max_points=_number(data.activity_max_points),
                objection_days=_number(data.objection_days),
                ip=client_ip(request),
            )
        except MallError as exc:
            return await self._page(
                request,
                db,
                p,
                slug,
                form=data,
                error=message(exc),
                status_code=form_status(exc),
            )
        return see_other(f"/staff/policy?community={slug}&saved=1")
