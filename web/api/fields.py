"""Field types the API shares: bounded text without control characters, ids, slugs, cursors.

Every string that reaches the database passes one of these, so a NUL byte or a 64-bit id is a
``validation_error`` at the door rather than a database error (a 500) inside.
"""

from __future__ import annotations

from typing import Annotated

from litestar.params import HeaderParameter, PathParameter, QueryParameter
from msgspec import Meta

MAX_ID = 2**31 - 1
END = r"(?![\s\S])"
"""The end of the text in Python and JavaScript alike (Python's ``$`` also allows a final newline)."""
NO_CONTROL = r"^[^\x00-\x1f\x7f]*" + END

Name = Annotated[str, Meta(max_length=200, pattern=NO_CONTROL)]
"""A name, title or memo on one line; the service checks the exact rules."""

Secret = Annotated[str, Meta(max_length=1024)]
"""A password: anything goes, but not megabytes to hash."""

Code = Annotated[str, Meta(max_length=100, pattern=NO_CONTROL)]
"""A code as printed or typed (activation, card, PIN)."""

Slug = Annotated[str, PathParameter(max_length=63, pattern=r"^[a-z0-9-]+" + END)]
"""A community code in a path; one that does not exist is ``not_found``."""

Id = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
"""A row id in a path."""

Limit = Annotated[int, QueryParameter(ge=1, le=200, description="entries per page (1 to 200)")]

Before = Annotated[
    int | None,
    QueryParameter(
        ge=1, le=MAX_ID, description="the `next` of the previous page, for older entries"
    ),
]

IdempotencyKey = Annotated[
    str,
    HeaderParameter(
        name="Idempotency-Key",
        max_length=120,
        description="a unique string per operation: a retry with the same key and body "
        "repeats nothing and returns the first response",
    ),
]
"""The header as the OpenAPI document shows it and Litestar bounds it; ``web.idempotency`` maps it
onto the stored key, as it does the hidden ``key`` field of a form."""
