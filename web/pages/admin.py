"""The street administrator's pages (街道管理): the street at a glance they land on, the
communities (list, create, one community's page), its grids and its budget grants. Creating user
accounts is in ``admin_users``. Everyone but a street administrator gets 403."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

import ledger
from mall.access import Principal
from mall.db import Database
from mall.errors import N_, Invalid, MallError
from mall.org import communities, overview
from web.deps import Db
from web.idempotency import idempotency, new_key
from web.pages.common import (
    EXCEPTION_HANDLERS,
    form_status,
    message,
    no_store,
    see_other,
    user,
    when,
)
from web.render import render
from web.session import client_ip

ADMIN = ("admin",)
POINTS_RANGE = N_("Points must be a whole number from 1 to 10,000,000.")


def whole_points(text: str) -> int:
    """The points typed into a form: digits only (thousands commas allowed), else ``Invalid``."""
    digits = text.strip().replace(",", "").replace("，", "")
    if not digits.isascii() or not digits.isdigit() or len(digits) > 9:
        raise Invalid(POINTS_RANGE)
    return int(digits)


class AdminController(Controller):
    path = "/admin"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/")
    async def street_page(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        """Where a street administrator lands: every community's points and the street's total."""
        p = await user(request, db, ADMIN)
        street = await overview.street_overview(db, p)
        return no_store(render(request, "admin/street.html", me=p, here="street", street=street))

    @get("/communities")
    async def communities_page(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        p = await user(request, db, ADMIN)
        return await self._communities(request, db, p)

    @post("/communities")
    async def create_community(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        p = await user(request, db, ADMIN)
        form = await request.form()
        slug, name = str(form.get("slug", "")).strip(), str(form.get("name", "")).strip()
        try:
            await communities.create_community(db, p, slug, name, ip=client_ip(request))
        except MallError as exc:
            entered = {"slug": slug, "name": name}
            return await self._communities(
                request, db, p, entered=entered, error=message(exc), status=form_status(exc)
            )
        return see_other(f"/admin/communities/{slug}")

    @get("/communities/{slug:str}")
    async def community_page(
        self, request: Request[Any, Any, Any], db: Db, slug: FromPath[str]
    ) -> Response[Any]:
        p = await user(request, db, ADMIN)
        figures = await overview.community_figures(db, p, slug)
        grids = await communities.list_grids(db, p, slug)
        return no_store(
            render(
                request,
                "admin/community.html",
                me=p,
                here="communities",
                figures=figures,
                grids=len(grids),
            )
        )

    @get("/communities/{slug:str}/grids")
    async def grids_page(
        self, request: Request[Any, Any, Any], db: Db, slug: FromPath[str]
    ) -> Response[Any]:
        p = await user(request, db, ADMIN)
        return await self._grids(request, db, p, slug)

    @post("/communities/{slug:str}/grids")
    async def create_grid(
        self, request: Request[Any, Any, Any], db: Db, slug: FromPath[str]
    ) -> Response[Any]:
        p = await user(request, db, ADMIN)
        form = await request.form()
        code, name = str(form.get("code", "")).strip(), str(form.get("name", "")).strip()
        try:
            made = await communities.create_grid(db, p, slug, code, name, ip=client_ip(request))
        except MallError as exc:
            entered = {"code": code, "name": name}
            return await self._grids(
                request, db, p, slug, entered=entered, error=message(exc), status=form_status(exc)
            )
        return see_other(f"/admin/communities/{slug}/grids#g{made.id}")

    @get("/communities/{slug:str}/budget")
    async def budget_page(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        slug: FromPath[str],
        granted: FromQuery[int | None] = None,
    ) -> Response[Any]:
        p = await user(request, db, ADMIN)
        return await self._budget(request, db, p, slug, granted=granted)

    @post("/communities/{slug:str}/budget/grants")
    async def grant(
        self, request: Request[Any, Any, Any], db: Db, slug: FromPath[str]
    ) -> Response[Any]:
        """Fund the community's budget. The form's hidden key makes a double tap or a resent
        form grant once; the same key with other figures is refused."""
        p = await user(request, db, ADMIN)
        form = await request.form()
        typed, memo = str(form.get("points", "")), str(form.get("memo", "")).strip()
        try:
            amount = whole_points(typed)
            idem = await idempotency(request, p.label())
            await communities.grant_budget(
                db,
                p,
                slug,
                amount,
                memo,
                idempotency_key=idem.key,
                req_hash=idem.request_hash,
                ip=client_ip(request),
            )
        except MallError as exc:
            entered = {"points": typed, "memo": memo, "key": str(form.get("key", ""))}
            return await self._budget(
                request, db, p, slug, entered=entered, error=message(exc), status=form_status(exc)
            )
        except ledger.IdempotencyKeyReused:
            entered = {"points": typed, "memo": memo, "key": ""}
            error = message(Invalid(N_("This form was already sent with other choices.")))
            return await self._budget(
                request, db, p, slug, entered=entered, error=error, status=400
            )
        return see_other(f"/admin/communities/{slug}/budget?granted={amount}")

    async def _communities(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        p: Principal,
        *,
        entered: dict[str, str] | None = None,
        error: str | None = None,
        status: int = 200,
    ) -> Response[Any]:
        return no_store(
            render(
                request,
                "admin/communities.html",
                status_code=status,
                me=p,
                here="communities",
                found=await communities.list_communities(db, p),
                entered=entered or {"slug": "", "name": ""},
                error=error,
            )
        )

    async def _grids(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        p: Principal,
        slug: str,
        *,
        entered: dict[str, str] | None = None,
        error: str | None = None,
        status: int = 200,
    ) -> Response[Any]:
        grids = await communities.list_grids(db, p, slug)
        return no_store(
            render(
                request,
                "admin/grids.html",
                status_code=status,
                me=p,
                here="communities",
                community=await communities.get_community(db, p, slug),
                grids=grids,
                entered=entered or {"code": "", "name": ""},
                error=error,
            )
        )

    async def _budget(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        p: Principal,
        slug: str,
        *,
        granted: int | None = None,
        entered: dict[str, str] | None = None,
        error: str | None = None,
        status: int = 200,
    ) -> Response[Any]:
        budget = await communities.budget(db, p, slug)
        grants = await communities.recent_grants(db, p, slug)
        return no_store(
            render(
                request,
                "admin/budget.html",
                status_code=status,
                me=p,
                here="communities",
                community=await communities.get_community(db, p, slug),
                budget=budget,
                grants=grants,
                granted=granted,
                when=when,
                entered=entered or {"points": "", "memo": "", "key": ""},
                key=(entered or {}).get("key") or new_key(),
                error=error,
            )
        )
