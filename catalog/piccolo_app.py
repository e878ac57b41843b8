"""Piccolo app of the catalog: outlets, items, donors and stock, with their migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="catalog",
    migrations_folder_path=str(Path(__file__).resolve().parent.parent / "migrations" / "catalog"),
    table_classes=table_finder(modules=["catalog.tables"], exclude_imported=True),
    migration_dependencies=[],
    commands=[],
)
