"""A resident's record over its life, as staff change it: correct it, close it, merge a duplicate
(``mall.people.lifecycle`` holds the rules)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, patch, post
from litestar.params import JSONBody
from msgspec import UNSET, Meta, UnsetType

from mall.counter import reservations
from mall.people import lifecycle
from web.api.callers import STAFF, allow
from web.api.fields import MAX_ID, NO_CONTROL, Id, Name
from web.api.residents import Resident, resident
from web.deps import Caller, Db
from web.session import client_ip

Place = Annotated[str, Meta(max_length=40, pattern=NO_CONTROL)]


class ResidentChanges(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields sent change; `null` or `""` clears a phone, grid, building or unit."""

    name: Name | UnsetType = UNSET
    phone: Name | None | UnsetType = UNSET
    grid: Name | None | UnsetType = UNSET
    """The code of a grid of the community."""
    building: Place | None | UnsetType = UNSET
    unit: Place | None | UnsetType = UNSET


class Closing(msgspec.Struct):
    reason: Name
    """Moved away, deceased, ...: kept with the record and in the memo of the journal."""


class Closed(msgspec.Struct):
    returned: int
    """Points that were available and went back to the community's budget."""


class Merging(msgspec.Struct):
    into: Annotated[int, Meta(ge=1, le=MAX_ID)]
    """The record that stays: an open resident of the same community."""
    reason: Name


class Merged(msgspec.Struct):
    id: int
    into: int
    moved: int
    """Points that were available and moved into `into`."""


class ResidentRecordController(Controller):
    tags = ["residents"]

    @patch(
        "/residents/{resident_id:int}",
        dependencies=allow(*STAFF),
        summary="Correct a resident's record",
        description=(
            "Staff of the resident's community and administrators. Fields are checked as when "
            "registering; a mobile number another open record of the community has is "
            "`already_exists`; a closed record is `account_closed`. Audited with before and after."
        ),
    )
    async def edit(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        resident_id: Id,
        data: JSONBody[ResidentChanges],
    ) -> Resident:
        changes = {
            field: value
            for field in lifecycle.EDITABLE
            if (value := getattr(data, field)) is not UNSET
        }
        changed = await lifecycle.update_resident(
            db, p, resident_id, changes, ip=client_ip(request)
        )
        return resident(changed)

    @post(
        "/residents/{resident_id:int}/close",
        dependencies=allow(*STAFF),
        status_code=200,
        summary="Close a resident's record",
        description=(
            "Moved away or deceased: the phone, pay codes and cards stop at once, and the "
            "points still available go back to the budget by one journal. The history stays "
            "readable by staff; every later act for the resident is `account_closed`, closing "
            "again too. Reservations waiting for pickup must be cancelled first (409 "
            "`validation_error`)."
        ),
    )
    async def close(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        resident_id: Id,
        data: JSONBody[Closing],
    ) -> Closed:
        done = await lifecycle.close_resident(
            db,
            p,
            resident_id,
            data.reason,
            release=reservations.cancel_waiting,
            ip=client_ip(request),
        )
        return Closed(returned=done.returned)

    @post(
        "/residents/{resident_id:int}/merge",
        dependencies=allow(*STAFF),
        status_code=200,
        summary="Merge a duplicate record into another",
        description=(
            "The duplicate's available points move into `into` (an open resident of the same "
            "community, not itself) by one journal, then the duplicate is closed. Either record "
            "being the caller's own is `self_dealing`."
        ),
    )
    async def merge(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        resident_id: Id,
        data: JSONBody[Merging],
    ) -> Merged:
        done = await lifecycle.merge_residents(
            db,
            p,
            resident_id,
            data.into,
            data.reason,
            release=reservations.cancel_waiting,
            ip=client_ip(request),
        )
        return msgspec.convert(done, Merged, from_attributes=True)
