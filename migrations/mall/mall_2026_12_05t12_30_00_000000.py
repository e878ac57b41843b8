"""Imports (issue #18): spreadsheets kept between preview and confirmation
(mall/people/sql/mall_upload.*.sql, mirrored by mall.people.uploads), and opening balances from
the paper passbooks, once per resident (mall/earning/sql/mall_opening.*.sql, mirrored by
mall.earning.openings)."""

from importlib.resources import files

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-05T12:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "uploads kept for confirmation, and opening balances"

SQL_FILES: dict[str, list[str]] = {
    "sqlite": ["people/sql/mall_upload.sqlite.sql", "earning/sql/mall_opening.sqlite.sql"],
    "postgres": ["people/sql/mall_upload.postgres.sql", "earning/sql/mall_opening.postgres.sql"],
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
