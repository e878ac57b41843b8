"""JSON bodies are read strictly: a number sent as a string (``"quantity": "1"``) is refused.

Litestar converts every handler argument with msgspec's lax mode, which suits query strings and
forms (text only) but would let a JSON body's ``"1"`` pass as ``1``. Before the handler runs, the
body is decoded once more, strictly, against the handler's ``data`` type; a mismatch is a
``validation_error`` naming the field. One decode of a small body costs microseconds.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException
from litestar.handlers import HTTPRouteHandler

#: id(handler) → (the handler, its decoder). The handler is kept so that its id is never reused
#: by another app's handler (tests make many apps in one process; a reused id decoded one
#: route's body as another route's type).
_decoders: dict[int, tuple[HTTPRouteHandler, msgspec.json.Decoder[Any] | None]] = {}


def _decoder(handler: HTTPRouteHandler) -> msgspec.json.Decoder[Any] | None:
    """A strict decoder of the handler's ``data`` type (made once per handler), or None."""
    key = id(handler)
    if key not in _decoders:
        param = handler.parsed_fn_signature.parameters.get("data")
        _decoders[key] = (
            handler,
            None if param is None else msgspec.json.Decoder(param.annotation, strict=True),
        )
    return _decoders[key][1]


async def check_json_body(request: Request[Any, Any, Any]) -> None:
    """Refuse a JSON body that only lax conversion would accept (an API route's ``before_request``)."""
    if (
        request.method not in ("POST", "PUT", "PATCH")
        or request.content_type[0] != "application/json"
    ):
        return
    handler = request.route_handler
    if not isinstance(handler, HTTPRouteHandler):
        return
    decoder = _decoder(handler)
    if decoder is None:
        return
    body = await request.body()
    try:
        decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise ValidationException(f"Validation failed: {exc}") from None
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        raise ValidationException("the request body is not valid JSON") from None
