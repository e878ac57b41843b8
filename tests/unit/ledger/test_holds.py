"""Two-phase holds: hold, then capture (all or part), release or lapse; resolved at most once."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

import ledger
from ledger.journals import now
from mall.db import Database
from tests.unit.ledger.test_journals import award, balance, community


async def hold(
    db: Database, book: int, amount: int, key: str = "h1", days: float = 3
) -> ledger.Hold:
    async with db.transaction() as conn:
        return await ledger.place_hold(
            conn,
            book,
            "wallet:r1",
            amount,
            expires_at=now() + timedelta(days=days),
            idempotency_key=key,
        )


async def funded(db: Database, points: int = 50) -> int:
    book = await community(db)
    await award(db, book, 1, points, "fund")
    return book


async def test_hold_sets_points_aside(db: Database) -> None:
    book = await funded(db)
    placed = await hold(db, book, 20)
    assert placed.outcome is None and placed.amount == 20
    assert await balance(db, book, "wallet:r1") == 30
    assert await balance(db, book, "holds") == 20
    async with db.connection() as conn:
        assert [h.id for h in await ledger.open_holds(conn, book, "wallet:r1")] == [placed.id]


async def test_hold_beyond_the_balance_is_refused(db: Database) -> None:
    book = await funded(db, 10)
    with pytest.raises(ledger.InsufficientFunds):
        await hold(db, book, 11)
    assert await balance(db, book, "wallet:r1") == 10


async def test_partial_capture_pays_part_and_returns_the_rest(db: Database) -> None:
    book = await funded(db)
    placed = await hold(db, book, 20)
    async with db.transaction() as conn:
        await ledger.capture_hold(conn, placed.id, "redeemed:o1", 15, idempotency_key="c1")
    assert await balance(db, book, "redeemed:o1") == 15
    assert await balance(db, book, "wallet:r1") == 35
    assert await balance(db, book, "holds") == 0
    async with db.connection() as conn:
        assert (await ledger.get_hold(conn, placed.id)).outcome == "captured"


async def test_release_returns_everything(db: Database) -> None:
    book = await funded(db)
    placed = await hold(db, book, 20)
    async with db.transaction() as conn:
        await ledger.release_hold(conn, placed.id, idempotency_key="r1")
    assert await balance(db, book, "wallet:r1") == 50 and await balance(db, book, "holds") == 0


@pytest.mark.parametrize("second", ["capture", "release"])
async def test_a_hold_is_resolved_at_most_once(db: Database, second: str) -> None:
    book = await funded(db)
    placed = await hold(db, book, 20)
    async with db.transaction() as conn:
        await ledger.capture_hold(conn, placed.id, "redeemed:o1", idempotency_key="c1")
    with pytest.raises(ledger.HoldAlreadyResolved):
        async with db.transaction() as conn:
            if second == "capture":
                await ledger.capture_hold(conn, placed.id, "redeemed:o1", idempotency_key="c2")
            else:
                await ledger.release_hold(conn, placed.id, idempotency_key="r2")
    assert (
        await balance(db, book, "redeemed:o1") == 20 and await balance(db, book, "wallet:r1") == 30
    )


async def test_capture_outside_the_held_amount_is_refused(db: Database) -> None:
    book = await funded(db)
    placed = await hold(db, book, 20)
    for amount in (0, 21, -1):
        with pytest.raises(ledger.InvalidJournal):
            async with db.transaction() as conn:
                await ledger.capture_hold(
                    conn, placed.id, "redeemed:o1", amount, idempotency_key="c"
                )
    assert await balance(db, book, "holds") == 20


async def test_lapse_releases_only_holds_past_their_deadline(db: Database) -> None:
    book = await funded(db)
    due = await hold(db, book, 10, "h1", days=1)
    later = await hold(db, book, 5, "h2", days=5)
    async with db.transaction() as conn:
        lapsed = await ledger.lapse_holds(conn, at=now() + timedelta(days=2))
    assert [j.kind for j in lapsed] == ["lapse"]
    async with db.transaction() as conn:
        assert await ledger.lapse_holds(conn, at=now() + timedelta(days=2)) == []
        assert (await ledger.get_hold(conn, due.id)).outcome == "lapsed"
        assert (await ledger.get_hold(conn, later.id)).outcome is None
    assert await balance(db, book, "wallet:r1") == 45 and await balance(db, book, "holds") == 5


async def test_hold_journals_are_not_reversible(db: Database) -> None:
    book = await funded(db)
    placed = await hold(db, book, 10)
    with pytest.raises(ledger.NotReversible):
        async with db.transaction() as conn:
            await ledger.reverse_journal(conn, placed.journal.id, idempotency_key="x")


async def test_hold_retried_with_same_key_is_one_hold(db: Database) -> None:
    book = await funded(db)
    expires = now() + timedelta(days=1)
    async with db.transaction() as conn:
        first = await ledger.place_hold(
            conn, book, "wallet:r1", 10, expires_at=expires, idempotency_key="h"
        )
        again = await ledger.place_hold(
            conn, book, "wallet:r1", 10, expires_at=expires, idempotency_key="h"
        )
    assert first.id == again.id and await balance(db, book, "holds") == 10


async def test_a_callers_key_cannot_block_lapsing(db: Database) -> None:
    book = await funded(db)
    due = await hold(db, book, 10, "h1", days=1)
    with pytest.raises(ledger.InvalidJournal, match="ledger's own"):
        async with db.transaction() as conn:
            await ledger.post_journal(
                conn,
                book,
                "redemption",
                [("wallet:r1", -1), ("redeemed:o1", 1)],
                idempotency_key=f"ledger:lapse:hold:{due.id}",
            )
    async with db.transaction() as conn:
        await ledger.post_journal(
            conn,
            book,
            "redemption",
            [("wallet:r1", -1), ("redeemed:o1", 1)],
            idempotency_key=f"lapse:hold:{due.id}",
        )
        lapsed = await ledger.lapse_holds(conn, at=now() + timedelta(days=2))
    assert len(lapsed) == 1 and await balance(db, book, "holds") == 0


async def test_a_retried_hold_says_it_is_a_replay(db: Database) -> None:
    book = await funded(db)
    expires = now() + timedelta(days=1)
    async with db.transaction() as conn:
        first = await ledger.place_hold(
            conn, book, "wallet:r1", 10, expires_at=expires, idempotency_key="h"
        )
        in_beijing = expires.astimezone(timezone(timedelta(hours=8)))
        again = await ledger.place_hold(
            conn, book, "wallet:r1", 10, expires_at=in_beijing, idempotency_key="h"
        )
    assert not first.replayed and again.replayed and again.id == first.id


async def test_a_hold_needs_a_future_deadline_with_a_time_zone(db: Database) -> None:
    book = await funded(db)
    for expires in (now() - timedelta(seconds=1), datetime.now() + timedelta(days=1)):  # noqa: DTZ005
        with pytest.raises(ledger.InvalidJournal):
            async with db.transaction() as conn:
                await ledger.place_hold(
                    conn, book, "wallet:r1", 5, expires_at=expires, idempotency_key="h"
                )
    with pytest.raises(ledger.InvalidJournal):
        async with db.transaction() as conn:
            await ledger.lapse_holds(conn, at=datetime.now())  # noqa: DTZ005
    assert await balance(db, book, "wallet:r1") == 50


async def test_a_refused_hold_in_a_book_without_holds_writes_nothing(db: Database) -> None:
    async with db.transaction() as conn:
        book = await ledger.open_book(conn, "bare", "no holds account")
        await ledger.open_account(conn, book, "wallet:r1", no_negative=True)
    async with db.transaction() as conn:
        with pytest.raises(ledger.AccountNotFound):
            await ledger.place_hold(
                conn,
                book,
                "wallet:r1",
                5,
                expires_at=now() + timedelta(days=1),
                idempotency_key="h",
            )
        assert await conn.fetchval("SELECT COUNT(*) FROM ledger_account WHERE book = ?", book) == 1


async def test_held_amount_counts_only_open_holds(db: Database) -> None:
    book = await funded(db)
    first = await hold(db, book, 10, "h1")
    await hold(db, book, 5, "h2")
    async with db.transaction() as conn:
        await ledger.release_hold(conn, first.id, idempotency_key="r1")
        assert await ledger.held_amount(conn, book, "wallet:r1") == 5
        assert await ledger.held_amount(conn, book, "wallet:r2") == 0
