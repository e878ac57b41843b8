"""Offline pay codes (issue #19): a pay code's window start and the phone session it was issued
to, as columns of mall_code (mall/people/sql/mall_code_offline.sql, mirrored by
mall.people.offline_codes), and mall_checkout re-installed to accept them in their window
(mall/counter/sql/mall_checkout.sql, mirrored by mall.counter.payer.check_window)."""

from importlib.resources import files

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-05T18:03:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "offline pay codes"

SQL_FILES: dict[str, list[str]] = {
    "sqlite": ["people/sql/mall_code_offline.sql"],
    "postgres": ["people/sql/mall_code_offline.sql", "counter/sql/mall_checkout.sql"],
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
