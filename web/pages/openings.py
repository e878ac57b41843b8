"""Staff pages for opening balances (期初积分): upload the paper passbooks' balances (preview, each
bad row named, confirm: the batch then waits), the list of batches, and one batch's page where a
different staff member approves it or anyone rejects it. Works without JavaScript; the rules
(four eyes, once per resident) are in ``mall.earning.openings`` and ``opening_approval``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from mall.access import STAFF_ROLES, Principal
from mall.earning import opening_approval, openings
from mall.errors import MallError
from mall.people import sheets, uploads
from web.deps import Db
from web.i18n import gettext as _
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
from web.pages.imports import download, template_file, uploaded
from web.pages.staff import community_of
from web.render import render
from web.session import client_ip

KIND = "opening"


@dataclass
class ConfirmForm:
    token: str = ""
    community: str = ""


@dataclass
class RejectForm:
    reason: str = ""


class OpeningPages(Controller):
    path = "/staff/opening-balances"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    async def _page(
        self, request: Request[Any, Any, Any], db: Db, p: Principal, slug: str, **context: Any
    ) -> Response[Any]:
        status = context.pop("status", 200)
        found = await openings.batches(db, p, slug) if slug else []
        return no_store(
            render(
                request,
                "staff/openings.html",
                status_code=status,
                me=p,
                slug=slug,
                batches=found,
                when=when,
                max_points=openings.MAX_POINTS,
                max_mb=sheets.MAX_BYTES // 2**20,
                **context,
            )
        )

    @get("")
    async def index(
        self, request: Request[Any, Any, Any], db: Db, community: FromQuery[str] = ""
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        return await self._page(request, db, p, community_of(p, community))

    @get(["/template.xlsx", "/template.csv"])
    async def template(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        await user(request, db, STAFF_ROLES)
        kind = "csv" if request.scope["path"].endswith(".csv") else "xlsx"
        example = ["张晓明", "13800001111", "", "0001", "120"]
        data = template_file(openings.TEMPLATE_HEADER, example, kind)
        return download(
            data, f"%E6%9C%9F%E5%88%9D%E7%A7%AF%E5%88%86%E6%A8%A1%E6%9D%BF.{kind}", kind
        )

    @post("", request_max_body_size=2 * sheets.MAX_BYTES)
    async def preview(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        data, name, community = await uploaded(request)
        slug = community_of(p, community)
        try:
            done = await openings.upload(db, p, slug, data, name, dry_run=True)
            token = "" if done.errors else await uploads.keep(db, p, slug, KIND, name, data)
        except MallError as exc:
            return await self._page(
                request, db, p, slug, error=message(exc), status=form_status(exc)
            )
        return await self._page(
            request, db, p, slug, preview=done, errors=_errors(done), token=token, filename=name
        )

    @post("/confirm")
    async def confirm(
        self, request: Request[Any, Any, Any], db: Db, data: Annotated[ConfirmForm, FORM]
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        slug = community_of(p, data.community)
        try:
            kept = await uploads.kept(db, p, data.token, KIND)
            done = await openings.upload(
                db, p, slug, kept.data, kept.filename, dry_run=False, ip=client_ip(request)
            )
        except MallError as exc:
            return await self._page(
                request, db, p, slug, error=message(exc), status=form_status(exc)
            )
        if done.batch_id is None:
            return await self._page(
                request, db, p, slug, preview=done, errors=_errors(done), token=""
            )
        await uploads.forget(db, data.token)
        return see_other(f"/staff/opening-balances/{done.batch_id}")

    @get("/{batch_id:int}")
    async def batch_page(
        self, request: Request[Any, Any, Any], db: Db, batch_id: FromPath[int]
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        return await self._batch(request, db, p, batch_id)

    async def _batch(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Principal,
        batch_id: int,
        *,
        error: str | None = None,
        status: int = 200,
    ) -> Response[Any]:
        found = await openings.batch(db, p, batch_id)
        return no_store(
            render(
                request,
                "staff/opening_batch.html",
                status_code=status,
                me=p,
                batch=found,
                when=when,
                own=found.created_by == getattr(p, "username", None),
                error=error,
            )
        )

    @post("/{batch_id:int}/approve")
    async def approve(
        self, request: Request[Any, Any, Any], db: Db, batch_id: FromPath[int]
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        try:
            await opening_approval.approve(db, p, batch_id, ip=client_ip(request))
        except MallError as exc:
            return await self._batch(
                request, db, p, batch_id, error=message(exc), status=form_status(exc)
            )
        return see_other(f"/staff/opening-balances/{batch_id}")

    @post("/{batch_id:int}/reject")
    async def reject(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        batch_id: FromPath[int],
        data: Annotated[RejectForm, FORM],
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        try:
            await opening_approval.reject(db, p, batch_id, data.reason, ip=client_ip(request))
        except MallError as exc:
            return await self._batch(
                request, db, p, batch_id, error=message(exc), status=form_status(exc)
            )
        return see_other(f"/staff/opening-balances/{batch_id}")


def _errors(done: openings.Uploaded) -> list[tuple[int, str]]:
    return [(e.row, _(e.message, **e.params)) for e in done.errors]


ROUTES = [OpeningPages]
