"""A cancelled activity keeps the reason staff gave (mall.earning.activity_changes.cancel_activity),
for the residents: on the activity's page, in the API and in the inbox message (issue #19)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-06T01:00:02:000000"
VERSION = "1.38.0"
DESCRIPTION = "a cancelled activity's reason"

STATEMENTS = [
    "ALTER TABLE mall_activity ADD COLUMN cancel_reason TEXT NULL DEFAULT NULL",
]


async def install():
    engine = engine_finder()
    for statement in STATEMENTS:
        await engine.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mall", description=DESCRIPTION)
    manager.add_raw(install)
    return manager
