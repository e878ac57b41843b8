"""Baseline, second step: the ledger's indexes, checks and append-only triggers, and
ledger_post (PostgreSQL).

The SQL lives in ledger/sql/ beside the Python it mirrors; this only installs it, per engine.
(A separate migration because Piccolo runs a migration's add_raw steps before its add_table.)"""

from importlib.resources import files

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-04T00:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "baseline: the ledger rules, functions and triggers"

SQL_FILES = {
    "sqlite": ["ledger_indexes.sql", "ledger_checks.sqlite.sql", "ledger_append_only.sqlite.sql"],
    "postgres": [
        "ledger_indexes.sql",
        "ledger_checks.postgres.sql",
        "ledger_append_only.postgres.sql",
        "ledger_post.sql",
    ],
}


async def install():
    engine = engine_finder()
    for name in SQL_FILES[engine.engine_type]:
        text = (files("ledger") / "sql" / name).read_text(encoding="utf-8")
        for statement in text.split("\n-- statement\n"):  # see docs/migrations.md
            await engine.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="ledger", description=DESCRIPTION)
    manager.add_raw(install)
    return manager
