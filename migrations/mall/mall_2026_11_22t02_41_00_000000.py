"""Rules of earning and redemption the database enforces: unique rule codes, one award per
maker's idempotency key, one line per resident per award, one sign-up per resident per
activity, one order per outlet idempotency key and per pay code, and the indexes they need."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T02:41:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "earning and redemption constraints"

COMMON = [
    "CREATE UNIQUE INDEX mall_rule_community_code ON mall_rule (community, code)",
    "CREATE UNIQUE INDEX mall_award_maker_key ON mall_award (created_by, idempotency_key)",
    "CREATE INDEX mall_award_community_status ON mall_award (community, status)",
    "CREATE UNIQUE INDEX mall_award_line_award_resident ON mall_award_line (award, resident)",
    "CREATE INDEX mall_award_line_resident_at ON mall_award_line (resident, created_at)",
    "CREATE INDEX mall_activity_community_starts ON mall_activity (community, starts_at)",
    "CREATE UNIQUE INDEX mall_signup_activity_resident ON mall_signup (activity, resident)",
    "CREATE UNIQUE INDEX mall_submission_deadline_kind ON mall_submission_deadline (community, kind)",
    "CREATE INDEX mall_submission_community_status_due ON mall_submission (community, status, due_at)",
    "CREATE UNIQUE INDEX mall_order_outlet_key ON mall_order (outlet, idempotency_key)",
    "CREATE UNIQUE INDEX mall_order_code ON mall_order (code_ident) WHERE code_ident IS NOT NULL",
    "CREATE INDEX mall_order_resident_at ON mall_order (resident, created_at)",
    "CREATE INDEX mall_order_user_at ON mall_order (user_id, created_at)",
    "CREATE UNIQUE INDEX mall_reservation_resident_key ON mall_reservation (resident, idempotency_key)",
    "CREATE INDEX mall_reservation_status_expires ON mall_reservation (status, expires_at)",
    "CREATE INDEX mall_code_kind_expires ON mall_code (kind, expires_at)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mall", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for sql in COMMON:
            await engine.run_ddl(sql)

    manager.add_raw(run)
    return manager
