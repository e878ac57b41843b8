"""The demo loader for `mall demo`.

A street with two communities, their grids, staff, volunteers and residents (some with a phone
bound, some with a printed card), budgets from the street, and a ledger history: awards on all
three paths, redemptions, a corrected mistake and open reservations, announcements and ratings
of resolved submissions (every resident's inbox fills from all of it). Passwords and PINs are made
up afresh on every load and printed once, so no demo password is ever the same twice.
"""

from __future__ import annotations

import random
import secrets
from typing import Any

import ledger
from mall.access import Admin, Staff
from mall.db import Database, open_database
from mall.demo import activities as demo_activities
from mall.demo import community as demo_community
from mall.demo import earning as demo_earning
from mall.demo import notice as demo_notice
from mall.demo import orders as demo_orders
from mall.demo import shop as demo_shop
from mall.demo import telling as demo_telling
from mall.org import communities, points, policy
from mall.people import accounts, cards, credentials, residents, users
from mall.settings import get_settings

COMMUNITIES = [
    {
        "slug": "xingfuli",
        "name": "幸福里社区",
        "grids": [
            ("g1", "第一网格（1-6栋）"),
            ("g2", "第二网格（7-12栋）"),
            ("g3", "第三网格（沿街商铺）"),
        ],
        "residents": [
            ("王秀英", "13800000001"),
            ("李建国", "13800000002"),
            ("张桂兰", None),
            ("刘德华", "13800000004"),
            ("陈玉珍", "13800000005"),
            ("杨志强", "13800000006"),
            ("赵淑芬", None),
            ("黄明", "13800000008"),
        ],
    },
    {
        "slug": "heping",
        "name": "和平社区",
        "grids": [("g1", "东区网格"), ("g2", "西区网格")],
        "residents": [
            ("周丽华", "13900000001"),
            ("吴国庆", "13900000002"),
            ("徐美玲", None),
            ("孙长林", "13900000004"),
            ("马秀兰", "13900000005"),
        ],
    },
]

ADMIN = Admin(user_id=None, username="(demo)")


def _password() -> str:
    return secrets.token_urlsafe(9)


async def load_demo() -> int:
    db = open_database(get_settings().database_url)
    try:
        async with db.connection() as conn:
            if await conn.fetchval("SELECT COUNT(*) FROM ledger_book"):
                print(
                    "数据库里已有数据，未加载演示数据 / the database is not empty: demo not loaded"
                )
                return 0
        logins = await _load(db, random.Random(2026))
        async with db.connection() as conn:
            report = await ledger.verify_ledger(conn)
    finally:
        await db.close()
    base = get_settings().base_url
    print(f"演示数据已加载 / demo loaded: {report.journals} journals, {report.postings} postings")
    print(f"打开 / open {base}")
    print("登录信息（只显示这一次）/ log-ins (shown only this once):")
    for line in logins:
        print("  " + line.replace("{base}", base))
    return 0


async def _load(db: Database, rng: random.Random) -> list[str]:
    logins = []
    password = _password()
    await users.create_user(db, ADMIN, "street", password, "admin", None)
    logins.append(f"街道管理员 street admin   street / {password}   {{base}}/sign-in")
    for spec in COMMUNITIES:
        logins += await _community(db, rng, spec)
    return logins


async def _community(db: Database, rng: random.Random, spec: dict[str, Any]) -> list[str]:
    slug = spec["slug"]
    community = await communities.create_community(db, ADMIN, slug, spec["name"])
    await communities.grant_budget(
        db, ADMIN, slug, 20000, "街道拨付年度积分预算", idempotency_key=f"demo:{slug}:grant"
    )
    for code, name in spec["grids"]:
        await communities.create_grid(db, ADMIN, slug, code, name)
    logins, made = [], {}
    for role, n in (("staff", 2), ("volunteer", 2)):
        for i in range(1, n + 1):
            username, password = f"{slug}-{role}{i}", _password()
            made[username] = (await users.create_user(db, ADMIN, username, password, role, slug)).id
            then = "/staff/earning" if role == "staff" else "/counter"
            logins.append(f"{spec['name']} {role:9} {username} / {password}   {{base}}{then}")
    staff = Staff(
        user_id=made[f"{slug}-staff1"],
        username=f"{slug}-staff1",
        community_id=community.id,
        community_slug=slug,
    )
    ids = []
    for n, (name, phone) in enumerate(spec["residents"]):
        grid = spec["grids"][n % len(spec["grids"])][0]
        ids.append((await residents.create_resident(db, staff, slug, name, phone, grid)).id)
    # The history stands for months of awards, all made now: the daily threshold would hold most
    # of them for approval. Lift it while loading, then the community works by the default.
    await policy.set_policy(db, ADMIN, slug, approval_threshold=policy.MAX_APPROVAL_THRESHOLD)
    await _history(db, rng, slug, ids)
    areas = (demo_earning, demo_activities, demo_shop, demo_orders, demo_notice, demo_telling)
    for area in areas:
        logins += await area.load(db, rng, slug, staff, ids)
    await policy.set_policy(db, ADMIN, slug, approval_threshold=policy.DEFAULT_APPROVAL_THRESHOLD)
    logins += await _cards(db, rng, spec, ids)
    logins += await demo_community.load(db, rng, slug, staff, ids)
    # staff2 lives in the community: linked to their own record, they can never award it
    staff2 = await demo_earning.staff_of(db, slug, 2)
    await accounts.set_own_record(db, ADMIN, staff2.user_id, ids[-1])
    lives_here = spec["residents"][-1][0]
    logins.append(f"{spec['name']} {slug}-staff2 本人居民档案 own resident record: {lives_here}")
    bound = ids[1:3]
    for resident_id in bound:  # these residents' phones are already bound
        activation = await credentials.issue_activation(db, staff, resident_id)
        await credentials.activate(db, activation.code)
    for resident_id in (ids[0], ids[3]):  # open these links on a phone to bind it
        activation = await credentials.issue_activation(db, staff, resident_id)
        name = spec["residents"][ids.index(resident_id)][0]
        logins.append(f"{spec['name']} 居民 resident {name}: {activation.url}")
    return logins


async def _cards(
    db: Database, rng: random.Random, spec: dict[str, Any], ids: list[int]
) -> list[str]:
    """Printed cards (a QR and a PIN) for the residents without a smartphone. They already hold
    points, so each card waits for a second staff member: staff2 approves all but the last, which
    stays on the resident's page as a card waiting for approval."""
    slug, logins = spec["slug"], []
    first, second = (
        await demo_earning.staff_of(db, slug, 1),
        await demo_earning.staff_of(db, slug, 2),
    )
    phoneless = [
        (i, name) for i, (name, phone) in zip(ids, spec["residents"], strict=True) if phone is None
    ]
    for n, (resident_id, name) in enumerate(phoneless):
        pin = f"{rng.randint(0, 999999):06d}"
        while len(set(pin)) < 3:
            pin = f"{rng.randint(0, 999999):06d}"
        card = await credentials.issue_card(db, first, resident_id, pin)
        waits = n == len(phoneless) - 1
        if not waits and card.status == "pending_approval":
            await cards.approve_card(db, second, resident_id)
        state = "（待另一位工作人员审核 / waiting for approval）" if waits else ""
        logins.append(
            f"{spec['name']} 居民卡 card  {name}: PIN {pin}  card code {card.card_code}{state}"
        )
    return logins


async def _history(db: Database, rng: random.Random, slug: str, ids: list[int]) -> None:
    await demo_earning.history(db, rng, slug, ids)  # rules and awards, through the award service
    async with db.transaction() as conn:
        book = await conn.fetchval("SELECT book FROM mall_community WHERE slug = ?", slug)
        mistake = await ledger.post_journal(
            conn,
            book,
            "award",
            [(points.BUDGET, -50), (points.wallet(ids[0]), 50)],
            idempotency_key=f"demo:{slug}:mistake",
            path="adding_to_good",
            memo="误发（已更正）",
        )
        await ledger.reverse_journal(
            conn, mistake.id, idempotency_key=f"demo:{slug}:mistake:rev", memo="更正误发"
        )
