"""Baseline, second step: the catalog's indexes, checks and append-only stock movements.

The SQL lives in catalog/sql/ beside the Python it mirrors; this only installs it, per engine.
(A separate migration because Piccolo runs a migration's add_raw steps before its add_table.)"""

from importlib.resources import files

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-04T00:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "baseline: the catalog rules, functions and triggers"

SQL_FILES = {
    "sqlite": [
        "catalog_indexes.sql",
        "catalog_checks.sqlite.sql",
        "catalog_append_only.sqlite.sql",
    ],
    "postgres": [
        "catalog_indexes.sql",
        "catalog_checks.postgres.sql",
        "catalog_append_only.postgres.sql",
    ],
}


async def install():
    engine = engine_finder()
    for name in SQL_FILES[engine.engine_type]:
        text = (files("catalog") / "sql" / name).read_text(encoding="utf-8")
        for statement in text.split("\n-- statement\n"):  # see docs/migrations.md
            await engine.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="catalog", description=DESCRIPTION)
    manager.add_raw(install)
    return manager
