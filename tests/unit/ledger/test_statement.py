"""The passbook: newest first, cursor-paginated, with the running balance."""

from __future__ import annotations

import ledger
from mall.db import Database
from tests.unit.ledger.test_journals import award, community


async def test_statement_pages_newest_first_with_running_balance(db: Database) -> None:
    book = await community(db)
    for n in range(1, 6):
        await award(db, book, 1, n, f"a{n}", memo=f"第{n}次")
    async with db.connection() as conn:
        first = await ledger.get_statement(conn, book, "wallet:r1", limit=2)
        second = await ledger.get_statement(conn, book, "wallet:r1", limit=2, before=first.next)
        last = await ledger.get_statement(conn, book, "wallet:r1", limit=2, before=second.next)
    assert [(e.amount, e.balance_after, e.memo) for e in first.entries] == [
        (5, 15, "第5次"),
        (4, 10, "第4次"),
    ]
    assert [(e.amount, e.balance_after) for e in second.entries] == [(3, 6), (2, 3)]
    assert [(e.amount, e.balance_after) for e in last.entries] == [(1, 1)]
    assert last.next is None
    assert first.entries[0].kind == "award" and first.entries[0].path == "timely_help"


async def test_statement_of_an_unknown_account_is_not_found(db: Database) -> None:
    book = await community(db)
    async with db.connection() as conn:
        try:
            await ledger.get_statement(conn, book, "wallet:r404")
        except ledger.AccountNotFound as exc:
            assert exc.code == "wallet:r404"
        else:
            raise AssertionError("expected AccountNotFound")
