"""Changing a recruitment call in the JSON API (docs/api-additions.md): edit, cancel, and remove
a check-in made by mistake, all before settlement. The rules are in
``mall.earning.activity_changes``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, patch, post
from litestar.datastructures import CacheControlHeader
from litestar.params import JSONBody, QueryParameter
from litestar.types import ControllerRouterHandler

from mall.earning import activity_changes
from web.api.activities import Activity, Description, shape
from web.api.callers import STAFF, allow
from web.api.fields import Id, Name
from web.deps import Caller, Db
from web.session import client_ip


class ActivityPatch(msgspec.Struct):
    """Any of the fields of `POST /communities/{slug}/activities`; those left out keep their
    values."""

    title: Name | None = None
    path: Name | None = None
    points: int | None = None
    capacity: int | None = None
    """Not fewer than the residents who already have a place; more places go to the waiting
    list, first come, first served."""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    place: Name | None = None
    description: Description | None = None


class Cancellation(msgspec.Struct):
    reason: Name
    """Why; kept in the audit log."""


class ActivityChangeController(Controller):
    tags = ["earning"]
    cache_control = CacheControlHeader(no_store=True)

    @patch(
        "/activities/{activity_id:int}",
        dependencies=allow(*STAFF),
        summary="Edit a recruitment call",
        description=(
            "Staff of the community and administrators, until it is settled or cancelled "
            "(`validation_error`). The same checks as publishing; `capacity` below the places "
            "already taken is `validation_error`. Audited."
        ),
    )
    async def edit(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        activity_id: Id,
        data: JSONBody[ActivityPatch],
    ) -> Activity:
        edit = msgspec.convert(data, activity_changes.ActivityEdit, from_attributes=True)
        made = await activity_changes.edit_activity(db, p, activity_id, edit, ip=client_ip(request))
        return shape(Activity, made)

    @post(
        "/activities/{activity_id:int}/cancel",
        dependencies=allow(*STAFF),
        status_code=200,
        summary="Cancel a recruitment call",
        description=(
            "Staff of the community and administrators, before settlement: `status` becomes "
            "`cancelled`, nobody can sign up or check in, and the residents who signed up see "
            "it cancelled in `GET /me/activities`. Cancelling again answers the same; a settled "
            "call is `validation_error`. The reason is kept in the audit log."
        ),
    )
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        activity_id: Id,
        data: JSONBody[Cancellation],
    ) -> Activity:
        made = await activity_changes.cancel_activity(
            db, p, activity_id, reason=data.reason, ip=client_ip(request)
        )
        return shape(Activity, made)

    @delete(
        "/activities/{activity_id:int}/checkins/{resident_id:int}",
        dependencies=allow(*STAFF),
        status_code=204,
        summary="Remove a check-in made by mistake",
        description=(
            "Staff of the community and administrators, before settlement (after it, "
            "`validation_error`). A resident who signed up keeps their place; one who only "
            "walked in is off the list. A resident not checked in is `not_found`. Audited, "
            "with the optional `reason`."
        ),
    )
    async def remove_checkin(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        activity_id: Id,
        resident_id: Id,
        reason: Annotated[
            str, QueryParameter(max_length=200, description="why; kept in the audit log")
        ] = "",
    ) -> None:
        await activity_changes.remove_checkin(
            db, p, activity_id, resident_id, reason=reason, ip=client_ip(request)
        )


ROUTES: list[ControllerRouterHandler] = [ActivityChangeController]
