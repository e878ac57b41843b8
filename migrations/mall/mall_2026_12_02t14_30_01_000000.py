"""One row per volunteer and outlet (``mall_volunteer_outlet``, made by the migration before)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-02T14:30:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "one row per volunteer and outlet"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mall", description=DESCRIPTION)

    async def run():
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX mall_volunteer_outlet_user_outlet "
            "ON mall_volunteer_outlet (user_id, outlet)"
        )

    manager.add_raw(run)
    return manager
