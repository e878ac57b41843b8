"""Bulk reads for reports: every posting of a family of accounts, a page at a time by posting id
(keyset), so an export of 100,000 postings never holds more than one page. Reads only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ledger.connection import Connection

#: the most postings one page may hold
MAX_PAGE = 5000


@dataclass(frozen=True)
class PostingLine:
    """One posting with its account's code and its journal's date and words."""

    id: int
    journal_id: int
    at: datetime
    account: str
    kind: str
    path: str | None
    memo: str
    amount: int
    balance_after: int
    version: int


async def postings(
    conn: Connection,
    book_id: int,
    *,
    accounts_prefix: str,
    since: datetime,
    until: datetime,
    after_id: int = 0,
    limit: int = 1000,
) -> list[PostingLine]:
    """Up to ``limit`` postings of the book's accounts whose code starts with
    ``accounts_prefix``, of journals made in ``[since, until)``, with ids above ``after_id``,
    oldest id first. Pass the last id back as ``after_id`` for the next page; a page shorter
    than ``limit`` is the last."""
    if not accounts_prefix:
        raise ValueError("a prefix is required")
    limit = max(1, min(int(limit), MAX_PAGE))
    rows = await conn.fetch(
        "SELECT p.id, p.journal, p.amount, p.balance_after, p.version, a.code, "
        "j.created_at, j.kind, j.path, j.memo "
        # CROSS JOIN: SQLite keeps this order, walking postings by id from the cursor (any other
        # order reads and sorts every posting of the book on every page); PostgreSQL plans freely
        "FROM ledger_posting p CROSS JOIN ledger_account a CROSS JOIN ledger_journal j "
        "WHERE a.id = p.account AND j.id = p.journal "
        "AND a.book = ? AND substr(a.code, 1, ?) = ? AND p.id > ? "
        "AND j.created_at >= ? AND j.created_at < ? ORDER BY p.id LIMIT ?",
        book_id,
        len(accounts_prefix),
        accounts_prefix,
        after_id,
        since,
        until,
        limit,
    )
    return [
        PostingLine(
            id=int(r["id"]),
            journal_id=int(r["journal"]),
            at=r["created_at"],
            account=r["code"],
            kind=r["kind"],
            path=r["path"],
            memo=r["memo"],
            amount=int(r["amount"]),
            balance_after=int(r["balance_after"]),
            version=int(r["version"]),
        )
        for r in rows
    ]


async def balances(conn: Connection, book_id: int, accounts: list[str]) -> dict[str, int]:
    """The cached balances of the named accounts of the book (one query; missing ones left out)."""
    if not accounts:
        return {}
    marks = ", ".join("?" for _ in accounts)
    rows = await conn.fetch(
        f"SELECT code, balance FROM ledger_account WHERE book = ? AND code IN ({marks})",
        book_id,
        *accounts,
    )
    return {r["code"]: int(r["balance"]) for r in rows}
