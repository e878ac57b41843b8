"""A resident's passbook for one month (China time), optionally one earning path, with the
month's totals: earned, spent and net. Reads the ledger's postings; writes nothing.
"""

from __future__ import annotations

from datetime import date

import msgspec

import ledger
from mall import access, days
from mall.access import STAFF_ROLES, Principal
from mall.db import Database
from mall.errors import N_, Invalid
from mall.org import points
from mall.org.points import PATHS

MOST = 500  # entries of one month shown


class MonthStatement(msgspec.Struct, frozen=True, kw_only=True):
    month: date
    """The first day of the month."""
    path: str | None
    entries: list[ledger.Entry]
    """Newest first."""
    earned: int
    spent: int
    """Points that left the wallet, as a positive number."""
    net: int


async def month_statement(
    db: Database, p: Principal, resident_id: int, *, month: str | None, path: str | None
) -> MonthStatement:
    """The resident's entries in ``month`` (``YYYY-MM``, default this month), of ``path`` if given."""
    if path is not None and path not in PATHS:
        raise Invalid(N_("Please choose one of the three paths."))
    first, last = days.month(month)
    start, end = days.utc_bounds(first, last)
    async with db.connection() as conn:
        row = await access.resident(conn, p, resident_id, STAFF_ROLES + ("resident",))
        account = await conn.fetchval(
            "SELECT id FROM ledger_account WHERE book = ? AND code = ?",
            row["book"],
            points.wallet(resident_id),
        )
        # Hand-written: a join on the ledger's postings, as ``ledger.statement`` reads them.
        rows = await conn.fetch(
            "SELECT p.version, p.amount, p.balance_after, j.id, j.created_at, j.kind, j.path, "
            "j.memo FROM ledger_posting p JOIN ledger_journal j ON j.id = p.journal "
            "WHERE p.account = ? AND j.created_at >= ? AND j.created_at < ? "
            "AND (? = '' OR j.path = ?) ORDER BY p.version DESC LIMIT ?",
            account,
            start,
            end,
            path or "",
            path or "",
            MOST,
        )
    entries = [
        ledger.Entry(
            journal_id=int(r["id"]),
            at=r["created_at"],
            kind=r["kind"],
            path=r["path"],
            memo=r["memo"],
            amount=int(r["amount"]),
            balance_after=int(r["balance_after"]),
            version=int(r["version"]),
        )
        for r in rows
    ]
    earned = sum(e.amount for e in entries if e.amount > 0)
    spent = -sum(e.amount for e in entries if e.amount < 0)
    return MonthStatement(
        month=first, path=path, entries=entries, earned=earned, spent=spent, net=earned - spent
    )
