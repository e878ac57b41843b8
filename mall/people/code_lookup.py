"""Finding the resident behind a code without using it up: staff's look-up by a pay code, an
offline pay code or a printed card and its PIN (to award or check in), and the counter's checks
of a scanned card or pay code before the checkout that uses it.

The rows and their rules are ``credentials``' (and ``offline_codes``'); this module only reads
them.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from ledger import Connection, Row
from mall import access
from mall.access import STAFF_ROLES, Principal
from mall.db import Database, must_exist
from mall.errors import CodeInvalid
from mall.people import codes
from mall.people.credentials import (
    MAX_WRONG_PINS,
    CardLocked,
    check_usable,
    code_row,
    now,
    resident_for_card,
)
from mall.settings import get_settings


class Holder(msgspec.Struct, frozen=True, kw_only=True):
    """The resident a code stands for, as staff see them."""

    id: int
    name: str


async def pay_code_row(conn: Connection, ident: str, at: datetime) -> Row:
    """The pay code's (or offline pay code's) row, if it can still pay: else ``account_closed``
    (its resident's record was closed), ``code_invalid``, ``code_used`` or ``code_expired``."""
    row = await conn.fetchrow(
        "SELECT c.id, c.resident, c.created_at, c.valid_from, c.expires_at, c.used_at, "
        "c.revoked_at, r.community, r.closed_at "
        "FROM mall_code c JOIN mall_resident r ON r.id = c.resident "
        "WHERE c.ident = ? AND c.kind IN ('pay', 'offline')",
        ident,
    )
    check_usable(row, at)
    assert row is not None
    check_window(row, at)
    return row


def check_window(row: Row, at: datetime) -> None:
    """An offline pay code (``mall.people.offline_codes``) pays only in its own window: before
    it, ``code_invalid`` (a code taken from a later window, or a phone clock far off); after it,
    ``check_usable`` already said ``code_expired``. mall_checkout makes the same check."""
    if row["valid_from"] is not None and row["valid_from"] > at:
        raise CodeInvalid()


async def card_at_counter(db: Database, p: Principal, card_code: str) -> int:
    """The row id of a printed card scanned at the counter before its PIN is typed, if it could
    pay once the PIN is right: else what ``resident_for_card`` would say without counting a try
    (``code_invalid`` for another community's card, ``card_pending``, a locked card). Nothing
    of the PIN is checked here."""
    access.require(p, ("admin", "staff", "volunteer"))
    async with db.connection() as conn:
        row = await code_row(conn, card_code, codes.CARD)
        found = await conn.fetchrow(
            "SELECT r.community, c.failed_pins FROM mall_code c "
            "JOIN mall_resident r ON r.id = c.resident WHERE c.id = ?",
            row["id"],
        )
    found = must_exist(found)
    if not p.is_admin and found["community"] != p.community_id:
        raise CodeInvalid()
    if int(found["failed_pins"]) >= MAX_WRONG_PINS:
        raise CardLocked()
    return int(row["id"])


async def find_resident_by_code(
    db: Database, p: Principal, code: str, pin: str | None = None, *, ip: str = ""
) -> Holder:
    """The resident behind a pay code (digits), an offline pay code (in its window, as the
    counter takes it: ``pay_code_row``) or a printed card code plus its PIN, for staff finding
    someone to award or check in. The pay code is NOT used up (only a checkout uses it); a card
    needs its PIN, with ``resident_for_card``'s limit on wrong PINs. A code of another community
    is ``code_invalid``, never a hint that it exists."""
    access.require(p, STAFF_ROLES)
    parsed = codes.parse(get_settings().secret_key, code)
    if parsed.kind == codes.CARD:
        resident_id = await resident_for_card(db, p, code, pin or "", ip=ip)
    elif parsed.kind != codes.PAY:
        raise CodeInvalid()
    async with db.connection() as conn:
        if parsed.kind == codes.PAY:
            resident_id = int((await pay_code_row(conn, parsed.ident, now()))["resident"])
        row = await conn.fetchrow(
            "SELECT id, name, community FROM mall_resident WHERE id = ?", resident_id
        )
    if row is None or (not p.is_admin and row["community"] != p.community_id):
        raise CodeInvalid()
    return Holder(id=row["id"], name=row["name"])
