"""A resident keeps at most three live pay codes from the phone: an index of the live ones, and
mall_new_pay_code re-installed (people/sql/, mirrored by mall.people.credentials.new_pay_code)."""

from importlib.resources import files

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-04T17:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "pay codes: at most three live ones per resident"

SQL_FILES: dict[str, list[str]] = {
    "sqlite": ["people/sql/mall_code_live_pay_index.sql"],
    "postgres": ["people/sql/mall_code_live_pay_index.sql", "people/sql/mall_new_pay_code.sql"],
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
