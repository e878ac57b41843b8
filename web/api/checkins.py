"""Checking in to a recruitment call (招募令) in the JSON API: the rotating check-in code, check-in
by the resident with it, and by staff with a resident's code or from the paper sheet. The rules
are in ``mall.earning.checkin`` and ``mall.earning.sheet``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import CacheControlHeader
from litestar.params import JSONBody
from litestar.types import ControllerRouterHandler
from msgspec import Meta

from mall.earning import checkin, sheet
from web.api.activities import shape
from web.api.callers import RESIDENT, STAFF, allow
from web.api.fields import NO_CONTROL, Code, Id
from web.deps import Caller, Db
from web.session import client_ip


class CheckinCode(msgspec.Struct):
    code: str
    url: str
    """Show it as a QR code; a phone's own camera opens it."""
    expires_at: datetime
    """The code is accepted until then (its own window and the next)."""
    refreshes_at: datetime
    """When the next code is due."""


class CheckinBody(msgspec.Struct):
    code: Annotated[str, Meta(max_length=100, pattern=NO_CONTROL)]


class CheckedIn(msgspec.Struct):
    activity_id: int
    resident_id: int
    checked_in_at: datetime


class AttendanceBody(msgspec.Struct):
    code: Code
    """The resident's pay code (digits) or printed card code."""
    pin: Code | None = None
    """The card's PIN; not needed for a pay code."""


class Attended(CheckedIn):
    name: str


class SheetBody(msgspec.Struct):
    resident_ids: Annotated[list[int], Meta(min_length=1, max_length=200)]
    """Residents of the activity's community, ticked off the paper sign-in sheet."""


class AttendedByName(msgspec.Struct):
    resident_id: int
    name: str
    checked_in_at: datetime


class SheetRecorded(msgspec.Struct):
    activity_id: int
    checked_in: list[AttendedByName]
    """Checked in now."""
    already: list[int]
    """Checked in before (left as they were)."""


class CheckinController(Controller):
    tags = ["earning"]
    cache_control = CacheControlHeader(no_store=True)

    @get(
        "/activities/{activity_id:int}/checkin-code",
        dependencies=allow(*STAFF),
        summary="The current check-in code",
        description=(
            f"Staff: a code signed by the server that changes every {checkin.WINDOW} seconds "
            "and is accepted in its own window and the next. Show `url` as a QR code."
        ),
    )
    async def checkin_code(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, activity_id: Id
    ) -> CheckinCode:
        made = await checkin.checkin_code(db, p, activity_id)
        return shape(CheckinCode, made)

    @post(
        "/activities/{activity_id:int}/checkin",
        dependencies=allow(*RESIDENT),
        summary="Check in with the scanned code",
        description=(
            "A resident, once (`already_checked_in`), from 60 minutes before the start until 60 "
            "minutes after the end, while the call is open. An old code is `code_expired`; "
            "another call's or a forged one `code_invalid`. Residents who did not sign up, "
            "or wait on the list, are checked in too."
        ),
    )
    async def check_in(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        activity_id: Id,
        data: JSONBody[CheckinBody],
    ) -> CheckedIn:
        made = await checkin.check_in(db, p, activity_id, data.code)
        return shape(CheckedIn, made)

    @post(
        "/activities/{activity_id:int}/attendance",
        dependencies=allow(*STAFF),
        summary="Check in a resident by their code",
        description=(
            "Staff check in a resident without a phone: a pay code, or a card code with its "
            "PIN. Once (`already_checked_in`); allowed after the end too, until settlement."
        ),
    )
    async def attendance(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        activity_id: Id,
        data: JSONBody[AttendanceBody],
    ) -> Attended:
        made = await checkin.record_attendance(
            db,
            p,
            activity_id,
            data.code,
            data.pin,
            ip=client_ip(request),
        )
        return shape(Attended, made)

    @post(
        "/activities/{activity_id:int}/attendance/by-name",
        dependencies=allow(*STAFF),
        status_code=200,
        summary="Check in residents by name, from the paper sign-in sheet",
        description=(
            "Staff of the community tick residents of the community (`resident_ids`, 1 to 200) "
            "who signed the paper sheet; those already checked in are left as they were "
            "(`already`). Allowed after the end too, until settlement, which awards them like "
            "any award (the daily threshold, four eyes). Another community's resident is "
            "`not_found`; the caller's own resident record is `self_dealing`; nothing is "
            "checked in then."
        ),
    )
    async def attendance_by_name(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        activity_id: Id,
        data: JSONBody[SheetBody],
    ) -> SheetRecorded:
        made = await sheet.record_attendance_by_name(
            db, p, activity_id, data.resident_ids, ip=client_ip(request)
        )
        return shape(SheetRecorded, made)


ROUTES: list[ControllerRouterHandler] = [CheckinController]
