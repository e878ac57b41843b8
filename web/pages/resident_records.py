"""Staff pages that change a resident's record: correct it, close it (moved away, deceased),
merge a duplicate into another. Each form works without JavaScript and asks for a tick before
anything irreversible; the rules are in ``mall.people.lifecycle``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from mall.access import STAFF_ROLES, Principal
from mall.counter import reservations
from mall.errors import N_, Invalid, MallError
from mall.people import lifecycle, residents
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
from web.render import render
from web.session import client_ip


@dataclass
class EditForm:
    name: str = ""
    phone: str = ""
    grid: str = ""
    building: str = ""
    unit: str = ""


@dataclass
class CloseForm:
    reason: str = ""
    confirm: str = ""


@dataclass
class MergeForm:
    into: str = ""
    reason: str = ""
    confirm: str = ""
    q: str = ""


def confirmed(value: str) -> None:
    if value != "yes":
        raise Invalid(N_("Please tick the box to confirm."))


class ResidentRecordPages(Controller):
    path = "/staff/residents"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    async def _open(
        self, request: Request[Any, Any, Any], db: Db, resident_id: int
    ) -> tuple[Principal, residents.Resident]:
        p = await user(request, db, STAFF_ROLES)
        return p, await residents.get_resident(db, p, resident_id)

    @get("/{resident_id:int}/edit")
    async def edit_page(
        self, request: Request[Any, Any, Any], db: Db, resident_id: FromPath[int]
    ) -> Response[Any]:
        p, found = await self._open(request, db, resident_id)
        if found.closed_at is not None:
            return see_other(f"/staff/residents/{resident_id}")
        form = EditForm(
            name=found.name,
            phone=found.phone or "",
            grid=found.grid or "",
            building=found.building or "",
            unit=found.unit or "",
        )
        return no_store(
            render(request, "staff/resident_edit.html", me=p, resident=found, form=form, error=None)
        )

    @post("/{resident_id:int}/edit")
    async def edit(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        resident_id: FromPath[int],
        data: Annotated[EditForm, FORM],
    ) -> Response[Any]:
        p, found = await self._open(request, db, resident_id)
        changes = {k: getattr(data, k) for k in lifecycle.EDITABLE}
        try:
            await lifecycle.update_resident(db, p, resident_id, changes, ip=client_ip(request))
        except MallError as exc:
            return no_store(
                render(
                    request,
                    "staff/resident_edit.html",
                    status_code=exc.status if exc.status in (409, 410) else form_status(exc),
                    me=p,
                    resident=found,
                    form=data,
                    error=message(exc),
                )
            )
        return see_other(f"/staff/residents/{resident_id}")

    @get("/{resident_id:int}/close")
    async def close_page(
        self, request: Request[Any, Any, Any], db: Db, resident_id: FromPath[int]
    ) -> Response[Any]:
        p, found = await self._open(request, db, resident_id)
        if found.closed_at is not None:
            return see_other(f"/staff/residents/{resident_id}")
        return no_store(
            render(
                request,
                "staff/resident_close.html",
                me=p,
                resident=found,
                form=CloseForm(),
                error=None,
            )
        )

    @post("/{resident_id:int}/close")
    async def close(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        resident_id: FromPath[int],
        data: Annotated[CloseForm, FORM],
    ) -> Response[Any]:
        p, found = await self._open(request, db, resident_id)
        try:
            confirmed(data.confirm)
            await lifecycle.close_resident(
                db,
                p,
                resident_id,
                data.reason,
                release=reservations.cancel_waiting,
                ip=client_ip(request),
            )
        except MallError as exc:
            return no_store(
                render(
                    request,
                    "staff/resident_close.html",
                    status_code=exc.status if exc.status in (409, 410) else form_status(exc),
                    me=p,
                    resident=found,
                    form=data,
                    error=message(exc),
                )
            )
        return see_other(f"/staff/residents/{resident_id}")

    @get("/{resident_id:int}/merge")
    async def merge_page(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        resident_id: FromPath[int],
        q: FromQuery[str] = "",
    ) -> Response[Any]:
        p, found = await self._open(request, db, resident_id)
        if found.closed_at is not None:
            return see_other(f"/staff/residents/{resident_id}")
        return await self._merge_form(request, db, p, found, MergeForm(q=q), None, 200)

    async def _merge_form(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Principal,
        found: residents.Resident,
        form: MergeForm,
        error: str | None,
        status: int,
    ) -> Response[Any]:
        candidates = []
        if form.q.strip():
            page = await residents.search_residents(
                db, p, found.community, query=form.q, status="open", limit=20
            )
            candidates = [r for r in page.residents if r.id != found.id]
        return no_store(
            render(
                request,
                "staff/resident_merge.html",
                status_code=status,
                me=p,
                resident=found,
                form=form,
                candidates=candidates,
                error=error,
            )
        )

    @post("/{resident_id:int}/merge")
    async def merge(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        resident_id: FromPath[int],
        data: Annotated[MergeForm, FORM],
    ) -> Response[Any]:
        p, found = await self._open(request, db, resident_id)
        try:
            if not data.into.isdigit() or not 0 < int(data.into) <= 2**31 - 1:
                raise Invalid(N_("Please choose the record to keep."))
            confirmed(data.confirm)
            done = await lifecycle.merge_residents(
                db,
                p,
                resident_id,
                int(data.into),
                data.reason,
                release=reservations.cancel_waiting,
                ip=client_ip(request),
            )
        except MallError as exc:
            status = exc.status if exc.status in (403, 404, 409, 410) else form_status(exc)
            return await self._merge_form(request, db, p, found, data, message(exc), status)
        return see_other(f"/staff/residents/{done.into}")
