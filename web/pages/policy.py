"""A community's trust policy (信任规则) as the street administrator's page, reached from the
community's page: a plain form (no JavaScript needed; a POST answers with a 303). Staff read the
policy on their dashboard (``web.pages.earning``). Everyone but a street administrator gets 403."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from mall.access import Principal
from mall.db import Database
from mall.errors import N_, Invalid, MallError
from mall.org import communities, policy
from web.deps import Db
from web.pages.common import EXCEPTION_HANDLERS, FORM, form_status, message, no_store, see_other
from web.pages.common import user as signed_in
from web.render import render
from web.session import client_ip

ADMIN = ("admin",)


@dataclass
class PolicyForm:
    approval_threshold: str = ""
    activity_max_points: str = ""
    objection_days: str = ""
    expiry: str = ""
    expiry_months: str = ""
    star_hours: str = ""


def _numbers(value: str) -> list[int] | None:
    """Whole numbers typed in one field, apart by commas or spaces; empty keeps the value."""
    parts = value.replace("，", ",").replace("、", ",").replace(",", " ").split()
    if not parts:
        return None
    found = [_number(part) for part in parts]
    return [n for n in found if n is not None]


def _number(value: str) -> int | None:
    """A whole number typed in a form; empty keeps the value; anything else is refused."""
    value = value.strip()
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 9:
        raise Invalid(N_("Please enter whole numbers only."))
    return int(value)


class PolicyController(Controller):
    path = "/admin"
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
        found = await policy.get_policy(db, p, slug)
        return no_store(
            render(
                request,
                "admin/policy.html",
                status_code=status_code,
                me=p,
                here="communities",
                community=await communities.get_community(db, p, slug),
                policy=found,
                form=form,
                error=error,
                saved=saved,
            )
        )

    @get("/communities/{slug:str}/policy")
    async def policy_page(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        slug: FromPath[str],
        saved: FromQuery[str] = "",
    ) -> Response[Any]:
        p = await signed_in(request, db, ADMIN)
        return await self._page(request, db, p, slug, saved=bool(saved))

    @post("/communities/{slug:str}/policy")
    async def change_policy(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        slug: FromPath[str],
        data: Annotated[PolicyForm, FORM],
    ) -> Response[Any]:
        p = await signed_in(request, db, ADMIN)
        try:
            await policy.set_policy(
                db,
                p,
                slug,
                approval_threshold=_number(data.approval_threshold),
                activity_max_points=_number(data.activity_max_points),
                objection_days=_number(data.objection_days),
                expiry=data.expiry or None,
                expiry_months=_number(data.expiry_months),
                star_hours=_numbers(data.star_hours),
                ip=client_ip(request),
            )
        except MallError as exc:
            return await self._page(
                request, db, p, slug, form=data, error=message(exc), status_code=form_status(exc)
            )
        return see_other(f"/admin/communities/{slug}/policy?saved=1")
