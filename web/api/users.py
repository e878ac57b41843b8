"""Staff, volunteer and administrator accounts (工作人员、志愿者)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, post, put
from litestar.params import JSONBody
from msgspec import Meta

from mall.access import MAX_ID
from mall.people import users
from web.api.callers import STAFF, allow
from web.api.fields import Id, Name, Secret
from web.deps import Caller, Db
from web.session import client_ip

Outlets = Annotated[list[Annotated[int, Meta(ge=1, le=MAX_ID)]], Meta(max_length=100)]


class NewUser(msgspec.Struct):
    username: Name
    password: Secret
    role: Name
    """`admin`, `staff` or `volunteer`."""
    community: Name | None = None
    """The community's slug; required for staff and volunteers."""
    outlets: Outlets = []
    """For a volunteer: the ids of the community's outlets they serve at; none, every outlet."""


class VolunteerOutlets(msgspec.Struct):
    outlets: Outlets
    """The ids of the community's outlets the volunteer serves at; none, every outlet."""


class User(msgspec.Struct):
    id: int
    username: str
    role: str
    outlets: list[int]
    """A volunteer's outlets (none: every outlet of the community)."""


class UserController(Controller):
    tags = ["organisation"]

    @post(
        "/users",
        dependencies=allow(*STAFF),
        summary="Create a user",
        description=(
            "Administrators create anyone; staff create volunteers for their own community "
            "only. A taken username is `already_exists`; a password needs at least 10 "
            "characters."
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
        )
        return msgspec.convert(made, User, from_attributes=True)

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
