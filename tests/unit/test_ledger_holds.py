"""Two-phase holds: hold, then capture (all or part), release or lapse; resolved at most once."""

from __future__ import annotations

from datetime import timedelta

import pytest

import ledger
from ledger.journals import now
from mall.db import Database
from tests.unit.test_ledger_journals import award, balance, community


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
