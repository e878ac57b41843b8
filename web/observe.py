"""One pure ASGI middleware around every request, for the operator: the request's id (for the log,
and returned in ``X-Request-ID``; web/logs.py) and its count and duration by route (web/metrics.py).

Written by hand rather than with Litestar's Prometheus middleware and structlog's bound context:
those two cost about 170 µs of server CPU per checkout (bench/checkout.py, docs/performance.md),
this a few microseconds.
"""

from __future__ import annotations

import itertools
import secrets
from time import perf_counter

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from web.logs import REQUEST_ID, TOKEN
from web.metrics import record

#: A request's own id: this process's random prefix and a counter (16 hex digits), unique without
#: reading the system's random source on every request (which cost more than the rest of this).
_PREFIX = secrets.token_hex(4)
_COUNT = itertools.count(1)


def new_request_id() -> str:
    return f"{_PREFIX}{next(_COUNT) & 0xFFFFFFFF:08x}"


class Observed:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        start = perf_counter()
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"")
        rid = given.decode() if TOKEN.match(given) else new_request_id()
        REQUEST_ID.set(rid)
        status = 500

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        finally:
            template = scope.get("path_template", "")  # set by routing, once a route matched
            record(scope["method"], template, status, perf_counter() - start)
