"""Staff pages that change a resident's record: correct it, close it (moved away, deceased).
Each form works without JavaScript and asks for a tick before
anything irreversible; the rules are in ``mall.people.lifecycle``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

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
                    status_code=form_status(exc) if exc.status != 409 else 409,
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
                    status_code=exc.status if exc.status == 409 else form_status(exc),
                    me=p,
                    resident=found,
                    form=data,
                    error=message(exc),
                )
            )
        return see_other(f"/staff/residents/{resident_id}")
