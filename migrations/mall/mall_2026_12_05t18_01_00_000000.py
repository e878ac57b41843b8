"""The counter's visits (issue #19): what a scan at the counter found, kept under a random token
so that the page after the scan is a plain GET (mall/counter/sql/mall_counter_visit.*.sql,
mirrored by mall.counter.visits)."""

from importlib.resources import files

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-05T18:01:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "counter visits: post/redirect/get after a scan"

SQL_FILES: dict[str, list[str]] = {
    "sqlite": ["counter/sql/mall_counter_visit.sqlite.sql"],
    "postgres": ["counter/sql/mall_counter_visit.postgres.sql"],
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
