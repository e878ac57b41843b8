"""Bulk reads for reports: every posting of a family of accounts, page by page by id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import ledger
from mall.db import Database
from tests.unit.ledger.test_journals import award, community

SINCE = datetime.now(UTC) - timedelta(days=1)
UNTIL = datetime.now(UTC) + timedelta(days=1)


async def all_pages(db: Database, book: int, prefix: str, limit: int) -> list[ledger.PostingLine]:
    found: list[ledger.PostingLine] = []
    after = 0
    while True:
        async with db.connection() as conn:
            page = await ledger.postings(
                conn,
                book,
                accounts_prefix=prefix,
                since=SINCE,
                until=UNTIL,
                after_id=after,
                limit=limit,
            )
        found += page
        if len(page) < limit:
            return found
        after = page[-1].id


async def test_pages_hold_every_wallet_posting_once_in_id_order(db: Database) -> None:
    book = await community(db, wallets=3)
    for n in range(1, 8):
        await award(db, book, n % 3 + 1, n, f"a{n}", memo=f"第{n}次")
    found = await all_pages(db, book, "wallet:", limit=3)
    assert [p.amount for p in found] == [1, 2, 3, 4, 5, 6, 7]
    assert [p.id for p in found] == sorted({p.id for p in found})
    assert {p.account for p in found} == {"wallet:r1", "wallet:r2", "wallet:r3"}
    first = found[0]
    assert (first.kind, first.path, first.memo, first.balance_after, first.version) == (
        "award",
        "timely_help",
        "第1次",
        1,
        1,
    )
    assert SINCE <= first.at < UNTIL


async def test_other_accounts_and_other_books_are_left_out(db: Database) -> None:
    book = await community(db)
    await award(db, book, 1, 10, "mine")
    async with db.transaction() as conn:
        other = await ledger.open_book(conn, "c2", "和平社区")
        await ledger.open_account(conn, other, "budget", no_negative=False)
        await ledger.open_account(conn, other, "wallet:r9", no_negative=False)
        await ledger.post_journal(
            conn, other, "award", [("budget", -5), ("wallet:r9", 5)], idempotency_key="x"
        )
    found = await all_pages(db, book, "wallet:", limit=100)
    assert [(p.account, p.amount) for p in found] == [("wallet:r1", 10)]
    budget = await all_pages(db, book, "budget", limit=100)
    assert [p.amount for p in budget] == [1000, -10]


async def test_journals_outside_the_dates_are_left_out(db: Database) -> None:
    book = await community(db)
    await award(db, book, 1, 10, "now")
    async with db.connection() as conn:
        later = await ledger.postings(
            conn, book, accounts_prefix="wallet:", since=UNTIL, until=UNTIL + timedelta(days=1)
        )
        earlier = await ledger.postings(
            conn, book, accounts_prefix="wallet:", since=SINCE - timedelta(days=1), until=SINCE
        )
    assert later == [] and earlier == []


async def test_balances_of_named_accounts_in_one_read(db: Database) -> None:
    book = await community(db, wallets=3)
    await award(db, book, 1, 7, "a")
    await award(db, book, 2, 4, "b")
    async with db.connection() as conn:
        found = await ledger.balances(conn, book, ["wallet:r1", "wallet:r2", "wallet:r404"])
        assert await ledger.balances(conn, book, []) == {}
    assert found == {"wallet:r1": 7, "wallet:r2": 4}
