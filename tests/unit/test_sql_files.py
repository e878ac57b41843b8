"""The server-side SQL files (ledger/sql, catalog/sql, and the sql/ folder of each of mall's packages)
and the migrations that install them."""

from __future__ import annotations

import importlib.util
import sqlite3
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("ledger", "catalog", "mall")
SEPARATOR = "\n-- statement\n"  # as the migrations split a file
SQL_FILES = sorted(path for app in APPS for path in (ROOT / app).rglob("sql/*.sql"))


def named(app: str) -> set[str]:
    """The app's SQL files as its migrations name them: ledger's and catalog's by file name in
    their sql/ folder, mall's by their path below mall/ (``counter/sql/mall_checkout.sql``)."""
    if app == "mall":
        return {str(p.relative_to(ROOT / app)) for p in (ROOT / app).rglob("sql/*.sql")}
    return {path.name for path in (ROOT / app / "sql").glob("*.sql")}


def installed(app: str) -> dict[str, list[str]]:
    """The files each engine gets, per the app's migrations that name them (``SQL_FILES``)."""
    found: dict[str, list[str]] = {"sqlite": [], "postgres": []}
    for path in sorted((ROOT / "migrations" / app).glob(f"{app}_20*.py")):
        spec = importlib.util.spec_from_file_location(f"_migration_{path.stem}", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for engine, names in getattr(module, "SQL_FILES", {}).items():
            found[engine] += names
    return found


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_file_says_first_which_python_it_mirrors(path: Path) -> None:
    assert path.read_text(encoding="utf-8").startswith("-- Mirrors ")


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_part_between_separators_is_one_statement(path: Path) -> None:
    """A missing ``-- statement`` line would send two statements in one call, which neither
    engine takes through Piccolo; SQLite's own parser tells where a trigger's body ends."""
    for part in path.read_text(encoding="utf-8").split(SEPARATOR):
        body = "\n".join(line for line in part.splitlines() if not line.startswith("--")).strip()
        assert body.endswith(";"), part
        if not path.name.endswith(".postgres.sql") and "$$" not in body:  # SQLite runs it too
            assert sqlite3.complete_statement(body), part
        if "$$" not in body:  # outside PL/pgSQL bodies: one final semicolon, and in a SQLite
            inner = 1 if " BEGIN " in body else 0  # trigger's BEGIN ... END one more
            assert body.count(";") == 1 + inner, part


@pytest.mark.parametrize("app", APPS)
def test_every_file_is_installed_on_its_engines_and_every_installed_file_exists(app: str) -> None:
    files = named(app)
    engines = installed(app)
    assert set(engines["sqlite"]) | set(engines["postgres"]) == files
    for engine, other in (("sqlite", "postgres"), ("postgres", "sqlite")):
        assert not [name for name in engines[engine] if name.endswith(f".{other}.sql")]
