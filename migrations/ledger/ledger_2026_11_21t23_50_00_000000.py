"""Ledger rules the database itself enforces, on both engines.

- accounts: code unique within a book; a ``no_negative`` account never below zero;
- journals: idempotency key unique within a book;
- postings: never zero; one posting per account version;
- journals, postings, holds, hold resolutions: append-only (UPDATE and DELETE refused).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-21T23:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "ledger constraints and append-only triggers"

APPEND_ONLY = ("ledger_journal", "ledger_posting", "ledger_hold", "ledger_hold_resolution")

COMMON = [
    "CREATE UNIQUE INDEX ledger_account_book_code ON ledger_account (book, code)",
    "CREATE UNIQUE INDEX ledger_journal_book_key ON ledger_journal (book, idempotency_key)",
    "CREATE UNIQUE INDEX ledger_posting_account_version ON ledger_posting (account, version)",
]

SQLITE = [
    """CREATE TRIGGER ledger_account_no_negative BEFORE UPDATE ON ledger_account
       WHEN NEW.no_negative AND NEW.balance < 0
       BEGIN SELECT RAISE(ABORT, 'ledger: no_negative account below zero'); END""",
    """CREATE TRIGGER ledger_posting_not_zero BEFORE INSERT ON ledger_posting
       WHEN NEW.amount = 0
       BEGIN SELECT RAISE(ABORT, 'ledger: posting amount is zero'); END""",
] + [
    f"""CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table}
        BEGIN SELECT RAISE(ABORT, 'ledger: {table} is append-only'); END"""
    for table in APPEND_ONLY
    for op in ("UPDATE", "DELETE")
]

POSTGRES = [
    """ALTER TABLE ledger_account ADD CONSTRAINT ledger_account_no_negative
       CHECK (NOT no_negative OR balance >= 0)""",
    "ALTER TABLE ledger_posting ADD CONSTRAINT ledger_posting_not_zero CHECK (amount <> 0)",
    """CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'ledger: % is append-only', TG_TABLE_NAME; END $$""",
] + [
    f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table}
        FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()"""
    for table in APPEND_ONLY
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="ledger", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        statements = COMMON + (SQLITE if engine.engine_type == "sqlite" else POSTGRES)
        for sql in statements:
            await engine.run_ddl(sql)

    manager.add_raw(run)
    return manager
