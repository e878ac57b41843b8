"""A resident's record can be edited, closed and merged (issue #17): building and unit (text, for
issue #20), when and why it was closed, and the record a duplicate was merged into; and
mall_checkout re-installed, which now refuses a closed resident's pay code (account_closed)."""

from importlib.resources import files

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-05T04:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "residents: building, unit, closed, merged into"

COLUMNS = [
    "ALTER TABLE mall_resident ADD COLUMN building VARCHAR(20) NULL DEFAULT NULL",
    "ALTER TABLE mall_resident ADD COLUMN unit VARCHAR(20) NULL DEFAULT NULL",
    "ALTER TABLE mall_resident ADD COLUMN closed_at TIMESTAMPTZ NULL DEFAULT NULL",
    "ALTER TABLE mall_resident ADD COLUMN closed_reason VARCHAR(200) NULL DEFAULT NULL",
    "ALTER TABLE mall_resident ADD COLUMN merged_into INTEGER NULL DEFAULT NULL "
    "REFERENCES mall_resident (id) ON DELETE RESTRICT",
]
SQL_FILES: dict[str, list[str]] = {
    "sqlite": [],
    "postgres": ["counter/sql/mall_checkout.sql"],
}


async def install():
    engine = engine_finder()
    for statement in COLUMNS:
        await engine.run_ddl(statement)
    for name in SQL_FILES[engine.engine_type]:
        text = files("mall").joinpath(*name.split("/")).read_text(encoding="utf-8")
        for statement in text.split("\n-- statement\n"):  # see docs/migrations.md
            await engine.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mall", description=DESCRIPTION)
    manager.add_raw(install)
    return manager
