"""``mall verify``: run every consistency check and print what it found."""

from __future__ import annotations

from catalog import verify_stock
from ledger import verify_ledger
from mall.db import open_database
from mall.settings import get_settings


async def run_verify() -> int:
    db = open_database(get_settings().database_url)
    try:
        async with db.connection() as conn:
            report = await verify_ledger(conn)
            stock = await verify_stock(conn)
    finally:
        await db.close()
    print(
        f"账本 ledger: {report.journals} journals, {report.postings} postings, "
        f"{report.accounts} accounts"
    )
    print(f"库存 stock: {stock.levels} levels, {stock.movements} movements")
    problems = [*report.problems, *stock.problems]
    for problem in problems:
        print(f"PROBLEM {problem}")
    if not problems:
        print("核对无误 / no problems found")
        return 0
    print(f"发现 {len(problems)} 个问题 / {len(problems)} problems found")
    return 1
