"""The write path itself: a refusal leaves the transaction usable and writes nothing even when the
caller commits; on PostgreSQL, ``ledger_post`` (one statement) and the statement-by-statement
path write the same rows and the same hash chain."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import ledger
import ledger.journals
from ledger.journals import chain_hash
from mall.db import Database, open_database
from mall.org import points
from tests.conftest import ENGINE
from tests.support import (
    assert_same_outcomes,
    assert_same_rows,
    on_database,
    outcome,
    race,
    table_rows,
)
from tests.unit.ledger.test_concurrency import outcomes, verify_clean, wallet_balance
from tests.unit.ledger.test_journals import award, community, count

postgres_only = pytest.mark.skipif(ENGINE != "postgres", reason="ledger_post is PostgreSQL's")


@pytest.fixture(params=[True, False], ids=["one-statement", "statement-by-statement"])
def write_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Both PostgreSQL write paths (SQLite has one: the flag changes nothing there)."""
    one_statement: bool = request.param
    monkeypatch.setattr(ledger.journals, "WRITE_IN_ONE_STATEMENT", one_statement)
    return one_statement


async def snapshot(db: Database) -> tuple[tuple[tuple[Any, ...], ...], ...]:
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
async def test_both_paths_extend_the_same_hash_chain(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
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


class Postings:
    """The posting cases, run on one database through one write path, with what each call
    returned or raised."""

    def __init__(self, db: Database, deadline: datetime) -> None:
        self.db, self.deadline = db, deadline
        self.outcomes: list[tuple[str, Any]] = []

    async def call(self, what: str, work: Callable[[Any], Awaitable[Any]]) -> Any:
        """``work(conn)`` in a transaction of its own; a refusal is recorded, not raised."""
        try:
            async with self.db.transaction() as conn:
                result = await work(conn)
        except Exception as exc:  # compared with the other path's
            result = exc
        self.outcomes.append((what, outcome(result)))
        return result

    async def post(
        self, key: str, legs: list[tuple[str, int]], kind: str = "award", **kw: Any
    ) -> Any:
        return await self.call(
            f"post {key} {legs}",
            lambda conn: ledger.post_journal(
                conn, self.book, kind, legs, idempotency_key=key, **kw
            ),
        )

    async def run(self) -> None:
        w1, w2 = points.wallet(1), points.wallet(2)
        self.book = await community(self.db, budget=100)
        # posted, replayed, the key reused; legs in any order, with a path and a memo
        await self.post("a1", [(points.BUDGET, -30), (w1, 30)], path="timely_help", memo="送餐")
        await self.post("a1", [(points.BUDGET, -30), (w1, 30)], path="timely_help", memo="送餐")
        await self.post("a1", [(points.BUDGET, -31), (w1, 31)], path="timely_help", memo="送餐")
        await self.post("a2", [(w2, 5), (points.BUDGET, -7), (w1, 2)])
        # no_negative: the first short account in the order of the legs; unknown before short
        await self.post("n1", [(points.BUDGET, -71), (w1, 71)])
        await self.post("n2", [(w2, -6), (points.BUDGET, -1000), ("redeemed:o1", 1006)])
        await self.post("n3", [(points.BUDGET, -1000), (points.wallet(99), 1000)])
        await self.post("n4", [(w2, -5), ("redeemed:o1", 5)], kind="redemption")  # exactly all
        await self.post("n5", [(w2, -1), ("redeemed:o1", 1)], kind="redemption")
        # invalid journals and the ledger's own keys
        await self.post("ledger:mine", [(points.BUDGET, -1), (w1, 1)])
        await self.post("i1", [(points.BUDGET, -1), (w1, 2)])
        await self.post("", [(points.BUDGET, -1), (w1, 1)])

        async def refused_then_posted(conn: Any) -> Any:  # the transaction stays usable
            legs = [(points.BUDGET, -1000), (w1, 1000)]
            try:
                await ledger.post_journal(conn, self.book, "award", legs, idempotency_key="t1")
            except ledger.InsufficientFunds as exc:
                refused = outcome(exc)
            legs = [(points.BUDGET, -10), (w1, 10)]
            posted = await ledger.post_journal(conn, self.book, "award", legs, idempotency_key="t1")
            return [refused, posted]

        await self.call("refused then posted", refused_then_posted)
        # reversals
        bought = await self.post("r1", [(w1, -10), ("redeemed:o1", 10)], kind="redemption")
        for key in ("rev1", "rev1", "rev2"):  # posted, replayed, already reversed
            await self.call(
                f"reverse {key}",
                lambda conn, key=key: ledger.reverse_journal(conn, bought.id, idempotency_key=key),  # type: ignore[misc]  # key bound by a default argument
            )
        reversal = await self.call(
            "find rev1", lambda conn: ledger.find_journal(conn, self.book, "rev1")
        )
        await self.call(
            "reverse a reversal",
            lambda conn: ledger.reverse_journal(conn, reversal.id, idempotency_key="rev3"),
        )
        await self.call(
            "reverse nothing", lambda conn: ledger.reverse_journal(conn, 10**9, idempotency_key="x")
        )
        # holds: placed, replayed, reused, refused; captured in part, released, lapsed
        for key, amount in (("h1", 20), ("h1", 20), ("h1", 21), ("h2", 1000), ("h2", 5), ("h3", 4)):
            await self.call(
                f"hold {key} {amount}",
                lambda conn, key=key, amount=amount: ledger.place_hold(  # type: ignore[misc]  # bound by default arguments
                    conn, self.book, w1, amount, expires_at=self.deadline, idempotency_key=key
                ),
            )
        held = [int(r["id"]) for r in await self._rows("SELECT id FROM ledger_hold ORDER BY id")]
        await self.post("over holds", [(w1, -1000), ("redeemed:o1", 1000)], kind="redemption")
        for key in ("c1", "c1", "c2"):  # captured, replayed, already resolved
            await self.call(
                f"capture {key}",
                lambda conn, key=key: ledger.capture_hold(  # type: ignore[misc]  # key bound by a default argument
                    conn, held[0], "redeemed:o1", 15, idempotency_key=key
                ),
            )
        await self.call(
            "release", lambda conn: ledger.release_hold(conn, held[1], idempotency_key="x1")
        )
        await self.call(
            "capture released",
            lambda conn: ledger.capture_hold(conn, held[1], "redeemed:o1", idempotency_key="c3"),
        )
        hold_journal = await self.call(
            "find h3", lambda conn: ledger.find_journal(conn, self.book, "h3")
        )
        await self.call(
            "reverse a hold",
            lambda conn: ledger.reverse_journal(conn, hold_journal.id, idempotency_key="rev4"),
        )
        later = self.deadline + timedelta(days=1)
        await self.call("lapse", lambda conn: ledger.lapse_holds(conn, at=later))
        await self.call("lapse again", lambda conn: ledger.lapse_holds(conn, at=later))

    async def _rows(self, sql: str) -> list[Any]:
        async with self.db.connection() as conn:
            return await conn.fetch(sql)


@postgres_only
async def test_both_write_paths_return_and_write_the_same(
    new_db_url: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every kind of posting, refusal, replay, reversal and hold through ``ledger_post`` and
    through the statement-by-statement path, in two databases: the same outcomes, and the same
    rows in every table (tests/support.py ``EXPECTED_TO_DIFFER``)."""
    deadline = datetime.now(UTC) + timedelta(days=1)
    outcomes, rows = {}, {}
    for label, one_statement in (("ledger_post", True), ("statements", False)):
        monkeypatch.setattr(ledger.journals, "WRITE_IN_ONE_STATEMENT", one_statement)
        db = open_database(new_db_url())
        try:
            run = Postings(db, deadline)
            await run.run()
            outcomes[label], rows[label] = run.outcomes, await table_rows(db)
        finally:
            await db.close()
    assert_same_outcomes(outcomes)
    assert_same_rows(rows)
