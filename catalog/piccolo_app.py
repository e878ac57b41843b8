"""Piccolo app of the catalog: outlets, items, donors and stock, with their migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder


def _migrations_folder() -> Path:
    """This app's migrations folder, found in one of two places depending on how it was installed.

    A wheel carries the migrations inside the package (``catalog/migrations``, mapped in at build
    time by pyproject.toml); a checkout or an editable install has them in ``migrations/catalog``.
    """
    package = Path(__file__).resolve().parent
    inside = package / "migrations"
    return inside if inside.is_dir() else package.parent / "migrations" / "catalog"


APP_CONFIG = AppConfig(
    app_name="catalog",
    migrations_folder_path=str(_migrations_folder()),
    table_classes=table_finder(modules=["catalog.tables"], exclude_imported=True),
    migration_dependencies=[],
    commands=[],
)
