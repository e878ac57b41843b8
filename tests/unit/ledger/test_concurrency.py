"""Concurrency, proven with real concurrent connections: each worker is a thread with its own
event loop and its own database connection, and all start together at a barrier."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import timedelta

import ledger
from ledger.journals import now
from mall.db import Database
from tests.support import on_database, race
from tests.unit.ledger.test_journals import award, community


def verify_clean(db_url: str) -> None:
    async def check(db: Database) -> ledger.Report:
        async with db.connection() as conn:
            return await ledger.verify_ledger(conn)

    report = on_database(db_url, check)
    assert report.ok, report.problems


def wallet_balance(db_url: str, book: int, code: str = "wallet:r1") -> int:
    async def read(db: Database) -> int:
        async with db.connection() as conn:
            return (await ledger.get_balance(conn, book, code)).balance

    return on_database(db_url, read)


def outcomes(results: Iterable[object]) -> Counter[str]:
    return Counter(type(r).__name__ for r in results)


def test_fifty_concurrent_spends_of_three_from_a_hundred_leave_one(db_url: str) -> None:
    async def prepare(db: Database) -> int:
        book = await community(db)
        await award(db, book, 1, 100, "fund")
        return book

    book = on_database(db_url, prepare)

    async def spend(db: Database, i: int) -> ledger.Journal:
        async with db.transaction() as conn:
            return await ledger.post_journal(
                conn,
                book,
                "redemption",
                [("wallet:r1", -3), ("redeemed:o1", 3)],
                idempotency_key=f"spend:{i}",
            )

    results = race(db_url, 50, spend)
    assert outcomes(results) == Counter({"Journal": 33, "InsufficientFunds": 17}), results
    assert wallet_balance(db_url, book) == 1
    assert wallet_balance(db_url, book, "redeemed:o1") == 99
    verify_clean(db_url)


def test_same_key_raced_by_twenty_connections_posts_once(db_url: str) -> None:
    book = on_database(db_url, community)

    async def post(db: Database, i: int) -> ledger.Journal:
        return await award(db, book, 1, 7, "the-same-key")

    results = race(db_url, 20, post)
    assert all(isinstance(r, ledger.Journal) for r in results), results
    assert len({r.id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert wallet_balance(db_url, book) == 7
    verify_clean(db_url)


def test_same_key_raced_with_different_requests_posts_one_and_refuses_the_rest(db_url: str) -> None:
    book = on_database(db_url, community)

    async def post(db: Database, i: int) -> ledger.Journal:
        return await award(db, book, 1, 1 + i, "the-same-key")

    results = race(db_url, 10, post)
    assert outcomes(results) == Counter({"Journal": 1, "IdempotencyKeyReused": 9}), results
    winner = next(r for r in results if isinstance(r, ledger.Journal))
    assert wallet_balance(db_url, book) == winner.postings[1].amount
    verify_clean(db_url)


def test_a_journal_raced_for_reversal_is_reversed_once(db_url: str) -> None:
    async def prepare(db: Database) -> tuple[int, int]:
        book = await community(db)
        return book, (await award(db, book, 1, 40, "a1")).id

    book, journal_id = on_database(db_url, prepare)

    async def reverse(db: Database, i: int) -> ledger.Journal:
        async with db.transaction() as conn:
            return await ledger.reverse_journal(conn, journal_id, idempotency_key=f"rev:{i}")

    results = race(db_url, 10, reverse)
    assert outcomes(results) == Counter({"Journal": 1, "AlreadyReversed": 9}), results
    assert wallet_balance(db_url, book) == 0
    verify_clean(db_url)


def test_a_hold_raced_by_capture_and_release_is_resolved_once(db_url: str) -> None:
    async def prepare(db: Database) -> tuple[int, int]:
        book = await community(db)
        await award(db, book, 1, 50, "fund")
        async with db.transaction() as conn:
            held = await ledger.place_hold(
                conn,
                book,
                "wallet:r1",
                20,
                expires_at=now() + timedelta(days=1),
                idempotency_key="h",
            )
        return book, held.id

    book, hold_id = on_database(db_url, prepare)

    async def resolve(db: Database, i: int) -> ledger.Journal:
        async with db.transaction() as conn:
            if i % 2:
                return await ledger.release_hold(conn, hold_id, idempotency_key=f"r:{i}")
            return await ledger.capture_hold(conn, hold_id, "redeemed:o1", idempotency_key=f"c:{i}")

    results = race(db_url, 12, resolve)
    assert outcomes(results) == Counter({"Journal": 1, "HoldAlreadyResolved": 11}), results
    winner = next(r for r in results if isinstance(r, ledger.Journal))
    assert wallet_balance(db_url, book) == (30 if winner.kind == "capture" else 50)
    assert wallet_balance(db_url, book, "holds") == 0
    verify_clean(db_url)
