"""The public notice (公示) and objections (issue #18): residents' objections to notice entries
(mall/reports/sql/mall_objection.*.sql, mirrored by mall.reports.objections), and an index for
reading a community's posted awards by date."""

from importlib.resources import files

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-05T08:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "objections to the public notice"

SQL_FILES: dict[str, list[str]] = {
    "sqlite": ["reports/sql/mall_objection.sqlite.sql"],
    "postgres": ["reports/sql/mall_objection.postgres.sql"],
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
