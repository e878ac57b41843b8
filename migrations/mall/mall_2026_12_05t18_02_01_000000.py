"""Refunds of chosen order lines with a reason (issue #19): each refund, whole or partial, is a
row of mall_refund with its lines in mall_refund_line (mall/counter/sql/mall_refund.*.sql,
mirrored by mall.counter.refunds). Orders refunded before keep their columns on mall_order."""

from importlib.resources import files

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-05T18:02:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "refunds with a reason, of chosen order lines"

SQL_FILES: dict[str, list[str]] = {
    "sqlite": ["counter/sql/mall_refund.sqlite.sql"],
    "postgres": ["counter/sql/mall_refund.postgres.sql"],
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
