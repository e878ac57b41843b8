"""Piccolo app of the ledger: its tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder


def _migrations_folder() -> Path:
    """This app's migrations folder, found in one of two places depending on how it was installed.

    A wheel carries the migrations inside the package (``ledger/migrations``, mapped in at build
    time by pyproject.toml); a checkout or an editable install has them in ``migrations/ledger``.
    """
    package = Path(__file__).resolve().parent
    inside = package / "migrations"
    return inside if inside.is_dir() else package.parent / "migrations" / "ledger"


ledger_app = APP_CONFIG = AppConfig(
    app_name="ledger",
    migrations_folder_path=str(_migrations_folder()),
    table_classes=table_finder(modules=["ledger.tables"], exclude_imported=True),
    migration_dependencies=[],
    commands=[],
)
