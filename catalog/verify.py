"""Recompute every stock level from its movements and report each row that disagrees.

It only reads. Each problem names its table and row, like ``ledger.verify``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from catalog.connection import Connection


@dataclass(frozen=True)
class Problem:
    check: str
    table: str
    row: int
    detail: str

    def __str__(self) -> str:
        return f"{self.table} #{self.row}: {self.check}: {self.detail}"


@dataclass
class StockReport:
    levels: int = 0
    movements: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


async def verify_stock(conn: Connection) -> StockReport:
    """Check that each level equals the sum of its movements and its last ``level_after``, that
    versions run 1..n without gaps, each ``level_after`` is the running sum and never below zero,
    that no movement lacks its level row, and that services have no stock."""
    report = StockReport()
    add = report.problems.append
    report.levels = int(await conn.fetchval("SELECT COUNT(*) FROM catalog_stock_level"))
    report.movements = int(await conn.fetchval("SELECT COUNT(*) FROM catalog_stock_movement"))

    for r in await conn.fetch(
        "SELECT id, level FROM catalog_stock_level WHERE level < 0 ORDER BY id"
    ):
        add(Problem("not below zero", "catalog_stock_level", r["id"], f"level {r['level']}"))
    for r in await conn.fetch(
        "SELECT l.id, l.level, l.version, COUNT(m.id) AS n, COALESCE(SUM(m.quantity), 0) AS total"
        " FROM catalog_stock_level l LEFT JOIN catalog_stock_movement m"
        " ON m.outlet = l.outlet AND m.item = l.item"
        " GROUP BY l.id, l.level, l.version ORDER BY l.id"
    ):
        if r["n"] == 0:
            if r["level"] != 0 or r["version"] != 0:
                add(
                    Problem(
                        "level has movements",
                        "catalog_stock_level",
                        r["id"],
                        f"level {r['level']} version {r['version']} without any movement",
                    )
                )
            continue
        if r["total"] != r["level"]:
            add(
                Problem(
                    "level = sum of movements",
                    "catalog_stock_level",
                    r["id"],
                    f"level {r['level']}, movements sum to {r['total']}",
                )
            )
        if r["version"] != r["n"]:
            add(
                Problem(
                    "version = number of movements",
                    "catalog_stock_level",
                    r["id"],
                    f"version {r['version']}, {r['n']} movements",
                )
            )
    for r in await conn.fetch(
        "SELECT m.id, m.outlet, m.item FROM catalog_stock_movement m WHERE NOT EXISTS ("
        " SELECT 1 FROM catalog_stock_level l WHERE l.outlet = m.outlet AND l.item = m.item)"
        " ORDER BY m.id"
    ):
        add(
            Problem(
                "movement has a level",
                "catalog_stock_movement",
                r["id"],
                f"no level row for outlet {r['outlet']} item {r['item']}",
            )
        )
    for r in await conn.fetch(
        "SELECT m.id FROM catalog_stock_movement m JOIN catalog_item i ON i.id = m.item"
        " WHERE i.kind <> 'goods' ORDER BY m.id"
    ):
        add(Problem("only goods are stocked", "catalog_stock_movement", r["id"], "a service"))
    await _check_steps(conn, report)
    return report


async def _check_steps(conn: Connection, report: StockReport) -> None:
    """Walk each level's movements in version order: versions 1..n, running sums, last step."""
    rows = await conn.fetch(
        "SELECT m.id, m.outlet, m.item, m.quantity, m.version, m.level_after,"
        " l.id AS level_id, l.level FROM catalog_stock_movement m"
        " LEFT JOIN catalog_stock_level l ON l.outlet = m.outlet AND l.item = m.item"
        " ORDER BY m.outlet, m.item, m.version, m.id"
    )
    add = report.problems.append
    key: tuple[int, int] | None = None
    expected_version = running = 0
    last: dict[str, Any] | None = None

    def close(step: dict[str, Any] | None) -> None:
        if (
            step is not None
            and step["level_id"] is not None
            and step["level_after"] != step["level"]
        ):
            add(
                Problem(
                    "level = last level_after",
                    "catalog_stock_level",
                    step["level_id"],
                    f"level {step['level']}, last movement #{step['id']} left {step['level_after']}",
                )
            )

    for r in rows:
        step = dict(r)
        if (r["outlet"], r["item"]) != key:
            close(last)
            key, expected_version, running = (r["outlet"], r["item"]), 0, 0
        expected_version += 1
        running += r["quantity"]
        if r["version"] != expected_version:
            add(
                Problem(
                    "versions 1..n without gaps",
                    "catalog_stock_movement",
                    r["id"],
                    f"version {r['version']}, expected {expected_version}",
                )
            )
            expected_version = r["version"]
        if r["level_after"] < 0:
            add(
                Problem(
                    "not below zero",
                    "catalog_stock_movement",
                    r["id"],
                    f"level_after {r['level_after']}",
                )
            )
        if r["level_after"] != running:
            add(
                Problem(
                    "level_after = running sum",
                    "catalog_stock_movement",
                    r["id"],
                    f"level_after {r['level_after']}, movements so far sum to {running}",
                )
            )
            running = r["level_after"]
        last = step
    close(last)
