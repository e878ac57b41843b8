"""Reads for rules that look at how an account's points came and went, first in first out
(points expiry): the credits before a moment, the credits in a window, every debit so far, and
the family of accounts that hold points. Reads only; never writes.

Hand-written SQL like the rest of the ledger: ``ledger/`` imports nothing of the project, so it
does not use ``mall.query``'s builder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ledger.connection import Connection
from ledger.errors import AccountNotFound
from ledger.journals import utc


@dataclass(frozen=True)
class Credit:
    """Points that came into the account with one journal, at the journal's time."""

    at: datetime
    amount: int


@dataclass(frozen=True)
class Flows:
    """An account's points in and out, as of its posting ``version``."""

    credited_before: int
    """Every credit (positive posting) dated before ``since``."""
    credits: tuple[Credit, ...]
    """The credits dated from ``since`` up to ``until`` (excluded), oldest first."""
    debited: int
    """Every debit so far, as a positive number."""
    balance: int
    version: int
    """The account's version these figures are true at (0 for an account never posted to)."""


async def account_flows(
    conn: Connection, book_id: int, account: str, *, since: datetime, until: datetime | None = None
) -> Flows:
    """The account's flows: credits before ``since`` summed, credits from ``since`` to ``until``
    listed (none without ``until``), debits summed. Two range reads of the account's postings;
    the list is read up to the version the sums saw, so both describe one moment."""
    since = utc(since, "since")
    account_id = await conn.fetchval(
        "SELECT id FROM ledger_account WHERE book = ? AND code = ?", book_id, account
    )
    if account_id is None:
        raise AccountNotFound(account)
    sums = await conn.fetchrow(
        "SELECT COALESCE(SUM(CASE WHEN p.amount > 0 AND j.created_at < ? THEN p.amount "
        "ELSE 0 END), 0) AS credited_before, "
        "COALESCE(SUM(CASE WHEN p.amount < 0 THEN -p.amount ELSE 0 END), 0) AS debited, "
        "COALESCE(SUM(p.amount), 0) AS balance, COALESCE(MAX(p.version), 0) AS version "
        "FROM ledger_posting p JOIN ledger_journal j ON j.id = p.journal WHERE p.account = ?",
        since,
        account_id,
    )
    assert sums is not None
    version = int(sums["version"])
    credits: tuple[Credit, ...] = ()
    if until is not None:
        rows = await conn.fetch(
            "SELECT j.created_at, p.amount FROM ledger_posting p "
            "JOIN ledger_journal j ON j.id = p.journal "
            "WHERE p.account = ? AND p.version <= ? AND p.amount > 0 "
            "AND j.created_at >= ? AND j.created_at < ? ORDER BY p.version",
            account_id,
            version,
            since,
            utc(until, "until"),
        )
        credits = tuple(Credit(r["created_at"], int(r["amount"])) for r in rows)
    return Flows(
        credited_before=int(sums["credited_before"]),
        credits=credits,
        debited=int(sums["debited"]),
        balance=int(sums["balance"]),
        version=version,
    )


async def accounts_holding(conn: Connection, book_id: int, prefix: str) -> list[tuple[str, int]]:
    """``(code, balance)`` of the book's accounts whose code starts with ``prefix`` and whose
    balance is above zero, by code: one scan of the book's accounts."""
    if not prefix:
        raise ValueError("a prefix is required")
    rows = await conn.fetch(
        "SELECT code, balance FROM ledger_account "
        "WHERE book = ? AND substr(code, 1, ?) = ? AND balance > 0 ORDER BY code",
        book_id,
        len(prefix),
        prefix,
    )
    return [(r["code"], int(r["balance"])) for r in rows]
