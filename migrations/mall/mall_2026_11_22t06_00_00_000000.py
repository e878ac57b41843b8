"""Split each outlet's ``redeemed`` account in eight (``redeemed:o<outlet>:<resident mod 8>``):
every checkout locks the account its points go to, and one per outlet made the outlet's counters
queue for one row. New outlets open the eight when they are created (``points``); this opens them
for the outlets that exist. The old ``redeemed:o<outlet>`` keeps what it took in."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T06:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "eight redeemed accounts per outlet"

SHARDS = " UNION ALL ".join(f"SELECT {n} AS n" for n in range(8))
OPEN = (
    "INSERT INTO ledger_account (book, code, no_negative, balance, version, last_hash, created_at) "
    "SELECT c.book, 'redeemed:o' || o.id || ':' || s.n, FALSE, 0, 0, '', CURRENT_TIMESTAMP "
    f"FROM catalog_outlet o JOIN mall_community c ON c.id = o.community_id, ({SHARDS}) s "
    "WHERE TRUE ON CONFLICT (book, code) DO NOTHING"
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mall", description=DESCRIPTION)

    async def run():
        await engine_finder().run_ddl(OPEN)

    manager.add_raw(run)
    return manager
