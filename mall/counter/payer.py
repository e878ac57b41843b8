"""Who is paying at the counter: the resident behind a scanned pay code, or behind a printed
card and its PIN (wrong PINs are counted, and the card blocks after ``MAX_WRONG_PINS``).
"""

from __future__ import annotations

from datetime import datetime

from ledger import Connection
from mall.access import MAX_ID, Principal
from mall.db import Database
from mall.errors import (
    N_,
    CodeInvalid,
    Forbidden,
    Invalid,
)
from mall.people import credentials


async def card_resident(
    db: Database, p: Principal, community_id: int, code: str, pin: str | None, ip: str
) -> int:
    """The resident of a printed card whose PIN is right, if they belong to ``community_id``."""
    if not pin:
        raise Invalid(N_("Please enter the card's PIN."))
    resident_id = await credentials.resident_for_card(db, p, code, pin, ip=ip)
    async with db.connection() as conn:
        community = await conn.fetchval(
            "SELECT community FROM mall_resident WHERE id = ?", resident_id
        )
    if community != community_id:
        raise CodeInvalid()
    return resident_id


class OtherCommunity(Forbidden):
    message = N_(
        "A proxy can only pay and collect at their own community's counter, "
        "for a resident of that community."
    )


async def check_behalf(conn: Connection, ident: str, on_behalf_of: int, community_id: int) -> None:
    """A proxy (代领) at the counter, before their code is checked or used: the code's holder
    (a pay code, offline code or card) and ``on_behalf_of`` must both be of the counter's
    community, else ``forbidden`` and nothing is touched. A code that names nobody is left to
    the code checks (``code_invalid``), so a plain checkout's answers never change."""
    holder = await conn.fetchval(
        "SELECT r.community FROM mall_code c JOIN mall_resident r ON r.id = c.resident "
        "WHERE c.ident = ?",
        ident,
    )
    theirs = None
    if 0 < on_behalf_of <= MAX_ID:  # one who is nobody is ``check_grant``'s (no grant)
        theirs = await conn.fetchval(
            "SELECT community FROM mall_resident WHERE id = ?", on_behalf_of
        )
    if (holder is not None and holder != community_id) or (
        theirs is not None and theirs != community_id
    ):
        raise OtherCommunity()


async def check_card(conn: Connection, ident: str, at: datetime) -> None:
    """In the checkout's own transaction: the printed card whose PIN was checked before it
    still pays (``credentials.check_pays``): its record closed meanwhile is ``account_closed``,
    a new card issued meanwhile revoked it (``code_invalid``), a card waiting for approval never
    pays (``card_pending``). mall_checkout makes the same checks."""
    row = await conn.fetchrow(
        "SELECT c.revoked_at, c.used_at, c.expires_at, c.pending, r.closed_at FROM mall_code c "
        "JOIN mall_resident r ON r.id = c.resident WHERE c.ident = ? AND c.kind = 'card'",
        ident,
    )
    credentials.check_pays(row, at)
