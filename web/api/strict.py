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

_NO_BODY = object()
_body_types: dict[int, Any] = {}


def _body_type(handler: HTTPRouteHandler) -> Any:
    """The annotation of the handler's ``data`` parameter, or ``_NO_BODY``."""
    key = id(handler)
    if key not in _body_types:
        param = handler.parsed_fn_signature.parameters.get("data")
        _body_types[key] = _NO_BODY if param is None else param.annotation
    return _body_types[key]


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
    expected = _body_type(handler)
    if expected is _NO_BODY:
        return
    body = await request.body()
    try:
        msgspec.json.decode(body, type=expected, strict=True)
    except msgspec.ValidationError as exc:
        raise ValidationException(f"Validation failed: {exc}") from None
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        raise ValidationException("the request body is not valid JSON") from None
