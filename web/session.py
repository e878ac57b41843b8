"""Who is asking, for the web layer: the session cookie for pages, the bearer token for the API.

The API never reads the cookie, so a page's session cannot be ridden by a cross-site request to
the API (which is exempt from the CSRF check because it needs a bearer token).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.datastructures import Cookie

from mall import access
from mall.access import Principal
from mall.db import Database
from mall.people.auth import principal_for
from mall.settings import Settings

SESSION_COOKIE = "mall_session"
_UNSET = object()


def client_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else ""


def is_api(request: Request[Any, Any, Any]) -> bool:
    """Whether the request is the JSON API's (read from the ASGI scope: ``request.url`` would
    build a whole URL object for it)."""
    return str(request.scope["path"]).startswith("/api/")


async def principal(request: Request[Any, Any, Any], db: Database) -> Principal | None:
    """The signed-in principal of this request, looked up once per request."""
    cached = request.scope.get("mall_principal", _UNSET)
    if cached is None or isinstance(cached, Principal):
        return cached
    if is_api(request):
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else None
    else:
        token = request.cookies.get(SESSION_COOKIE)
    found = await principal_for(db, token)
    # a key of our own in the ASGI scope, which Litestar's Scope type does not list
    request.scope["mall_principal"] = found  # type: ignore[typeddict-unknown-key]
    return found


def own_resident_id(p: Principal) -> int:
    """The resident record of a resident's own session; anyone else is ``forbidden``."""
    return access.resident_self(p).resident_id


def session_cookie(token: str, max_age: int, settings: Settings) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=settings.secure,
        path="/",
    )


def clear_session(response: Response[Any]) -> Response[Any]:
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
