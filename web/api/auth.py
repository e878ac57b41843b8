"""Signing in and out of the API, and changing one's own password (staff, volunteers, admins)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, delete, post
from litestar.params import JSONBody

from mall.people import auth
from web.api.callers import SIGNED_IN, USERS, allow
from web.api.fields import Name, Secret
from web.deps import Caller, Db
from web.session import client_ip


class SignIn(msgspec.Struct):
    username: Name
    password: Secret


class Token(msgspec.Struct):
    token: str
    """Send as ``Authorization: Bearer <token>``; valid for 30 days or until signed out."""


class PasswordChange(msgspec.Struct):
    old_password: Secret
    new_password: Secret


class AuthController(Controller):
    tags = ["auth"]

    @post(
        "/auth/token",
        status_code=200,
        security=[{}],  # no token needed: overrides the document's bearer requirement
        summary="Sign in and get an API token",
        description=(
            "For staff, volunteers and street administrators. A wrong username or password "
            "is `unauthenticated`; five wrong passwords lock the account for 15 minutes "
            "(`forbidden`); too many attempts from one address are `rate_limited`. "
            "Residents get their token from `POST /activate` instead."
        ),
    )
    async def sign_in(
        self, request: Request[Any, Any, Any], db: Db, data: JSONBody[SignIn]
    ) -> Token:
        token = await auth.sign_in(
            db, data.username, data.password, ip=client_ip(request), kind="api"
        )
        return Token(token=token)

    @delete(
        "/auth/token",
        dependencies=SIGNED_IN,
        summary="Sign out this token",
        description=(
            "Revokes the bearer token of this request; it is `unauthenticated` from now on."
        ),
    )
    async def sign_out(self, request: Request[Any, Any, Any], db: Db, p: Caller) -> None:
        await auth.sign_out(db, p)

    @post(
        "/me/password",
        status_code=204,
        dependencies=allow(*USERS),
        summary="Change one's own password",
        description=(
            "Staff, volunteers and administrators only. A wrong current password or a new "
            "one shorter than 10 characters is a `validation_error`. Every other session "
            "and token of the user is signed out; this one stays valid."
        ),
    )
    async def change_password(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, data: JSONBody[PasswordChange]
    ) -> None:
        await auth.change_password(
            db,
            p,
            data.old_password,
            data.new_password,
            ip=client_ip(request),
        )
