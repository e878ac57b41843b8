"""The chart of accounts of a community book, and the account codes the rest of ``mall`` uses.

mint → budget → wallet:<resident> → redeemed:<outlet> / expired; ``holds`` for reservations.
"""

from __future__ import annotations

import ledger
from ledger import Connection

MINT, BUDGET, EXPIRED = "mint", "budget", "expired"
PATHS = ("timely_help", "adding_to_good", "settling_disputes")
WALLET_PREFIX = "wallet:r"


def wallet(resident_id: int) -> str:
    return f"{WALLET_PREFIX}{resident_id}"


def redeemed(outlet_id: int) -> str:
    return f"redeemed:o{outlet_id}"


async def open_community_book(conn: Connection, slug: str, name: str) -> int:
    """The community's book with its fixed accounts, created if missing."""
    book = await ledger.open_book(conn, slug, name)
    await ledger.open_account(conn, book, MINT, no_negative=False)
    await ledger.open_account(conn, book, BUDGET, no_negative=True)
    await ledger.open_account(conn, book, EXPIRED, no_negative=False)
    await ledger.open_account(conn, book, ledger.HOLDS_ACCOUNT, no_negative=True)
    return book
