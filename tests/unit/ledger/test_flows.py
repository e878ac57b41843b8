"""Reads for first-in-first-out rules: an account's credits before a moment and in a window,
its debits, and the accounts of a family that hold points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import ledger
import ledger.journals
from mall.db import Database
from tests.unit.ledger.test_journals import award, community

T0 = datetime(2026, 3, 1, 4, 0, tzinfo=UTC)


def at(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    monkeypatch.setattr(ledger.journals, "now", lambda: moment)


async def spend(db: Database, book: int, who: int, amount: int, key: str) -> None:
    async with db.transaction() as conn:
        await ledger.post_journal(
            conn,
            book,
            "redemption",
            [(f"wallet:r{who}", -amount), ("redeemed:o1", amount)],
            idempotency_key=key,
        )


async def test_flows_split_credits_at_since_and_sum_every_debit(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = await community(db)
    for day, amount in ((0, 10), (1, 20), (2, 30), (3, 40)):
        at(monkeypatch, T0 + timedelta(days=day))
        await award(db, book, 1, amount, f"a{day}")
    at(monkeypatch, T0 + timedelta(days=4))
    await spend(db, book, 1, 25, "s1")
    await award(db, book, 2, 5, "other")
    async with db.connection() as conn:
        flows = await ledger.account_flows(
            conn, book, "wallet:r1", since=T0 + timedelta(days=1), until=T0 + timedelta(days=3)
        )
        open_ended = await ledger.account_flows(conn, book, "wallet:r1", since=T0)
    assert flows.credited_before == 10 and flows.debited == 25
    assert [(c.at, c.amount) for c in flows.credits] == [
        (T0 + timedelta(days=1), 20),
        (T0 + timedelta(days=2), 30),
    ]
    assert (flows.balance, flows.version) == (75, 5)
    assert open_ended.credited_before == 0 and open_ended.credits == ()


async def test_flows_of_an_account_never_posted_to_are_zero_and_unknown_is_not_found(
    db: Database,
) -> None:
    book = await community(db)
    async with db.connection() as conn:
        flows = await ledger.account_flows(conn, book, "wallet:r2", since=T0, until=T0)
        assert flows == ledger.Flows(0, (), 0, 0, 0)
        with pytest.raises(ledger.AccountNotFound):
            await ledger.account_flows(conn, book, "wallet:r9", since=T0)
        with pytest.raises(ledger.InvalidJournal):
            await ledger.account_flows(conn, book, "wallet:r1", since=datetime(2026, 3, 1))


async def test_accounts_holding_lists_only_the_family_with_points(db: Database) -> None:
    book = await community(db, wallets=3)
    await award(db, book, 1, 30, "a1")
    await award(db, book, 3, 12, "a3")
    await spend(db, book, 3, 12, "s3")
    async with db.connection() as conn:
        assert await ledger.accounts_holding(conn, book, "wallet:r") == [("wallet:r1", 30)]
        with pytest.raises(ValueError):
            await ledger.accounts_holding(conn, book, "")
