"""Baseline, second step: the community tables' indexes, the append-only audit log, and the
PostgreSQL functions of a checkout (mall_replayed_order, mall_checkout) and of a pay code.

The SQL lives in the sql/ folder of the package that owns it, beside the Python it mirrors (a
path below mall/); this only installs it, per engine.
(A separate migration because Piccolo runs a migration's add_raw steps before its add_table.)"""

from importlib.resources import files

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-04T00:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "baseline: the mall rules, functions and triggers"

INDEXES = [
    "org/sql/mall_grid_indexes.sql",
    "people/sql/mall_resident_indexes.sql",
    "access/sql/mall_audit_indexes.sql",
    "people/sql/mall_code_indexes.sql",
    "earning/sql/mall_rule_indexes.sql",
    "earning/sql/mall_award_indexes.sql",
    "earning/sql/mall_activity_indexes.sql",
    "earning/sql/mall_submission_indexes.sql",
    "counter/sql/mall_order_indexes.sql",
    "counter/sql/mall_reservation_indexes.sql",
    "people/sql/mall_volunteer_outlet_indexes.sql",
]
SQL_FILES = {
    "sqlite": INDEXES + ["access/sql/mall_audit_append_only.sqlite.sql"],
    "postgres": INDEXES + [
        "access/sql/mall_audit_append_only.postgres.sql",
        "counter/sql/mall_replayed_order.sql",
        "counter/sql/mall_checkout.sql",
        "people/sql/mall_new_pay_code.sql",
    ],
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
