"""The community around the supermarket (issue #20): residents' ratings of resolved submissions
(mall/earning/sql/mall_submission_rating.sql, mirrored by mall.earning.ratings), staff's
announcements and each resident's inbox (mall/notify/sql/mall_message.*.sql, mirrored by
mall.notify)."""

from importlib.resources import files

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-05T18:06:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "submission ratings, announcements and the residents' inbox"

SQL_FILES: dict[str, list[str]] = {
    "sqlite": ["earning/sql/mall_submission_rating.sql", "notify/sql/mall_message.sqlite.sql"],
    "postgres": ["earning/sql/mall_submission_rating.sql", "notify/sql/mall_message.postgres.sql"],
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
