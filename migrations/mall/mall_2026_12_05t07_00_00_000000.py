"""Trust (issue #17): a printed card issued while its resident holds points waits for a second
staff member (pending until approved: who approved it, when), and a session keeps the address it
was opened from (a user's last sign-ins); mall_checkout re-installed, which now re-checks a printed
card in its transaction (card_pending, or code_invalid once a new card revoked it)."""

from importlib.resources import files

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-05T07:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "cards pending approval, sign-in addresses"

COLUMNS = [
    "ALTER TABLE mall_code ADD COLUMN pending BOOLEAN NOT NULL DEFAULT FALSE",
    "ALTER TABLE mall_code ADD COLUMN approved_by INTEGER NULL DEFAULT NULL "
    "REFERENCES mall_user (id) ON DELETE RESTRICT",
    "ALTER TABLE mall_code ADD COLUMN approved_at TIMESTAMPTZ NULL DEFAULT NULL",
    "ALTER TABLE mall_session ADD COLUMN ip VARCHAR(64) NOT NULL DEFAULT ''",
]
SQL_FILES: dict[str, list[str]] = {
    "sqlite": [],
    "postgres": ["counter/sql/mall_checkout.sql"],
}


async def install():
    engine = engine_finder()
    for statement in COLUMNS:
        await engine.run_ddl(statement)
    for name in SQL_FILES[engine.engine_type]:
        text = files("mall").joinpath(*name.split("/")).read_text(encoding="utf-8")
        for statement in text.split("\n-- statement\n"):  # see docs/migrations.md
            await engine.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mall", description=DESCRIPTION)
    manager.add_raw(install)
    return manager
