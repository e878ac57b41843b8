"""Headers on every response: a strict Content-Security-Policy with no inline script, an hour's
caching for static files (the service worker keeps its own copy, renewed every release), and the
request's id (web/observe.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import cast

from litestar.types import Message, Scope

from web.observe import RID, STATUS

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; worker-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


STATIC_CACHE = (b"cache-control", b"public, max-age=3600")


#: On HTTPS, browsers are told to come back only over HTTPS for a year (and never to let a
#: certificate warning be clicked through).
HSTS = (b"strict-transport-security", b"max-age=31536000")


def security_headers(secure: bool) -> Callable[[Message, Scope], Awaitable[None]]:
    """A ``before_send`` hook: it sees every response, errors and unmatched routes included.
    It also notes the status in the scope, for web/observe.py's count of requests."""
    every = HEADERS + ([HSTS] if secure else [])

    async def add_security_headers(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            status = scope[STATUS] = message["status"]  # type: ignore[literal-required]
            headers = [*message.get("headers", ()), *every]
            rid = cast("str | None", scope.get(RID))
            if rid is not None:  # not on a path that matched no route
                headers.append((b"x-request-id", rid.encode()))
            if status == 200 and scope["path"].startswith("/static/"):
                headers.append(STATIC_CACHE)
            message["headers"] = headers

    return add_security_headers
