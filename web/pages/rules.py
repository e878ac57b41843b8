"""Staff pages for earning rules (积分规则): the community's rules and a form for a new one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, overload

from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery

from mall.access import STAFF_ROLES, Principal
from mall.db import Database
from mall.earning import rules
from mall.errors import N_, Invalid, MallError
from web.deps import Db
from web.pages.common import (
    EXCEPTION_HANDLERS,
    FORM,
    form_status,
    message,
    no_store,
    see_other,
    user,
)
from web.pages.staff import community_of
from web.render import render
from web.session import client_ip

#: earning path → how staff and residents call it
PATH_WORDS = {
    "timely_help": N_("Timely help"),
    "adding_to_good": N_("Adding to good"),
    "settling_disputes": N_("Settling disputes"),
}


@dataclass
class RuleForm:
    code: str = ""
    name: str = ""
    path: str = ""
    points: str = ""
    daily_cap: str = ""
    monthly_cap: str = ""
    approval_threshold: str = ""
    community: str = ""


@overload
def number(value: str) -> int: ...
@overload
def number(value: str, *, required: bool) -> int | None: ...
def number(value: str, *, required: bool = True) -> int | None:
    """A whole number typed into a form; empty is ``None`` where allowed."""
    value = (value or "").strip()
    if not value and not required:
        return None
    if not value.isdigit() or len(value) > 9:
        raise Invalid(N_("Please enter a whole number."))
    return int(value)


class RuleController(Controller):
    path = "/staff"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    async def _rules_page(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        p: Principal,
        slug: str,
        form: RuleForm | None = None,
        error: str | None = None,
        status: int = 200,
    ) -> Response[Any]:
        found = await rules.list_rules(db, p, slug) if slug else []
        return no_store(
            render(
                request,
                "earning/rules.html",
                status_code=status,
                me=p,
                slug=slug,
                found=found,
                form=form or RuleForm(),
                error=error,
                paths=PATH_WORDS,
            )
        )

    @get("/rules")
    async def rules_page(
        self, request: Request[Any, Any, Any], db: Db, community: FromQuery[str] = ""
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        return await self._rules_page(request, db, p, community_of(p, community))

    @post("/rules")
    async def create_rule(
        self, request: Request[Any, Any, Any], db: Db, data: Annotated[RuleForm, FORM]
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        slug = community_of(p, data.community)
        try:
            await rules.create_rule(
                db,
                p,
                slug,
                data.code,
                data.name,
                data.path,
                number(data.points),
                daily_cap=number(data.daily_cap, required=False),
                monthly_cap=number(data.monthly_cap, required=False),
                approval_threshold=number(data.approval_threshold, required=False),
                ip=client_ip(request),
            )
        except MallError as exc:
            return await self._rules_page(
                request, db, p, slug, data, message(exc), form_status(exc)
            )
        return see_other("/staff/rules" + ("" if p.community_slug else f"?community={slug}"))
