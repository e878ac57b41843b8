"""Piccolo app of the community domain: its tables and migrations (after the ledger's)."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="mall",
    migrations_folder_path=str(Path(__file__).resolve().parent.parent / "migrations" / "mall"),
    table_classes=table_finder(modules=["mall.tables"], exclude_imported=True),
    migration_dependencies=["ledger.piccolo_app", "catalog.piccolo_app"],
    commands=[],
)
