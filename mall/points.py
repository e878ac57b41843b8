"""The chart of accounts of a community book, and the account codes the rest of ``mall`` uses.

mint → budget → wallet:<resident> → redeemed:<outlet> / expired; ``holds`` for reservations.
"""

from __future__ import annotations

from collections.abc import Sequence

import ledger
from ledger import Connection
from mall.errors import N_, BudgetExhausted

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


async def award_from_budget(
    conn: Connection,
    book: int,
    lines: Sequence[tuple[int, int]],
    *,
    idempotency_key: str,
    path: str,
    memo: str,
) -> ledger.Journal:
    """One award journal: budget → each ``(resident id, points)`` wallet. A budget that does not
    cover it is ``budget_exhausted`` (saying what is left), never ``insufficient_points``."""
    total = sum(amount for _, amount in lines)
    try:
        return await ledger.post_journal(
            conn,
            book,
            "award",
            [(BUDGET, -total)] + [(wallet(r), amount) for r, amount in lines],
            idempotency_key=idempotency_key,
            path=path,
            memo=memo,
        )
    except ledger.InsufficientFunds as exc:
        if exc.account == BUDGET:
            raise BudgetExhausted(
                N_("The community's budget has {left} points left; this award needs {total}."),
                left=exc.balance,
                total=total,
            ) from exc
        raise
