"""verify recomputes everything and names every row that disagrees, even after an insider edit."""

from __future__ import annotations

import pytest

import ledger
from mall.db import Database
from tests.conftest import ENGINE
from tests.unit.ledger.test_journals import award, community


async def drop_append_only_triggers(db: Database) -> None:
    """What an insider with database access would do before editing history."""
    async with db.transaction() as conn:
        if ENGINE == "sqlite":
            for table in ("ledger_posting", "ledger_journal"):
                await conn.execute(f"DROP TRIGGER {table}_no_update")
        else:
            for table in ("ledger_posting", "ledger_journal"):
                await conn.execute(f"DROP TRIGGER {table}_append_only ON {table}")


async def report(db: Database) -> ledger.Report:
    async with db.connection() as conn:
        return await ledger.verify_ledger(conn)


async def history(db: Database) -> int:
    book = await community(db)
    for n in range(4):
        await award(db, book, 1 + n % 2, 10 + n, f"a{n}")
    return book


async def test_a_clean_ledger_verifies(db: Database) -> None:
    await history(db)
    clean = await report(db)
    assert clean.ok and clean.journals == 5 and clean.postings == 10


async def test_verify_catches_a_posting_amount_edited_behind_the_apps_back(db: Database) -> None:
    await history(db)
    await drop_append_only_triggers(db)
    async with db.transaction() as conn:
        target = await conn.fetchval(
            "SELECT p.id FROM ledger_posting p JOIN ledger_account a ON a.id = p.account "
            "WHERE a.code = 'wallet:r1' ORDER BY p.version LIMIT 1"
        )
        await conn.execute("UPDATE ledger_posting SET amount = amount + 100 WHERE id = ?", target)
    problems = (await report(db)).problems
    named = {(p.check, p.table, p.row) for p in problems}
    assert ("hash chain", "ledger_posting", target) in named
    assert ("running balance", "ledger_posting", target) in named
    assert any(p.check == "zero-sum" for p in problems)


async def test_verify_catches_a_forged_balance_with_a_consistent_running_total(
    db: Database,
) -> None:
    """A careful forger fixes amount and balance_after, and the cached balance too: the hash
    chain still gives them away."""
    book = await history(db)
    await drop_append_only_triggers(db)
    async with db.transaction() as conn:
        wallet = await conn.fetchval(
            "SELECT id FROM ledger_account WHERE code = 'wallet:r2' AND book = ?", book
        )
        last = await conn.fetchrow(
            "SELECT id FROM ledger_posting WHERE account = ? ORDER BY version DESC LIMIT 1", wallet
        )
        assert last is not None
        await conn.execute(
            "UPDATE ledger_posting SET amount = amount + 500, balance_after = balance_after + 500 "
            "WHERE id = ?",
            last["id"],
        )
        await conn.execute("UPDATE ledger_account SET balance = balance + 500 WHERE id = ?", wallet)
    problems = (await report(db)).problems
    assert ("hash chain", "ledger_posting", last["id"]) in {
        (p.check, p.table, p.row) for p in problems
    }


async def test_verify_catches_a_cached_balance_out_of_step(db: Database) -> None:
    book = await history(db)
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE ledger_account SET balance = balance + 1 WHERE code = 'wallet:r1' AND book = ?",
            book,
        )
        account = await conn.fetchval("SELECT id FROM ledger_account WHERE code = 'wallet:r1'")
    problems = (await report(db)).problems
    assert [(p.check, p.row) for p in problems] == [("cached balance", account)]


@pytest.mark.parametrize("column", ["version"])
async def test_verify_catches_a_gap_in_versions(db: Database, column: str) -> None:
    await history(db)
    await drop_append_only_triggers(db)
    async with db.transaction() as conn:
        target = await conn.fetchval(
            "SELECT p.id FROM ledger_posting p JOIN ledger_account a ON a.id = p.account "
            "WHERE a.code = 'wallet:r1' ORDER BY p.version DESC LIMIT 1"
        )
        await conn.execute(
            f"UPDATE ledger_posting SET {column} = {column} + 5 WHERE id = ?", target
        )
    checks = {(p.check, p.row) for p in (await report(db)).problems}
    assert ("versions without gaps", target) in checks
