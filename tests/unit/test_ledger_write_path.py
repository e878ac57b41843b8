"""The write path itself: a refusal leaves the transaction usable and writes nothing even when the
caller commits; on PostgreSQL, ``ledger_post`` (one statement) and the statement-by-statement
path write the same rows and the same hash chain."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

import ledger
import ledger.journals
from ledger.journals import chain_hash
from mall.db import Database, open_database
from mall.org import points
from tests.conftest import ENGINE
from tests.support import race
from tests.unit.test_ledger_concurrency import on_database, outcomes, verify_clean, wallet_balance
from tests.unit.test_ledger_journals import award, community, count

postgres_only = pytest.mark.skipif(ENGINE != "postgres", reason="ledger_post is PostgreSQL's")


@pytest.fixture(params=[True, False], ids=["one-statement", "statement-by-statement"])
def write_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Both PostgreSQL write paths (SQLite has one: the flag changes nothing there)."""
    monkeypatch.setattr(ledger.journals, "WRITE_IN_ONE_STATEMENT", request.param)
    return request.param


async def snapshot(db: Database) -> tuple:
    async with db.connection() as conn:
        journals = await conn.fetch("SELECT * FROM ledger_journal ORDER BY id")
        postings = await conn.fetch("SELECT * FROM ledger_posting ORDER BY id")
        accounts = await conn.fetch(
            "SELECT id, balance, version, last_hash FROM ledger_account ORDER BY id"
        )
    return tuple(tuple(map(tuple, rows)) for rows in (journals, postings, accounts))


async def test_refusals_write_nothing_when_the_caller_commits_and_goes_on(
    db: Database, write_path: bool
) -> None:
    book = await community(db, budget=50)
    before = await snapshot(db)
    async with db.transaction() as conn:
        refusals = [
            ([(points.BUDGET, -51), (points.wallet(1), 51)], "k1", ledger.InsufficientFunds),
            ([(points.BUDGET, -1), (points.wallet(99), 1)], "k2", ledger.AccountNotFound),
            ([(points.MINT, -1), (points.BUDGET, 1)], "grant", ledger.IdempotencyKeyReused),
        ]
        for legs, key, error in refusals:
            with pytest.raises(error):
                await ledger.post_journal(conn, book, "award", legs, idempotency_key=key)
    assert await snapshot(db) == before  # committed, and nothing was written

    async with db.transaction() as conn:  # a refusal inside a transaction, then a good journal
        with pytest.raises(ledger.InsufficientFunds) as refused:
            await ledger.post_journal(
                conn,
                book,
                "award",
                [(points.BUDGET, -51), (points.wallet(1), 51)],
                idempotency_key="k1",
            )
        assert (refused.value.account, refused.value.balance, refused.value.amount) == (
            "budget",
            50,
            51,
        )
        posted = await ledger.post_journal(
            conn,
            book,
            "award",
            [(points.BUDGET, -50), (points.wallet(1), 50)],
            idempotency_key="k1",
        )
    assert [(p.account, p.amount, p.balance_after, p.version) for p in posted.postings] == [
        ("budget", -50, 0, 2),
        ("wallet:r1", 50, 50, 1),
    ]
    assert await count(db, "ledger_journal") == 2
    verify_clean_db = await _verify(db)
    assert verify_clean_db.ok, verify_clean_db.problems


async def _verify(db: Database) -> ledger.Report:
    async with db.connection() as conn:
        return await ledger.verify_ledger(conn)


async def test_a_journal_returns_what_it_wrote(db: Database, write_path: bool) -> None:
    book = await community(db)
    async with db.transaction() as conn:
        await ledger.open_account(conn, book, "holds", no_negative=True)
        journal = await ledger.post_journal(
            conn,
            book,
            "award",
            [(points.wallet(2), 5), (points.BUDGET, -7), (points.wallet(1), 2)],
            idempotency_key="three-legs",
            path="timely_help",
            memo="三条腿",
        )
    again = await award(db, book, 1, 1, "other")
    async with db.connection() as conn:
        stored = await ledger.get_journal(conn, journal.id)
    assert stored == journal  # the same postings, in the order of the legs
    assert [p.account for p in journal.postings] == ["wallet:r2", "budget", "wallet:r1"]
    assert again.postings[1].version == 2


@postgres_only
async def test_both_paths_extend_the_same_hash_chain(db: Database, monkeypatch) -> None:
    """Journals alternate between the paths on the same accounts; every posting's hash is what
    ``chain_hash`` computes, so the chain is one chain whichever path wrote each link."""
    book = await community(db, budget=10**9)
    for i in range(40):
        monkeypatch.setattr(ledger.journals, "WRITE_IN_ONE_STATEMENT", i % 2 == 0)
        amount = (i * 7919) % 1000 + 1
        if i % 5 == 4:
            async with db.transaction() as conn:
                await ledger.post_journal(
                    conn,
                    book,
                    "redemption",
                    [(points.wallet(1), -1), ("redeemed:o1", 1)],
                    idempotency_key=f"r{i}",
                )
        else:
            await award(db, book, 1 + i % 2, amount, f"a{i}")
    async with db.connection() as conn:
        rows = await conn.fetch(
            "SELECT journal, account, amount, version, balance_after, hash FROM ledger_posting "
            "ORDER BY account, version"
        )
        accounts = await conn.fetch("SELECT id, balance, version, last_hash FROM ledger_account")
    prev: dict[int, tuple[str, int]] = {}
    for r in rows:
        last, balance = prev.get(r["account"], ("", 0))
        assert r["balance_after"] == balance + r["amount"]
        expected = chain_hash(
            last, r["journal"], r["account"], r["version"], r["amount"], r["balance_after"]
        )
        assert r["hash"] == expected
        prev[r["account"]] = (r["hash"], r["balance_after"])
    for a in accounts:
        if a["version"]:
            assert (a["last_hash"], a["balance"]) == prev[a["id"]]
    assert (await _verify(db)).ok


@postgres_only
async def test_ledger_post_hash_is_chain_hash_for_any_values(db: Database) -> None:
    cases = [("", 1, 2, 1, -5, 0), ("ab" * 32, 2**40, 7, 123456, 10**15, -(10**15))]
    async with db.connection() as conn:
        for prev, journal, account, version, amount, after in cases:
            sql_hash = await conn.fetchval(
                "SELECT encode(sha256(convert_to(concat_ws('|', ?::text, ?::bigint, ?::bigint, "
                "?::integer, ?::bigint, ?::bigint), 'UTF8')), 'hex')",
                prev,
                journal,
                account,
                version,
                amount,
                after,
            )
            assert sql_hash == chain_hash(prev, journal, account, version, amount, after)
        source = await conn.fetchval("SELECT prosrc FROM pg_proc WHERE proname = 'ledger_post'")
    assert "concat_ws('|', prevs[i], journal_id, ids[i]," in " ".join(source.split())


@postgres_only
async def test_a_retry_does_not_wait_for_the_account_locks(db_url: str) -> None:
    """The key is checked before any lock: a replay returns while ``budget`` is locked."""

    async def run() -> None:
        db, other = open_database(db_url), open_database(db_url)
        try:
            book = await community(db)
            first = await award(db, book, 1, 5, "a1")
            async with other.transaction() as locker:
                await locker.execute(
                    "SELECT id FROM ledger_account WHERE code = 'budget' FOR UPDATE"
                )
                again = await asyncio.wait_for(award(db, book, 1, 5, "a1"), timeout=5)
                assert again.replayed and again.id == first.id
                with pytest.raises(ledger.IdempotencyKeyReused):
                    await asyncio.wait_for(award(db, book, 1, 6, "a1"), timeout=5)
        finally:
            await db.close()
            await other.close()

    await run()


def test_same_key_raced_on_disjoint_accounts_posts_once(db_url: str) -> None:
    """No shared account, so no lock orders the racers: the key's unique index does, and every
    loser is refused or replayed with nothing written."""

    async def prepare(db: Database) -> int:
        book = await community(db, budget=0, wallets=10)
        async with db.transaction() as conn:
            for i in range(10):
                await ledger.open_account(conn, book, f"src:{i}", no_negative=False)
        return book

    book = on_database(db_url, prepare)

    async def post(db: Database, i: int) -> ledger.Journal:
        async with db.transaction() as conn:
            return await ledger.post_journal(
                conn,
                book,
                "award",
                [(f"src:{i}", -1), (points.wallet(i + 1), 1)],
                idempotency_key="the-same-key",
            )

    results = race(db_url, 10, post)
    assert outcomes(results) == Counter({"Journal": 1, "IdempotencyKeyReused": 9}), results
    assert sum(wallet_balance(db_url, book, points.wallet(i + 1)) for i in range(10)) == 1
    verify_clean(db_url)
