"""Who may call an endpoint, checked before its body is read: 401 for nobody, 403 for a wrong role.

These are the coarse gate only. The services in ``mall`` check the scope (which community, which
resident) themselves, so an endpoint without a guard is still safe; the guard makes a refused
caller hear 401 or 403 before a malformed body could earn a 400.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.types import Guard

from mall import access
from mall.access import Principal
from mall.errors import Unauthenticated
from web.session import principal

STAFF = access.STAFF_ROLES
USERS = ("admin", "staff", "volunteer")
RESIDENT = ("resident",)


def allow(*roles: str) -> Guard:
    """A guard letting through signed-in callers with one of ``roles``."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        access.require(await principal(connection), roles)  # type: ignore[arg-type]

    return guard


async def signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if await principal(connection) is None:  # type: ignore[arg-type]
        raise Unauthenticated()


async def caller(request: Request) -> Principal:
    """The signed-in principal of a guarded endpoint."""
    found = await principal(request)
    if found is None:
        raise Unauthenticated()
    return found
