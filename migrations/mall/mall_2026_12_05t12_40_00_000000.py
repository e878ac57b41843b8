"""Points expiry (issue #18): the community policy's ``expiry`` (never, year_end, months),
``expiry_months`` and ``expiry_since`` as columns of mall_community (mall/org/sql/mall_community_expiry.sql,
mirrored by mall.org.policy). Existing communities keep their points forever (``never``)."""

from importlib.resources import files

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-05T12:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "community policy: points expiry"

SQL_FILES: dict[str, list[str]] = {
    "sqlite": ["org/sql/mall_community_expiry.sql"],
    "postgres": ["org/sql/mall_community_expiry.sql"],
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
