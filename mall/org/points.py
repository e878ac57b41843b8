"""The chart of accounts of a community book, and the account codes the rest of ``mall`` uses.

mint → budget → wallet:<resident> → redeemed:<outlet>:<n>; ``holds`` for reservations. Expired
points go from the wallet back to ``budget`` (journal kind ``expiry``, ``mall.earning.expiring``);
``expired`` stays in the chart, unused.
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


# Every checkout locks the account its points go to. With one per outlet, all the counters of
# an outlet would queue for that one row (measured on PostgreSQL, 16 counters at one outlet:
# 118 checkouts/s with p99 520 ms, against 139-176/s with p99 171-174 ms split), so each outlet
# has REDEEMED_SHARDS of them, and a resident's spending always goes to the same one (DESIGN.md:
# split a hot account).
REDEEMED_SHARDS = 8


def redeemed(outlet_id: int, resident_id: int) -> str:
    """The outlet's account that ``resident_id``'s spending goes to."""
    return f"redeemed:o{outlet_id}:{resident_id % REDEEMED_SHARDS}"


def redeemed_accounts(outlet_id: int) -> list[str]:
    """All of the outlet's redeemed accounts: their balances add up to what it took in."""
    return [redeemed(outlet_id, n) for n in range(REDEEMED_SHARDS)]


async def open_outlet_accounts(conn: Connection, book: int, outlet_id: int) -> None:
    for code in redeemed_accounts(outlet_id):
        await ledger.open_account(conn, book, code, no_negative=False)


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
