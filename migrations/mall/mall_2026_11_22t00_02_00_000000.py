"""Rules of the community tables the database enforces: unique grid codes, an append-only audit log."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T00:02:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "community constraints and append-only audit log"

COMMON = [
    "CREATE UNIQUE INDEX mall_grid_community_code ON mall_grid (community, code)",
    "CREATE INDEX mall_resident_community_name ON mall_resident (community, name)",
    "CREATE INDEX mall_audit_community_at ON mall_audit (community, at)",
    "CREATE INDEX mall_code_resident_kind ON mall_code (resident, kind)",
]

SQLITE = [
    f"""CREATE TRIGGER mall_audit_no_{op.lower()} BEFORE {op} ON mall_audit
        BEGIN SELECT RAISE(ABORT, 'mall_audit is append-only'); END"""
    for op in ("UPDATE", "DELETE")
]

POSTGRES = [
    """CREATE TRIGGER mall_audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON mall_audit
       FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()""",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mall", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for sql in COMMON + (SQLITE if engine.engine_type == "sqlite" else POSTGRES):
            await engine.run_ddl(sql)

    manager.add_raw(run)
    return manager
