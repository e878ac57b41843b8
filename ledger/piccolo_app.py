"""Piccolo app of the ledger: its tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

ledger_app = APP_CONFIG = AppConfig(
    app_name="ledger",
    migrations_folder_path=str(Path(__file__).resolve().parent.parent / "migrations" / "ledger"),
    table_classes=table_finder(modules=["ledger.tables"], exclude_imported=True),
    migration_dependencies=[],
    commands=[],
)
