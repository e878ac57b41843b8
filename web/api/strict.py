"""JSON bodies are read strictly: a number sent as a string (``"quantity": "1"``) is refused.

Litestar converts every handler argument with msgspec's lax mode, which suits query strings and
forms (text only) but would let a JSON body's ``"1"`` pass as ``1``. An API call's JSON body is
therefore decoded by :class:`StrictRequest` straight into the handler's ``data`` type with a
strict decoder (made once per handler); Litestar's own conversion afterwards finds a value of
the right type and passes it through. The body is decoded once: the earlier design decoded it a
second time in a ``before_request`` hook, which cost about 60 µs of a checkout (issue #15,
docs/performance.md). A mismatch is a ``validation_error`` naming the field.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.types import Empty

#: handler id → (the handler, its strict decoder). The handler is kept with its decoder: an id
#: is only unique while its object lives, and a process that builds several apps (the tests)
#: would otherwise hand a new handler the decoder of a freed one that had the same id.
_decoders: dict[int, tuple[HTTPRouteHandler, msgspec.json.Decoder[Any] | None]] = {}


def _decoder(handler: HTTPRouteHandler) -> msgspec.json.Decoder[Any] | None:
    """A strict decoder of the handler's ``data`` type (made once per handler), or None."""
    found = _decoders.get(id(handler))
    if found is None or found[0] is not handler:
        param = handler.parsed_fn_signature.parameters.get("data")
        decoder = None if param is None else msgspec.json.Decoder(param.annotation, strict=True)
        found = _decoders[id(handler)] = (handler, decoder)
    return found[1]


class StrictRequest(Request[Any, Any, Any]):
    """The app's request: under ``/api/`` a JSON body is decoded strictly into the handler's
    ``data`` type; everywhere else Litestar's own decoding."""

    async def json(self) -> Any:
        if self._json is not Empty:
            return self._json
        handler = self.route_handler
        if (
            not self.scope["path"].startswith("/api/")
            or self.scope["method"] not in ("POST", "PUT", "PATCH")
            or not isinstance(handler, HTTPRouteHandler)
            or self.content_type[0] != "application/json"
        ):
            return await super().json()
        decoder = _decoder(handler)
        if decoder is None:
            return await super().json()
        body = await self.body()
        try:
            value = decoder.decode(body)
        except msgspec.ValidationError as exc:
            raise ValidationException(f"Validation failed: {exc}") from None
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            raise ValidationException("the request body is not valid JSON") from None
        self._json = self._connection_state.json = value
        return value
