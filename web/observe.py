"""One pure ASGI middleware around every routed request, doing in one pass over its headers what
each request needs before its handler runs:

- its id (for the log, and returned in ``X-Request-ID`` by web/headers.py; web/logs.py);
- the language it is answered in (the ``lang`` cookie, else ``Accept-Language``; web/i18n.py);
- a path with a NUL byte, which no name holds, refused as a ``validation_error``;
- afterwards, its count and duration by route (web/metrics.py), with the status web/headers.py
  saw go out.

Written by hand rather than with Litestar's Prometheus middleware, structlog's bound context and
a ``before_request`` hook: those cost about 170 µs of server CPU per checkout, and the hook
another 2% of its instructions, building the request's headers and cookies to read two of them
(bench/checkout.py, bench/instructions.py, docs/performance.md). This costs a few microseconds.
"""

from __future__ import annotations

import itertools
import secrets
from time import perf_counter
from typing import cast

from litestar.enums import ScopeType
from litestar.exceptions import ValidationException
from litestar.types import ASGIApp, Receive, Scope, Send

from web import i18n
from web.logs import REQUEST_ID, TOKEN
from web.metrics import record

#: A request's own id: this process's random prefix and a counter (16 hex digits), unique without
#: reading the system's random source on every request (which cost more than the rest of this).
_PREFIX = secrets.token_hex(4)
_COUNT = itertools.count(1)

#: Keys of ours in the ASGI scope: the request's id, and the status its answer went out with.
RID = "mall_request_id"
STATUS = "mall_status"


def new_request_id() -> str:
    return f"{_PREFIX}{next(_COUNT) & 0xFFFFFFFF:08x}"


def lang_cookie(header: bytes) -> str | None:
    """The ``lang`` cookie's value in a ``Cookie`` header, if it has one."""
    for part in header.decode("latin-1").split(";"):
        name, _, value = part.partition("=")
        if name.strip() == "lang":
            return value.strip().strip('"')
    return None


class Observed:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        start = perf_counter()
        given = cookie = accept = b""
        for name, value in scope["headers"]:  # ASGI header names are lower case
            if name == b"x-request-id":
                given = value
            elif name == b"cookie":
                cookie = value
            elif name == b"accept-language":
                accept = value
        rid = given.decode() if given and TOKEN.match(given) else new_request_id()
        REQUEST_ID.set(rid)
        scope[RID] = rid  # type: ignore[literal-required]  # a key of ours, not in Litestar's Scope
        i18n.set_language(
            i18n.choose(lang_cookie(cookie) if cookie else None, accept.decode("latin-1"))
        )
        try:
            if "\x00" in scope["path"]:  # the file system would refuse it with an error of its own
                raise ValidationException("a path cannot hold a NUL byte")
            await self.app(scope, receive, send)
        finally:
            template = scope.get("path_template", "")  # set by routing, once a route matched
            status = cast("int", scope.get(STATUS, 500))  # set by web/headers.py
            record(scope["method"], template, status, perf_counter() - start)
