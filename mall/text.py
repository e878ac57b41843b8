"""Text typed by people: trimmed, bounded, and free of control characters (a NUL byte in a name
is refused here, in words, rather than by the database with a 500)."""

from __future__ import annotations

import unicodedata

from mall.errors import N_, Invalid


def plain(
    value: str | None,
    *,
    max_length: int,
    required: bool = True,
    empty: str = N_("Please enter a name of at most {n} characters."),
) -> str:
    text = (value or "").strip()
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in text):
        raise Invalid(N_("Please use ordinary letters, digits and punctuation only."))
    if (required and not text) or len(text) > max_length:
        raise Invalid(empty, n=max_length)
    return text
