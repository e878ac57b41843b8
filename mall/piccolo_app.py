"""Piccolo app of the community domain: its tables and migrations (after the ledger's)."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder


def _migrations_folder() -> Path:
    """This app's migrations folder, found in one of two places depending on how it was installed.

    A wheel carries the migrations inside the package (``mall/migrations``, mapped in at build
    time by pyproject.toml); a checkout or an editable install has them in ``migrations/mall``.
    """
    package = Path(__file__).resolve().parent
    inside = package / "migrations"
    return inside if inside.is_dir() else package.parent / "migrations" / "mall"


APP_CONFIG = AppConfig(
    app_name="mall",
    migrations_folder_path=str(_migrations_folder()),
    table_classes=table_finder(modules=["mall.tables"], exclude_imported=True),
    migration_dependencies=["ledger.piccolo_app", "catalog.piccolo_app"],
    commands=[],
)
