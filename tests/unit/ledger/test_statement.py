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


async def test_total_balance_sums_one_family_of_accounts_of_one_book(db: Database) -> None:
    book = await community(db, wallets=3)
    await award(db, book, 1, 30, "a1")
    await award(db, book, 2, 12, "a2")
    async with db.transaction() as conn:
        other = await ledger.open_book(conn, "c2", "和平社区")
        await ledger.open_account(conn, other, "budget", no_negative=False)
        await ledger.open_account(conn, other, "wallet:r9", no_negative=False)
        await ledger.post_journal(
            conn, other, "award", [("budget", -5), ("wallet:r9", 5)], idempotency_key="x"
        )
        await ledger.open_account(conn, book, "WALLET:R7", no_negative=False)
        await ledger.post_journal(
            conn, book, "award", [("budget", -3), ("WALLET:R7", 3)], idempotency_key="upper"
        )
    async with db.connection() as conn:
        assert await ledger.total_balance(conn, book, "wallet:r") == 42
        assert await ledger.total_balance(conn, book, "wallet:r1") == 30
        assert await ledger.total_balance(conn, book, "budget") == 955
        assert await ledger.total_balance(conn, book, "nothing:") == 0
        assert await ledger.total_balance(conn, other, "wallet:r") == 5
