"""Refunds and monthly limits (issue #19): mall_checkout re-installed, which now counts a
completed order's lines less what refunds of chosen lines gave back, as
mall.counter.basket.used_this_month does (mall/counter/sql/mall_checkout.sql)."""

from importlib.resources import files

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-06T01:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "refunded lines give back the monthly limit"

SQL_FILES: dict[str, list[str]] = {
    "sqlite": [],
    "postgres": ["counter/sql/mall_checkout.sql"],
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
