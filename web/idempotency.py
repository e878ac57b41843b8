"""The one idempotency mechanism of the API and the forms, mapped onto the ledger's (and the
catalog's) own idempotency key and request hash.

The caller's key comes from the ``Idempotency-Key`` header under /api (API.md), or from the hidden
``key`` field a page rendered with ``new_key()``. Scoped to the caller, so two clients never
collide, it becomes the journal's or movement's ``idempotency_key``; the hash of method, path and
body becomes its ``request_hash``. A retry with the same body replays the first result; another
body with the same key is ``idempotency_key_reused``. This module never writes anything itself.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.exceptions import ValidationException

import ledger
from mall.errors import N_, Invalid
from web.session import is_api

MAX_KEY_LENGTH = 120
FORM_FIELD = "key"


@dataclass(frozen=True)
class Idempotency:
    key: str
    request_hash: str


def new_key() -> str:
    """A fresh key for a form to carry in its hidden ``key`` field."""
    return secrets.token_hex(16)


def stored_key(request: Request[Any, Any, Any], principal: str, key: str) -> str:
    """The idempotency key stored for ``key`` sent by ``principal``: the same on every retry, and
    another for every caller and for the API and the pages."""
    return f"{'api' if is_api(request) else 'web'}:{principal}:{key}"


async def idempotency(request: Request[Any, Any, Any], principal: str) -> Idempotency:
    """The stored key and request hash of this request; the key is required.

    A missing or malformed header is the API's ``validation_error``; a form without a good key
    (a page from before this mechanism, or a hand-made request) is told to open the form again.
    """
    if is_api(request):
        key = request.headers.get("idempotency-key", "").strip()
        if not key:
            raise ValidationException(
                "缺少 Idempotency-Key 请求头 / the Idempotency-Key header is required"
            )
        if len(key) > MAX_KEY_LENGTH or not key.isprintable():
            raise ValidationException(
                f"Idempotency-Key 最长 {MAX_KEY_LENGTH} 个字符 / Idempotency-Key is at most "
                f"{MAX_KEY_LENGTH} printable characters"
            )
    else:
        key = str((await request.form()).get(FORM_FIELD, "")).strip()
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            raise Invalid(N_("This form is out of date. Please open it again."))
    body = (await request.body()).decode("utf-8", errors="replace")
    scope = request.scope  # the path as ``request.url.path`` has it, without building a whole URL
    path = scope.get("root_path", "") + scope["path"]
    return Idempotency(
        key=stored_key(request, principal, key),
        request_hash=ledger.request_hash({"method": request.method, "path": path, "body": body}),
    )
