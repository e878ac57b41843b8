"""Awards can be reversed (撤销): who reversed one, when, why, by which journal, and the reverser's
idempotency key (mall/earning/sql/mall_award_reversal.sql, mirrored by mall.earning.reversals)."""

from importlib.resources import files

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-05T02:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "awards: reversal columns"

SQL_FILES: dict[str, list[str]] = {
    "sqlite": ["earning/sql/mall_award_reversal.sql"],
    "postgres": ["earning/sql/mall_award_reversal.sql"],
}


async def install():
    engine = engine_finder()
    for name in SQL_FILES[engine.engine_type]:
        text = files("mall").joinpath(*name.split("/")).read_text(encoding="utf-8")
        for statement in text.split("\n-- statement\n"):  # see docs/migrations.md
            await engine.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mall", description=DESCRIPTION)
    manager.add_raw(install)
    return manager
