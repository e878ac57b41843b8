"""Who may call an endpoint: ``dependencies=allow(*roles)`` on a route hands its handler the
signed-in principal as ``p: Caller``, after checking the role: 401 for nobody, 403 for a wrong one.

These are the coarse gate only. The services in ``mall`` check the scope (which community, which
resident) themselves, so an endpoint without one is still safe. The caller is checked before the
body's fields are, so a refused caller hears 401 or 403 rather than a field's 400; only a body that
is not JSON at all is refused (400) first, as Litestar decodes it before resolving dependencies.

A dependency, unlike a guard, costs no copy of the route handler per request (Litestar 2 hands each
guard ``copy(handler)``: 5% of the server's time per checkout). Litestar resolves a dependency only
for a handler that declares it, so ``web.app`` refuses to start when a route has ``p`` but its
handler does not take it.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import Provide

from mall import access
from mall.access import Principal
from mall.errors import Unauthenticated
from web.deps import Db
from web.session import principal

STAFF = access.STAFF_ROLES
USERS = ("admin", "staff", "volunteer")
RESIDENT = ("resident",)


def allow(*roles: str) -> dict[str, Provide]:
    """The principal ``p`` of signed-in callers with one of ``roles``; others are refused."""

    async def caller(request: Request[Any, Any, Any], db: Db) -> Principal:
        return access.require(await principal(request, db), roles)

    return {"p": Provide(caller)}


async def _signed_in(request: Request[Any, Any, Any], db: Db) -> Principal:
    found = await principal(request, db)
    if found is None:
        raise Unauthenticated()
    return found


SIGNED_IN = {"p": Provide(_signed_in)}
"""The principal ``p`` of any signed-in caller, user or resident."""
