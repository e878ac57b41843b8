"""Staff, volunteer and administrator accounts (工作人员、志愿者)."""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, post
from litestar.params import JSONBody

from mall import organisation
from web.api.fields import Name, Secret
from web.api.guards import STAFF, allow, caller, database
from web.session import client_ip


class NewUser(msgspec.Struct):
    username: Name
    password: Secret
    role: Name
    """`admin`, `staff` or `volunteer`."""
    community: Name | None = None
    """The community's slug; required for staff and volunteers."""


class User(msgspec.Struct):
    id: int
    username: str
    role: str


class UserController(Controller):
    tags = ["organisation"]

    @post(
        "/users",
        guards=[allow(*STAFF)],
        summary="Create a user",
        description=(
            "Administrators create anyone; staff create volunteers for their own community "
            "only. A taken username is `already_exists`; a password needs at least 10 "
            "characters."
        ),
    )
    async def create(self, request: Request, data: JSONBody[NewUser]) -> User:
        made = await organisation.create_user(
            database(request),
            await caller(request),
            data.username,
            data.password,
            data.role,
            data.community,
            ip=client_ip(request),
        )
        return User(**made)
