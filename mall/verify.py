"""``mall verify``: run every consistency check and print what it found."""

from __future__ import annotations

from ledger import verify_ledger
from mall.db import open_database
from mall.settings import get_settings


async def run_verify() -> int:
    db = open_database(get_settings().database_url)
    try:
        async with db.connection() as conn:
            report = await verify_ledger(conn)
    finally:
        await db.close()
    print(
        f"账本 ledger: {report.journals} journals, {report.postings} postings, "
        f"{report.accounts} accounts"
    )
    for problem in report.problems:
        print(f"PROBLEM {problem}")
    if report.ok:
        print("核对无误 / no problems found")
        return 0
    print(f"发现 {len(report.problems)} 个问题 / {len(report.problems)} problems found")
    return 1
