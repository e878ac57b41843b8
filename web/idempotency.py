"""The API's ``Idempotency-Key`` header, mapped onto the ledger's own idempotency key and hash.

There is one mechanism, not two: the header (scoped to the caller, so two clients never collide)
becomes the journal's ``idempotency_key``, and the hash of method, path and body becomes its
``request_hash``. A retry with the same body replays the first journal; another body with the
same key is ``idempotency_key_reused``.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Request
from litestar.exceptions import ValidationException

import ledger

MAX_KEY_LENGTH = 120


@dataclass(frozen=True)
class Idempotency:
    key: str
    request_hash: str


async def idempotency(request: Request, principal: str) -> Idempotency:
    """The ledger key and request hash of this request; the header is required."""
    header = request.headers.get("idempotency-key", "").strip()
    if not header:
        raise ValidationException(
            "缺少 Idempotency-Key 请求头 / the Idempotency-Key header is required"
        )
    if len(header) > MAX_KEY_LENGTH or not header.isprintable():
        raise ValidationException(
            f"Idempotency-Key 最长 {MAX_KEY_LENGTH} 个字符 / Idempotency-Key is at most "
            f"{MAX_KEY_LENGTH} printable characters"
        )
    body = (await request.body()).decode("utf-8", errors="replace")
    return Idempotency(
        key=f"api:{principal}:{header}",
        request_hash=ledger.request_hash(
            {"method": request.method, "path": request.url.path, "body": body}
        ),
    )
