"""Reads: an account's balance (O(1), cached on the account), the total of a family of accounts,
and an account's statement (the passbook).

The statement is newest first and paginated by a cursor (the account version to read below), so
a page costs one index range scan on (account, version) however long the history is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ledger.connection import Connection
from ledger.errors import AccountNotFound


@dataclass(frozen=True)
class Balance:
    balance: int
    version: int


@dataclass(frozen=True)
class Entry:
    journal_id: int
    at: datetime
    kind: str
    path: str | None
    memo: str
    amount: int
    balance_after: int
    version: int


@dataclass(frozen=True)
class Statement:
    entries: list[Entry]
    next: int | None
    """Pass as ``before`` to read the next (older) page; ``None`` on the last page."""


async def get_balance(conn: Connection, book_id: int, account: str) -> Balance:
    row = await conn.fetchrow(
        "SELECT balance, version FROM ledger_account WHERE book = ? AND code = ?", book_id, account
    )
    if row is None:
        raise AccountNotFound(account)
    return Balance(int(row["balance"]), int(row["version"]))


async def total_balance(conn: Connection, book_id: int, prefix: str) -> int:
    """The sum of the cached balances of the book's accounts whose code starts with ``prefix``
    (exactly, case and all): one scan of the book's accounts, none of its postings."""
    if not prefix:
        raise ValueError("a prefix is required")
    total = await conn.fetchval(
        "SELECT COALESCE(SUM(balance), 0) FROM ledger_account "
        "WHERE book = ? AND substr(code, 1, ?) = ?",
        book_id,
        len(prefix),
        prefix,
    )
    return int(total)


async def get_statement(
    conn: Connection, book_id: int, account: str, *, limit: int = 20, before: int | None = None
) -> Statement:
    """Up to ``limit`` entries of the account, newest first, older than version ``before``."""
    limit = max(1, min(int(limit), 200))
    account_id = await conn.fetchval(
        "SELECT id FROM ledger_account WHERE book = ? AND code = ?", book_id, account
    )
    if account_id is None:
        raise AccountNotFound(account)
    below = before if before is not None else 2**31 - 1
    rows = await conn.fetch(
        "SELECT p.version, p.amount, p.balance_after, j.id, j.created_at, j.kind, j.path, j.memo "
        "FROM ledger_posting p JOIN ledger_journal j ON j.id = p.journal "
        "WHERE p.account = ? AND p.version < ? ORDER BY p.version DESC LIMIT ?",
        account_id,
        below,
        limit + 1,
    )
    entries = [
        Entry(
            journal_id=int(r["id"]),
            at=r["created_at"],
            kind=r["kind"],
            path=r["path"],
            memo=r["memo"],
            amount=int(r["amount"]),
            balance_after=int(r["balance_after"]),
            version=int(r["version"]),
        )
        for r in rows[:limit]
    ]
    more = len(rows) > limit
    return Statement(entries, entries[-1].version if more and entries else None)
