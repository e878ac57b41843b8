"""Headers on every response: a strict Content-Security-Policy with no inline script, and an
hour's caching for static files (the service worker keeps its own copy, renewed every release)."""

from __future__ import annotations

from litestar.types import Message, Scope

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


async def add_security_headers(message: Message, scope: Scope) -> None:
    """A ``before_send`` hook: it sees every response, errors and unmatched routes included."""
    if message["type"] == "http.response.start":
        headers = list(message.get("headers", [])) + HEADERS
        if scope.get("path", "").startswith("/static/") and message.get("status") == 200:
            headers.append(STATIC_CACHE)
        message["headers"] = headers
