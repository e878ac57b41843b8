"""``mall demo``: a realistic community to click through, loaded into an empty database.

For now it holds the ledger of two communities: budgets granted by the street, residents' wallets,
a history of awards on all three paths, redemptions, a corrected mistake and open reservations.
"""

from __future__ import annotations

import random
from datetime import timedelta

import ledger
from mall import points
from mall.db import open_database
from mall.settings import get_settings

COMMUNITIES = [
    (
        "xingfuli",
        "幸福里社区",
        ["王秀英", "李建国", "张桂兰", "刘德华", "陈玉珍", "杨志强", "赵淑芬", "黄明"],
    ),
    ("heping", "和平社区", ["周丽华", "吴国庆", "徐美玲", "孙长林", "马秀兰"]),
]

AWARDS = [
    ("timely_help", 20, "为独居老人送餐 / delivered meals to a neighbour living alone"),
    ("timely_help", 30, "完成微心愿：帮邻居修轮椅 / fulfilled a micro-wish: repaired a wheelchair"),
    ("adding_to_good", 10, "参加协商议事会 / joined the deliberation meeting"),
    (
        "adding_to_good",
        15,
        "响应招募令：清理楼道 / answered a recruitment call: cleaned stairwells",
    ),
    ("adding_to_good", 25, "建言献策被采纳 / proposal adopted"),
    ("settling_disputes", 20, "上报楼道堆物隐患 / reported a fire hazard in the stairwell"),
    ("settling_disputes", 40, "协助调解邻里纠纷 / helped mediate a neighbour dispute"),
]


async def load_demo() -> int:
    db = open_database(get_settings().database_url)
    try:
        async with db.transaction() as conn:
            if await conn.fetchval("SELECT COUNT(*) FROM ledger_book"):
                print(
                    "数据库里已有数据，未加载演示数据 / the database is not empty: demo not loaded"
                )
                return 0
            rng = random.Random(2026)
            for slug, name, residents in COMMUNITIES:
                await _community(conn, rng, slug, name, residents)
            report = await ledger.verify_ledger(conn)
    finally:
        await db.close()
    print(f"演示数据已加载 / demo loaded: {report.journals} journals, {report.postings} postings")
    for slug, name, residents in COMMUNITIES:
        print(f"  {name} ({slug}): {len(residents)} residents")
    return 0


async def _community(
    conn: ledger.Connection, rng: random.Random, slug: str, name: str, residents: list[str]
) -> None:
    book = await points.open_community_book(conn, slug, name)
    await ledger.post_journal(
        conn,
        book,
        "grant",
        [(points.MINT, -20000), (points.BUDGET, 20000)],
        idempotency_key=f"demo:{slug}:grant",
        memo="街道拨付年度积分预算 / yearly budget from the street",
    )
    outlet = points.redeemed(1 if slug == "xingfuli" else 2)
    await ledger.open_account(conn, book, outlet, no_negative=False)
    for i, _resident in enumerate(residents, start=1):
        await ledger.open_account(conn, book, points.wallet(i), no_negative=True)
    for n in range(60):
        resident = rng.randint(1, len(residents))
        path, amount, memo = rng.choice(AWARDS)
        await ledger.post_journal(
            conn,
            book,
            "award",
            [(points.BUDGET, -amount), (points.wallet(resident), amount)],
            idempotency_key=f"demo:{slug}:award:{n}",
            path=path,
            memo=memo,
        )
    for n in range(25):
        resident = rng.randint(1, len(residents))
        balance = (await ledger.get_balance(conn, book, points.wallet(resident))).balance
        price = rng.choice([5, 8, 12, 20, 30])
        if balance >= price:
            await ledger.post_journal(
                conn,
                book,
                "redemption",
                [(points.wallet(resident), -price), (outlet, price)],
                idempotency_key=f"demo:{slug}:order:{n}",
                memo="积分超市兑换 / redeemed at the supermarket",
            )
    mistake = await ledger.post_journal(
        conn,
        book,
        "award",
        [(points.BUDGET, -50), (points.wallet(1), 50)],
        idempotency_key=f"demo:{slug}:mistake",
        path="adding_to_good",
        memo="误发 / issued by mistake",
    )
    await ledger.reverse_journal(
        conn,
        mistake.id,
        idempotency_key=f"demo:{slug}:mistake:reverse",
        memo="更正误发 / corrected",
    )
    for i in (2, 3):
        if (await ledger.get_balance(conn, book, points.wallet(i))).balance >= 10:
            await ledger.place_hold(
                conn,
                book,
                points.wallet(i),
                10,
                expires_at=ledger.journals.now() + timedelta(days=3),
                idempotency_key=f"demo:{slug}:reserve:{i}",
                memo="预约：食用油一桶 / reserved: cooking oil",
            )
