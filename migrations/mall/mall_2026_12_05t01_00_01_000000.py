"""A settled activity names the award its settlement made (mall.earning.checkin.settle): the
settlement goes through the award path (budget, caps, the daily threshold, four eyes)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-05T01:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "activity settlement is an award"

STATEMENTS = [
    "ALTER TABLE mall_activity ADD COLUMN award INTEGER NULL REFERENCES mall_award (id)",
]


async def install():
    engine = engine_finder()
    for statement in STATEMENTS:
        await engine.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mall", description=DESCRIPTION)
    manager.add_raw(install)
    return manager
