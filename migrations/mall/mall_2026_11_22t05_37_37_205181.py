from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import ForeignKey

ID = "2026-11-22T05:37:37:205181"
VERSION = "1.38.0"
DESCRIPTION = "Drop indexes another index already leads with: every checkout wrote them"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="mall", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="Code",
        tablename="mall_code",
        column_name="resident",
        db_column_name="resident",
        params={"index": False},
        old_params={"index": True},
        column_class=ForeignKey,
        old_column_class=ForeignKey,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Order",
        tablename="mall_order",
        column_name="resident",
        db_column_name="resident",
        params={"index": False},
        old_params={"index": True},
        column_class=ForeignKey,
        old_column_class=ForeignKey,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Order",
        tablename="mall_order",
        column_name="user_id",
        db_column_name="user_id",
        params={"index": False},
        old_params={"index": True},
        column_class=ForeignKey,
        old_column_class=ForeignKey,
        schema=None,
    )

    return manager
