"""Households, proxies and building heads (issue #20): a resident's grants to a proxy (代领) and
the proxy on an order (mall/people/sql/mall_proxy.*.sql, mirrored by mall.people.proxies), the
buildings a building head serves (mall/people/sql/mall_user_building.*.sql, mirrored by
mall.people.users), and one household per address in a community
(mall/people/sql/mall_household_indexes.sql, mirrored by mall.people.households)."""

from importlib.resources import files

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-05T18:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "households, proxies and building heads"

SQL_FILES: dict[str, list[str]] = {
    "sqlite": [
        "people/sql/mall_proxy.sqlite.sql",
        "people/sql/mall_user_building.sqlite.sql",
        "people/sql/mall_household_indexes.sql",
    ],
    "postgres": [
        "people/sql/mall_proxy.postgres.sql",
        "people/sql/mall_user_building.postgres.sql",
        "people/sql/mall_household_indexes.sql",
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
