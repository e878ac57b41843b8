"""Journals: balanced, integer, idempotent, append-only, reversible once."""

from __future__ import annotations

from typing import Any

import pytest

import ledger
from mall.db import Database
from mall.org import points
from tests.conftest import ENGINE


async def community(db: Database, *, budget: int = 1000, wallets: int = 2) -> int:
    async with db.transaction() as conn:
        book = await points.open_community_book(conn, "c1", "幸福里社区")
        for i in range(1, wallets + 1):
            await ledger.open_account(conn, book, points.wallet(i), no_negative=True)
        await ledger.open_account(conn, book, "redeemed:o1", no_negative=False)
        if budget:
            await ledger.post_journal(
                conn,
                book,
                "grant",
                [(points.MINT, -budget), (points.BUDGET, budget)],
                idempotency_key="grant",
            )
    return book


async def award(
    db: Database, book: int, who: int, amount: int, key: str, **kw: Any
) -> ledger.Journal:
    async with db.transaction() as conn:
        return await ledger.post_journal(
            conn,
            book,
            "award",
            [(points.BUDGET, -amount), (points.wallet(who), amount)],
            idempotency_key=key,
            path=kw.pop("path", "timely_help"),
            **kw,
        )


async def balance(db: Database, book: int, code: str) -> int:
    async with db.connection() as conn:
        return (await ledger.get_balance(conn, book, code)).balance


async def count(db: Database, table: str) -> int:
    async with db.connection() as conn:
        return int(await conn.fetchval(f"SELECT COUNT(*) FROM {table}"))


async def test_award_moves_points_from_budget_to_wallet(db: Database) -> None:
    book = await community(db)
    journal = await award(db, book, 1, 30, "a1", memo="送餐")
    assert [(p.account, p.amount, p.balance_after) for p in journal.postings] == [
        ("budget", -30, 970),
        ("wallet:r1", 30, 30),
    ]
    assert await balance(db, book, points.wallet(1)) == 30
    assert await balance(db, book, points.BUDGET) == 970


@pytest.mark.parametrize(
    "legs, message",
    [
        ([("budget", -5)], "at least two"),
        ([("budget", -5), ("wallet:r1", 4)], "sum to zero"),
        ([("budget", 0), ("wallet:r1", 0)], "zero"),
        ([("budget", -5), ("budget", 5)], "at most once"),
        ([("budget", -1.5), ("wallet:r1", 1.5)], "whole number"),
        ([("budget", True), ("wallet:r1", -1)], "whole number"),
    ],
)
async def test_invalid_journal_is_refused_and_writes_nothing(
    db: Database, legs: list[tuple[str, Any]], message: str
) -> None:
    book = await community(db)
    before = await count(db, "ledger_journal")
    with pytest.raises(ledger.InvalidJournal, match=message):
        async with db.transaction() as conn:
            await ledger.post_journal(conn, book, "award", legs, idempotency_key="bad")
    assert await count(db, "ledger_journal") == before


async def test_unknown_account_is_refused_and_writes_nothing(db: Database) -> None:
    book = await community(db)
    with pytest.raises(ledger.AccountNotFound):
        await award(db, book, 99, 5, "a1")
    assert await count(db, "ledger_journal") == 1


async def test_award_beyond_budget_is_refused_and_changes_nothing(db: Database) -> None:
    book = await community(db, budget=50)
    with pytest.raises(ledger.InsufficientFunds) as refused:
        await award(db, book, 1, 51, "a1")
    assert (refused.value.account, refused.value.balance, refused.value.amount) == (
        "budget",
        50,
        51,
    )
    assert await balance(db, book, points.BUDGET) == 50
    assert await balance(db, book, points.wallet(1)) == 0


async def test_second_post_with_same_key_and_request_returns_first_and_writes_nothing(
    db: Database,
) -> None:
    book = await community(db)
    first = await award(db, book, 1, 30, "a1")
    postings = await count(db, "ledger_posting")
    again = await award(db, book, 1, 30, "a1")
    assert again.replayed and not first.replayed
    assert again.id == first.id and again.postings == first.postings
    assert await count(db, "ledger_posting") == postings
    assert await balance(db, book, points.wallet(1)) == 30


async def test_same_key_with_another_request_is_refused(db: Database) -> None:
    book = await community(db)
    await award(db, book, 1, 30, "a1")
    with pytest.raises(ledger.IdempotencyKeyReused):
        await award(db, book, 1, 31, "a1")
    with pytest.raises(ledger.IdempotencyKeyReused):
        await award(db, book, 2, 30, "a1")
    assert await balance(db, book, points.wallet(1)) == 30
    assert await balance(db, book, points.wallet(2)) == 0


async def test_refused_request_leaves_its_key_free_for_a_retry(db: Database) -> None:
    book = await community(db, budget=10)
    with pytest.raises(ledger.InsufficientFunds):
        await award(db, book, 1, 20, "a1")
    async with db.transaction() as conn:
        await ledger.post_journal(
            conn, book, "grant", [("mint", -100), ("budget", 100)], idempotency_key="grant2"
        )
    journal = await award(db, book, 1, 20, "a1")
    assert not journal.replayed and await balance(db, book, points.wallet(1)) == 20


async def test_request_hash_from_the_api_is_what_makes_a_retry_the_same(db: Database) -> None:
    book = await community(db)
    body_hash = ledger.request_hash({"method": "POST", "body": {"points": 5}})
    async with db.transaction() as conn:
        first = await ledger.post_journal(
            conn,
            book,
            "award",
            [("budget", -5), ("wallet:r1", 5)],
            idempotency_key="api:u1:abc",
            req_hash=body_hash,
        )
    async with db.transaction() as conn:
        again = await ledger.post_journal(
            conn,
            book,
            "award",
            [("budget", -5), ("wallet:r1", 5)],
            idempotency_key="api:u1:abc",
            req_hash=body_hash,
        )
        assert again.id == first.id and again.replayed
    with pytest.raises(ledger.IdempotencyKeyReused):
        async with db.transaction() as conn:
            await ledger.post_journal(
                conn,
                book,
                "award",
                [("budget", -5), ("wallet:r1", 5)],
                idempotency_key="api:u1:abc",
                req_hash=ledger.request_hash({"method": "POST", "body": {"points": 6}}),
            )


async def test_reversal_mirrors_the_journal_once(db: Database) -> None:
    book = await community(db)
    original = await award(db, book, 1, 30, "a1")
    async with db.transaction() as conn:
        reversal = await ledger.reverse_journal(conn, original.id, idempotency_key="r1")
    assert reversal.reverses == original.id
    assert {(p.account, p.amount) for p in reversal.postings} == {
        ("budget", 30),
        ("wallet:r1", -30),
    }
    assert await balance(db, book, points.wallet(1)) == 0
    with pytest.raises(ledger.AlreadyReversed):
        async with db.transaction() as conn:
            await ledger.reverse_journal(conn, original.id, idempotency_key="r2")
    async with db.transaction() as conn:  # the same reversal retried is a replay, not an error
        assert (await ledger.reverse_journal(conn, original.id, idempotency_key="r1")).replayed


async def test_reversal_that_would_overdraw_a_wallet_is_refused(db: Database) -> None:
    book = await community(db)
    original = await award(db, book, 1, 30, "a1")
    async with db.transaction() as conn:
        await ledger.post_journal(
            conn,
            book,
            "redemption",
            [("wallet:r1", -25), ("redeemed:o1", 25)],
            idempotency_key="o1",
        )
    with pytest.raises(ledger.InsufficientFunds):
        async with db.transaction() as conn:
            await ledger.reverse_journal(conn, original.id, idempotency_key="r1")
    assert await balance(db, book, points.wallet(1)) == 5


async def test_a_reversal_cannot_be_reversed(db: Database) -> None:
    book = await community(db)
    original = await award(db, book, 1, 30, "a1")
    async with db.transaction() as conn:
        reversal = await ledger.reverse_journal(conn, original.id, idempotency_key="r1")
    with pytest.raises(ledger.NotReversible):
        async with db.transaction() as conn:
            await ledger.reverse_journal(conn, reversal.id, idempotency_key="r2")


@pytest.mark.parametrize("table", ["ledger_journal", "ledger_posting"])
@pytest.mark.parametrize("statement", ["UPDATE {t} SET id = id", "DELETE FROM {t}"])
async def test_database_refuses_to_change_journals_and_postings(
    db: Database, table: str, statement: str
) -> None:
    book = await community(db)
    await award(db, book, 1, 30, "a1")
    with pytest.raises(Exception, match="append-only"):
        async with db.transaction() as conn:
            await conn.execute(statement.format(t=table))
    assert await count(db, "ledger_posting") == 4


async def test_database_refuses_a_negative_no_negative_balance(db: Database) -> None:
    book = await community(db)
    message = "no_negative" if ENGINE == "sqlite" else "ledger_account_no_negative"
    with pytest.raises(Exception, match=message):
        async with db.transaction() as conn:
            await conn.execute(
                "UPDATE ledger_account SET balance = -1 WHERE code = 'budget' AND book = ?", book
            )
    assert await balance(db, book, points.BUDGET) == 1000


async def test_a_zero_posting_is_refused_by_the_database(db: Database) -> None:
    book = await community(db)
    journal = await award(db, book, 1, 30, "a1")
    with pytest.raises(Exception, match="zero|not_zero"):
        async with db.transaction() as conn:
            account = await conn.fetchval("SELECT id FROM ledger_account WHERE code = 'mint'")
            await conn.execute(
                "INSERT INTO ledger_posting (journal, account, amount, version, balance_after, hash) "
                "VALUES (?, ?, 0, 99, 0, 'x')",
                journal.id,
                account,
            )


async def test_every_posting_records_version_and_running_balance(db: Database) -> None:
    book = await community(db)
    for n in range(3):
        await award(db, book, 1, 10 + n, f"a{n}")
    async with db.connection() as conn:
        rows = await conn.fetch(
            "SELECT p.version, p.balance_after FROM ledger_posting p JOIN ledger_account a "
            "ON a.id = p.account WHERE a.code = 'wallet:r1' ORDER BY p.version"
        )
        assert [(r["version"], r["balance_after"]) for r in rows] == [(1, 10), (2, 21), (3, 33)]
        assert (await ledger.get_balance(conn, book, "wallet:r1")) == ledger.Balance(33, 3)


async def test_idempotency_keys_belong_to_their_book(db: Database) -> None:
    book = await community(db)
    async with db.transaction() as conn:
        other = await points.open_community_book(conn, "c2", "和平社区")
        await ledger.post_journal(
            conn, other, "grant", [("mint", -10), ("budget", 10)], idempotency_key="same"
        )
        mine = await ledger.post_journal(
            conn, book, "grant", [("mint", -10), ("budget", 10)], idempotency_key="same"
        )
    assert not mine.replayed and mine.book_id == book
