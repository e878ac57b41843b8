"""Volunteer hours and the ranking (issue #20): an activity's hours and each attendee's
(mall/earning/sql/mall_volunteer_hours.sql, mirrored by mall.earning.hours), the policy's star
levels (mall/org/sql/mall_community_stars.sql, mall.org.policy) and a resident's choice to appear
on the ranking (mall/people/sql/mall_resident_ranking.sql, mall.reports.ranking). Existing
activities count no hours; existing residents stay off the ranking."""

from importlib.resources import files

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-05T18:07:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "volunteer hours, star levels and the ranking opt-in"

SQL_FILES: dict[str, list[str]] = {
    "sqlite": [
        "earning/sql/mall_volunteer_hours.sql",
        "org/sql/mall_community_stars.sql",
        "people/sql/mall_resident_ranking.sql",
    ],
    "postgres": [
        "earning/sql/mall_volunteer_hours.sql",
        "org/sql/mall_community_stars.sql",
        "people/sql/mall_resident_ranking.sql",
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
