"""``mall verify``: run every consistency check and print what it found."""

from __future__ import annotations

from dataclasses import dataclass

from catalog import StockReport, verify_stock
from ledger import Report, verify_ledger
from mall.db import open_database
from mall.settings import get_settings


@dataclass(frozen=True)
class Checked:
    """What ``mall verify`` found in a database or a copy of it."""

    ledger: Report
    stock: StockReport

    @property
    def ok(self) -> bool:
        return not self.ledger.problems and not self.stock.problems

    def summary(self) -> str:
        return (
            f"{self.ledger.journals} journals, {self.ledger.postings} postings, "
            f"{self.stock.levels} stock levels"
        )

    def problems(self) -> list[str]:
        return [str(p) for p in [*self.ledger.problems, *self.stock.problems]]


async def check(url: str) -> Checked:
    """Every check of ``mall verify``, on the database at ``url``."""
    db = open_database(url)
    try:
        async with db.connection() as conn:
            return Checked(await verify_ledger(conn), await verify_stock(conn))
    finally:
        await db.close()


async def run_verify() -> int:
    found = await check(get_settings().database_url)
    report, stock = found.ledger, found.stock
    print(
        f"账本 ledger: {report.journals} journals, {report.postings} postings, "
        f"{report.accounts} accounts"
    )
    print(f"库存 stock: {stock.levels} levels, {stock.movements} movements")
    problems = found.problems()
    for problem in problems:
        print(f"PROBLEM {problem}")
    if not problems:
        print("核对无误 / no problems found")
        return 0
    print(f"发现 {len(problems)} 个问题 / {len(problems)} problems found")
    return 1
