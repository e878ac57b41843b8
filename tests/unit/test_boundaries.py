"""The dependency arrows of DESIGN.md: ``ledger`` and ``catalog`` import nothing else of ours."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = {"ledger", "catalog", "mall", "web", "tests", "bench", "migrations"}


def imported_packages(package: str) -> set[str]:
    return set().union(*(imported_packages_of(path) for path in (ROOT / package).rglob("*.py")))


@pytest.mark.parametrize("package", ["ledger", "catalog"])
def test_core_imports_nothing_else_from_the_project(package: str) -> None:
    assert imported_packages(package) & PROJECT == {package}


def test_mall_does_not_import_the_web_layer_except_from_the_cli() -> None:
    offenders = [
        path.name
        for path in (ROOT / "mall").rglob("*.py")
        if path.name != "cli.py" and "web" in imported_packages_of(path)
    ]
    assert offenders == []


def imported_packages_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
    return found
