"""Changing a recruitment call (招募令) after publishing, for staff: the edit form, cancelling
with a reason (after a confirmation page), and removing a wrong check-in from the activity's page.
The rules live in ``mall.earning.activity_changes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.types import ControllerRouterHandler

from mall.access import STAFF_ROLES, Principal
from mall.db import Database
from mall.earning import activities, activity_changes
from mall.earning.values import Activity
from mall.errors import N_, MallError
from mall.org.points import PATHS
from web.deps import Db
from web.i18n import gettext as _
from web.pages.activities import ActivityForm, _moment, _number, view
from web.pages.common import (
    EXCEPTION_HANDLERS,
    FORM,
    form_status,
    local,
    message,
    no_store,
    see_other,
    user,
)
from web.pages.rules import PATH_WORDS
from web.render import render
from web.session import client_ip


@dataclass
class CancelForm:
    reason: str = ""


def _filled(found: Activity) -> ActivityForm:
    starts, ends = local(found.starts_at), local(found.ends_at)
    return ActivityForm(
        title=found.title,
        path=found.path,
        points=str(found.points),
        capacity=str(found.capacity),
        date=starts.date().isoformat(),
        starts=starts.strftime("%H:%M"),
        ends=ends.strftime("%H:%M"),
        place=found.place,
        description=found.description,
    )


class ActivityChangePages(Controller):
    path = "/staff/activities/{activity_id:int}"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/edit")
    async def edit_form(
        self, request: Request[Any, Any, Any], db: Db, activity_id: FromPath[int]
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        found = await activities.activity_for_staff(db, p, activity_id)
        return self._form(request, p, found, _filled(found), None)

    def _form(
        self,
        request: Request[Any, Any, Any],
        p: Principal,
        found: Activity,
        form: ActivityForm,
        error: str | None,
        status: int = 200,
    ) -> Response[Any]:
        return no_store(
            render(
                request,
                "activities/staff_new.html",
                status_code=status,
                me=p,
                form=form,
                paths=[(code, _(PATH_WORDS[code])) for code in PATHS],
                error=error,
                heading=_("Edit “{title}”", title=found.title),
                action=f"/staff/activities/{found.id}/edit",
                button=_("Save the changes"),
            )
        )

    @post("/edit")
    async def edit(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        activity_id: FromPath[int],
        data: Annotated[ActivityForm, FORM],
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        found = await activities.activity_for_staff(db, p, activity_id)
        try:
            starts = _moment(data.date, data.starts)
            # an activity over several days keeps its number of days
            days = (local(found.ends_at).date() - local(found.starts_at).date()).days
            ends = _moment(data.date, data.ends) + timedelta(days=days)
            edit = activity_changes.ActivityEdit(
                title=data.title,
                path=data.path,
                points=_number(data.points, N_("Points must be a whole number from 1 to {n}.")),
                capacity=_number(data.capacity, N_("Places must be a whole number from 1 to {n}.")),
                starts_at=starts,
                ends_at=ends,
                place=data.place,
                description=data.description,
            )
            await activity_changes.edit_activity(db, p, activity_id, edit, ip=client_ip(request))
        except MallError as exc:
            return self._form(request, p, found, data, message(exc), form_status(exc))
        return see_other(f"/staff/activities/{activity_id}")

    @get("/cancel")
    async def confirm_cancel(
        self, request: Request[Any, Any, Any], db: Db, activity_id: FromPath[int]
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        return await self._cancel_page(request, db, p, activity_id, "", None)

    async def _cancel_page(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        p: Principal,
        activity_id: int,
        reason: str,
        error: str | None,
        status: int = 200,
    ) -> Response[Any]:
        found = await activities.activity_for_staff(db, p, activity_id)
        return no_store(
            render(
                request,
                "activities/staff_cancel.html",
                status_code=status,
                me=p,
                a=view(found),
                reason=reason,
                error=error,
            )
        )

    @post("/cancel")
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        activity_id: FromPath[int],
        data: Annotated[CancelForm, FORM],
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        try:
            await activity_changes.cancel_activity(
                db, p, activity_id, reason=data.reason, ip=client_ip(request)
            )
        except MallError as exc:
            return await self._cancel_page(
                request, db, p, activity_id, data.reason, message(exc), form_status(exc)
            )
        return see_other(f"/staff/activities/{activity_id}")

    @post("/checkins/{resident_id:int}/remove")
    async def remove_checkin(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        activity_id: FromPath[int],
        resident_id: FromPath[int],
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        form = await request.form()
        await activity_changes.remove_checkin(
            db,
            p,
            activity_id,
            resident_id,
            reason=str(form.get(f"reason-{resident_id}", "")),
            ip=client_ip(request),
        )
        return see_other(f"/staff/activities/{activity_id}?removed={resident_id}")


ROUTES: list[ControllerRouterHandler] = [ActivityChangePages]
