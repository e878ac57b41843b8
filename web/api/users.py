"""Staff, volunteer and administrator accounts (工作人员、志愿者)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, patch, post, put
from litestar.params import JSONBody, QueryParameter
from msgspec import Meta

from mall.access import MAX_ID
from mall.people import accounts, users
from web.api.callers import STAFF, allow
from web.api.fields import END, Id, Name, Secret
from web.deps import Caller, Db
from web.session import client_ip

Outlets = Annotated[list[Annotated[int, Meta(ge=1, le=MAX_ID)]], Meta(max_length=100)]
ResidentId = Annotated[int, Meta(ge=1, le=MAX_ID)]
Buildings = Annotated[list[Annotated[str, Meta(max_length=20)]], Meta(max_length=20)]
CommunityFilter = Annotated[
    str | None,
    QueryParameter(
        max_length=63,
        pattern=r"^[a-z0-9-]+" + END,
        description="a community's slug: only its accounts (staff: their own community only)",
    ),
]


class NewUser(msgspec.Struct):
    username: Name
    password: Secret
    role: Name
    """`admin`, `staff`, `volunteer` or `building_head` (楼栋长: a resident of the community,
    `resident_id` required, who serves `buildings`)."""
    community: Name | None = None
    """The community's slug; required for staff and volunteers."""
    outlets: Outlets = []
    """For a volunteer: the ids of the community's outlets they serve at; none, every outlet."""
    resident_id: ResidentId | None = None
    """The user's own resident record: an open record of their community. They never award,
    approve, settle, reverse, refund, merge or issue a card for it (`self_dealing`)."""
    buildings: Buildings = []
    """For a building head: the buildings they serve, as residents' `building` spells them."""


class OwnRecordChange(msgspec.Struct, forbid_unknown_fields=True):
    resident_id: ResidentId | None
    """The user's own resident record (an open record of their community); `null` unlinks it."""


class Account(msgspec.Struct):
    id: int
    username: str
    role: str
    community: str | None
    """The community's slug; `null` for a street administrator."""
    active: bool


class AccountWithRecord(Account):
    resident_id: int | None
    """The user's own resident record, if linked."""


class Accounts(msgspec.Struct):
    users: list[Account]


class VolunteerOutlets(msgspec.Struct):
    outlets: Outlets
    """The ids of the community's outlets the volunteer serves at; none, every outlet."""


class User(msgspec.Struct):
    id: int
    username: str
    role: str
    outlets: list[int]
    """A volunteer's outlets (none: every outlet of the community)."""
    buildings: list[str] = []
    """A building head's buildings."""


class UserController(Controller):
    tags = ["organisation"]

    @post(
        "/users",
        dependencies=allow(*STAFF),
        summary="Create a user",
        description=(
            "Administrators create anyone; staff create volunteers and building heads for their "
            "own community only. A taken username is `already_exists`; a password needs at least 10 "
            "characters. `resident_id` links the user's own resident record (an open record of "
            "their community: another community's is `validation_error`, or `not_found` for "
            "staff, who see only their own; a closed one `account_closed`)."
        ),
    )
    async def create(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, data: JSONBody[NewUser]
    ) -> User:
        made = await users.create_user(
            db,
            p,
            data.username,
            data.password,
            data.role,
            data.community,
            ip=client_ip(request),
            outlets=data.outlets,
            resident_id=data.resident_id,
            buildings=data.buildings,
        )
        return msgspec.convert(made, User, from_attributes=True)

    @get(
        "/users",
        dependencies=allow(*STAFF),
        summary="List user accounts",
        description=(
            "Administrators: every account, or with `community` that community's. Staff: the "
            "accounts of their own community (another `community` is `forbidden`). An unknown "
            "community is `not_found`. `active` is false for a deactivated account."
        ),
    )
    async def list_users(self, db: Db, p: Caller, community: CommunityFilter = None) -> Accounts:
        found = await accounts.list_users(db, p, community)
        return Accounts(users=[msgspec.convert(a, Account, from_attributes=True) for a in found])

    @patch(
        "/users/{user_id:int}",
        dependencies=allow("admin"),
        summary="Link a user to their own resident record",
        description=(
            "Administrators. `resident_id` must be an open record (a closed one is "
            "`account_closed`) of the user's community (another community's is "
            "`validation_error`; none such is `not_found`); `null` unlinks it. Audited."
        ),
    )
    async def set_own_record(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        user_id: Id,
        data: JSONBody[OwnRecordChange],
    ) -> AccountWithRecord:
        page = await accounts.set_own_record(
            db, p, user_id, data.resident_id, ip=client_ip(request)
        )
        return _with_record(page)

    @post(
        "/users/{user_id:int}/deactivate",
        status_code=200,
        dependencies=allow(*STAFF),
        summary="Switch an account off",
        description=(
            "Administrators any account; staff only their own community's volunteers (another "
            "role is `forbidden`, another community's account `not_found`); nobody their own "
            "(`forbidden`). Every session and API token of the account stops at once "
            "(`unauthenticated`), and signing in answers as for a wrong password until it is "
            "reactivated. Doing it again changes nothing. Audited."
        ),
    )
    async def deactivate(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, user_id: Id
    ) -> Account:
        done = await accounts.deactivate(db, p, user_id, ip=client_ip(request))
        return msgspec.convert(done, Account, from_attributes=True)

    @post(
        "/users/{user_id:int}/reactivate",
        status_code=200,
        dependencies=allow(*STAFF),
        summary="Switch an account on again",
        description=(
            "Who may: as for deactivating. The account signs in with its password again; the "
            "sessions and tokens ended by deactivating stay ended. Audited."
        ),
    )
    async def reactivate(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, user_id: Id
    ) -> Account:
        done = await accounts.reactivate(db, p, user_id, ip=client_ip(request))
        return msgspec.convert(done, Account, from_attributes=True)

    @put(
        "/users/{user_id:int}/outlets",
        dependencies=allow(*STAFF),
        summary="Choose the outlets a volunteer serves at",
        description=(
            "Staff of the volunteer's community and administrators. The list replaces the one "
            "before; an empty list lets the volunteer serve at every outlet of the community. "
            "At any other outlet the counter answers `forbidden`."
        ),
    )
    async def set_outlets(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        user_id: Id,
        data: JSONBody[VolunteerOutlets],
    ) -> User:
        chosen = await users.set_volunteer_outlets(
            db, p, user_id, data.outlets, ip=client_ip(request)
        )
        return msgspec.convert(chosen, User, from_attributes=True)


def _with_record(page: accounts.AccountPage) -> AccountWithRecord:
    a = page.account
    return AccountWithRecord(
        id=a.id,
        username=a.username,
        role=a.role,
        community=a.community,
        active=a.active,
        resident_id=page.resident.id if page.resident else None,
    )
