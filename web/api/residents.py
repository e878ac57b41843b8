"""Residents (居民) as staff see them: registration, search, activation QR, passbook (printed
cards are ``web.api.cards``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import JSONBody, QueryParameter

from mall.people import credentials, passbooks, residents
from web.api.callers import STAFF, allow
from web.api.fields import MAX_ID, NO_CONTROL, Before, Id, Limit, Name, Slug
from web.deps import Caller, Db
from web.session import client_ip

Query = Annotated[
    str, QueryParameter(max_length=50, pattern=NO_CONTROL, description="part of a name or phone")
]
GridCode = Annotated[
    str | None, QueryParameter(max_length=40, pattern=NO_CONTROL, description="a grid's code")
]


Status = Annotated[
    Literal["all", "open", "closed"],
    QueryParameter(description="`open` or `closed` records only; `all` by default"),
]
Offset = Annotated[
    int, QueryParameter(ge=0, le=MAX_ID, description="the `next` of the previous page")
]


class NewResident(msgspec.Struct):
    name: Name
    phone: Name | None = None
    grid: Name | None = None
    """The code of a grid of the community."""
    building: Name | None = None
    unit: Name | None = None


class Registered(msgspec.Struct):
    id: int
    name: str
    phone: str | None
    grid: str | None
    community: str
    building: str | None
    unit: str | None


class Resident(msgspec.Struct):
    id: int
    name: str
    community: str
    """The community's slug."""
    community_name: str
    phone: str | None
    grid: str | None
    balance: int
    """``held`` + ``available``."""
    held: int
    """Set aside for reservations awaiting pickup."""
    available: int
    building: str | None
    unit: str | None
    closed: bool
    """A closed record (moved away, deceased, merged): its history stays, nothing more is done."""
    closed_at: datetime | None
    closed_reason: str | None
    merged_into: int | None
    """The record a duplicate was merged into."""


class Listed(msgspec.Struct):
    id: int
    name: str
    phone: str | None
    grid: str | None
    balance: int
    held: int
    available: int
    closed: bool


class ResidentList(msgspec.Struct):
    residents: list[Listed]
    next: int | None
    """Pass as `offset` for the next page; null on the last page."""


class Activation(msgspec.Struct):
    code: str
    url: str
    """Show it as a QR code; the resident's own camera opens it."""
    expires_at: datetime


class PassbookEntry(msgspec.Struct):
    journal_id: int
    at: datetime
    kind: str
    path: str | None
    memo: str
    amount: int
    balance_after: int
    on_behalf_of: str | None = None
    """Kind `proxy`: an order this resident paid or collected as proxy (代领) for this
    resident (masked name); none of their own points moved (`amount` 0)."""
    collected_by: str | None = None
    """An order a proxy paid or collected for this resident: the proxy (masked name)."""


class Passbook(msgspec.Struct):
    entries: list[PassbookEntry]
    next: int | None
    """Pass as `before` for the next (older) page; null on the last page."""


def passbook(statement: passbooks.Passbook) -> Passbook:
    return Passbook(
        entries=[
            PassbookEntry(
                journal_id=e.journal_id,
                at=e.at,
                kind=e.kind,
                path=e.path,
                memo=e.memo,
                amount=e.amount,
                balance_after=e.balance_after,
                on_behalf_of=e.on_behalf_of,
                collected_by=e.collected_by,
            )
            for e in statement.entries
        ],
        next=statement.next,
    )


def resident(found: residents.Resident) -> Resident:
    return Resident(
        id=found.id,
        name=found.name,
        community=found.community,
        community_name=found.community_name,
        phone=found.phone,
        grid=found.grid,
        balance=found.balance,
        held=found.held,
        available=found.available,
        building=found.building,
        unit=found.unit,
        closed=found.closed_at is not None,
        closed_at=found.closed_at,
        closed_reason=found.closed_reason,
        merged_into=found.merged_into,
    )


class ResidentController(Controller):
    tags = ["residents"]

    @post(
        "/communities/{slug:str}/residents",
        dependencies=allow(*STAFF),
        summary="Register a resident",
        description=(
            "Staff of the community and administrators. `phone` is an 11-digit mobile "
            "number; `grid` the code of one of the community's grids."
        ),
    )
    async def register(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        slug: Slug,
        data: JSONBody[NewResident],
    ) -> Registered:
        made = await residents.create_resident(
            db,
            p,
            slug,
            data.name,
            data.phone,
            data.grid,
            building=data.building,
            unit=data.unit,
            ip=client_ip(request),
        )
        return msgspec.convert(made, Registered, from_attributes=True)

    @get(
        "/communities/{slug:str}/residents",
        dependencies=allow(*STAFF),
        summary="Find residents",
        description=(
            "Staff of the community and administrators: residents whose name or phone "
            "contains `q` (or whose grid has the code `q`, or a name containing it), in grid "
            "`grid` if given, by name, a page of `limit` at a time; closed records are marked "
            "`closed`, and `status` keeps to the open or the closed ones."
        ),
    )
    async def search(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        slug: Slug,
        q: Query = "",
        grid: GridCode = None,
        limit: Limit = 50,
        status: Status = "all",
        offset: Offset = 0,
    ) -> ResidentList:
        found = await residents.search_residents(
            db, p, slug, query=q, grid=grid, status=status, limit=limit, offset=offset
        )
        return ResidentList(
            residents=[msgspec.convert(r, Listed, from_attributes=True) for r in found.residents],
            next=found.next,
        )

    @get(
        "/residents/{resident_id:int}",
        dependencies=allow(*STAFF),
        summary="A resident",
        description=(
            "Staff of the resident's community and administrators; anyone else's resident "
            "is `not_found`."
        ),
    )
    async def show(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, resident_id: Id
    ) -> Resident:
        return resident(await residents.get_resident(db, p, resident_id))

    @post(
        "/residents/{resident_id:int}/activation",
        dependencies=allow(*STAFF),
        summary="Issue a one-time activation code",
        description=(
            "Binds the phone that opens `url` (valid 7 days, once). Issuing one revokes any "
            "earlier code and signs out the phone bound before."
        ),
    )
    async def issue_activation(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, resident_id: Id
    ) -> Activation:
        made = await credentials.issue_activation(db, p, resident_id, ip=client_ip(request))
        return msgspec.convert(made, Activation, from_attributes=True)

    @get(
        "/residents/{resident_id:int}/passbook",
        dependencies=allow(*STAFF),
        summary="A resident's passbook",
        description=(
            "Staff of the resident's community and administrators: every movement of the "
            "resident's points, newest first, with the balance after each."
        ),
    )
    async def passbook(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        resident_id: Id,
        limit: Limit = 20,
        before: Before = None,
    ) -> Passbook:
        statement = await passbooks.passbook(db, p, resident_id, limit=limit, before=before)
        return passbook(statement)
