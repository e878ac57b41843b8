from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import ForeignKey

ID = "2026-11-22T05:36:56:228796"
VERSION = "1.38.0"
DESCRIPTION = "Drop indexes another index already leads with: every checkout wrote them"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="ledger", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="Journal",
        tablename="ledger_journal",
        column_name="book",
        db_column_name="book",
        params={"index": False},
        old_params={"index": True},
        column_class=ForeignKey,
        old_column_class=ForeignKey,
        schema=None,
    )

    return manager
