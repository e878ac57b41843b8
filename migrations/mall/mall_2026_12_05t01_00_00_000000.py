"""Each community's trust policy as three columns of mall_community (mall.org.policy): the daily
approval threshold per issuer per resident, the most an activity may pay a head, and the days
a notice stays open to objections. Existing communities get the defaults."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-05T01:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "community policy: approval threshold, activity maximum, objection days"

STATEMENTS = [
    "ALTER TABLE mall_community ADD COLUMN approval_threshold INTEGER NOT NULL DEFAULT 100",
    "ALTER TABLE mall_community ADD COLUMN activity_max_points INTEGER NOT NULL DEFAULT 200",
    "ALTER TABLE mall_community ADD COLUMN objection_days INTEGER NOT NULL DEFAULT 7",
]


async def install():
    engine = engine_finder()
    for statement in STATEMENTS:
        await engine.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mall", description=DESCRIPTION)
    manager.add_raw(install)
    return manager
