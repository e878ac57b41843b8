"""Signed codes: the residents' pay code, activation code and printed card, and the rotating
check-in code an activity's screen shows.

Every code is ``version + kind + ident + tag``, where ``tag`` is an HMAC-SHA256 of the version,
kind and ident under the server secret, compared in constant time. A code whose tag is wrong is
refused before the database is asked; the ident then finds the row that says whether it expired,
was used or was revoked. The pay code is all digits, so it can be typed at a counter.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from mall.errors import CodeInvalid

VERSION = "1"
PAY, ACTIVATION, CARD = "pay", "activation", "card"

# pay code: "1" + 12 random digits + 7 tag digits = 20 digits (about 63 bits against guessing,
# on top of the rate limit at the counter)
PAY_IDENT_DIGITS, PAY_TAG_DIGITS = 12, 7
_PREFIX = {ACTIVATION: "A", CARD: "C"}
_TEXT = re.compile(r"^([AC])(\d)([A-Z2-7]{26})([A-Z2-7]{13})$")


@dataclass(frozen=True)
class Parsed:
    kind: str
    ident: str


def _mac(secret: str, kind: str, ident: str) -> bytes:
    return hmac.new(secret.encode(), f"{VERSION}:{kind}:{ident}".encode(), hashlib.sha256).digest()


def _b32(data: bytes) -> str:
    import base64

    return base64.b32encode(data).decode().rstrip("=")


def new_pay_code(secret: str) -> tuple[str, str]:
    """A fresh pay code: ``(code, ident)``; only the ident is stored."""
    ident = f"{secrets.randbelow(10**PAY_IDENT_DIGITS):0{PAY_IDENT_DIGITS}d}"
    return pay_code_of(secret, ident), ident


def pay_code_of(secret: str, ident: str) -> str:
    """The pay code whose stored ident this is (the server alone can sign it again)."""
    tag = int.from_bytes(_mac(secret, PAY, ident)[:8], "big") % 10**PAY_TAG_DIGITS
    return f"{VERSION}{ident}{tag:0{PAY_TAG_DIGITS}d}"


def new_text_code(secret: str, kind: str) -> tuple[str, str]:
    """A fresh activation or card code: ``(code, ident)``; URL- and QR-friendly capitals."""
    ident = _b32(secrets.token_bytes(16))[:26]
    return text_code_of(secret, kind, ident), ident


def text_code_of(secret: str, kind: str, ident: str) -> str:
    """The activation or card code whose stored ident this is."""
    return f"{_PREFIX[kind]}{VERSION}{ident}{_b32(_mac(secret, kind, ident))[:13]}"


_CARD_SHAPE = re.compile(r"^C\d[A-Z2-7]{39}$")
_PAY_SHAPE = re.compile(rf"^\d{{{1 + PAY_IDENT_DIGITS + PAY_TAG_DIGITS}}}$")


def shape(text: str) -> str | None:
    """What a scanned or typed text looks like, before any check of its signature: ``card``
    (C, a digit and 39 capitals), ``pay`` (20 digits) or None (a PIN has 4 to 6 digits). The
    counter tells a scan that landed in the PIN box from a PIN by this."""
    text = re.sub(r"[\s-]", "", text or "").upper()
    if _CARD_SHAPE.match(text):
        return CARD
    if _PAY_SHAPE.match(text):
        return PAY
    return None


def card_number_groups(code: str) -> str:
    """A card code in groups of five, as printed under its QR code for typing at a counter."""
    return " ".join(code[i : i + 5] for i in range(0, len(code), 5))


def parse(secret: str, code: str) -> Parsed:
    """The kind and ident of a genuine code; ``CodeInvalid`` for anything else."""
    text = re.sub(r"[\s-]", "", code or "").upper()
    if text.isdigit() and len(text) == 1 + PAY_IDENT_DIGITS + PAY_TAG_DIGITS:
        version, ident, tag = text[0], text[1 : 1 + PAY_IDENT_DIGITS], text[1 + PAY_IDENT_DIGITS :]
        expected = int.from_bytes(_mac(secret, PAY, ident)[:8], "big") % 10**PAY_TAG_DIGITS
        if version == VERSION and hmac.compare_digest(tag, f"{expected:0{PAY_TAG_DIGITS}d}"):
            return Parsed(PAY, ident)
        raise CodeInvalid()
    match = _TEXT.match(text)
    if match:
        prefix, version, ident, tag = match.groups()
        kind = ACTIVATION if prefix == "A" else CARD
        if version == VERSION and hmac.compare_digest(tag, _b32(_mac(secret, kind, ident))[:13]):
            return Parsed(kind, ident)
    raise CodeInvalid()


def pay_code_groups(code: str) -> str:
    """``12345678901234567890`` → ``1234 5678 9012 3456 7890``, for reading aloud or typing."""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


CHECKIN = "checkin"
CHECKIN_TAG_CHARS = 10
_CHECKIN = re.compile(r"^K(\d)-([1-9]\d{0,9})-(\d{1,12})-([A-Z2-7]{10})$")


def _checkin_tag(secret: str, activity_id: int, window: int) -> str:
    return _b32(_mac(secret, CHECKIN, f"{activity_id}:{window}"))[:CHECKIN_TAG_CHARS]


def checkin_code(secret: str, activity_id: int, window: int) -> str:
    """The check-in code of an activity for one time window (``K1-<activity>-<window>-<tag>``).

    Nothing is stored: the tag proves the server made it, the window says when it was shown.
    """
    return f"K{VERSION}-{activity_id}-{window}-{_checkin_tag(secret, activity_id, window)}"


def parse_checkin(secret: str, code: str) -> tuple[int, int]:
    """``(activity id, window)`` of a genuine check-in code; ``CodeInvalid`` for anything else."""
    match = _CHECKIN.match((code or "").strip().upper())
    if match:
        version, activity, window, tag = match.groups()
        expected = _checkin_tag(secret, int(activity), int(window))
        if version == VERSION and hmac.compare_digest(tag, expected):
            return int(activity), int(window)
    raise CodeInvalid()
