"""The people and places the API tests act on, built once per module through the mall services.

Community A (枫林社区, ``maple``) and community B (白桦社区, ``birch``), each with a grid, a staff
member and a resident who signs in with a phone; A also has a volunteer, a second staff member
(``staff-a2``, for four-eyes approvals), two earning rules, and ``target``, the resident staff
act on, with a phone number, a grid and a passbook of two entries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import ledger
from mall.access import Principal
from mall.db import Database
from mall.earning import rules
from mall.org import communities, points
from mall.people import auth, residents, users
from mall.shop import items, outlets, stock
from tests import support

PASSWORD = "correct horse battery"
A, B = "maple", "birch"
A_NAME, B_NAME = "枫林社区", "白桦社区"
TARGET_NAME, TARGET_PHONE = "王秀英", "13800001111"
#: A's earning rules: 5 points to anyone at once; 50 points, waiting for approval above 40
RULE, BIG_RULE = "meeting", "mediation"

ADMIN = support.admin("cli")


@dataclass(frozen=True)
class World:
    users: dict[str, int]
    """username → user id: ``admin``, ``staff-a``, ``staff-b``, ``vol-a``, ``staff-a2``."""
    residents: dict[str, int]
    """``res-a`` and ``res-b`` (callers with a phone), ``target`` (in A)."""
    outlets: dict[str, int] = field(default_factory=dict)
    """``outlet-a`` (A's supermarket, holding 20 ``SOAP``) and ``outlet-b`` (B's)."""
    activities: dict[str, int] = field(default_factory=dict)
    """``activity-a``: A's recruitment call, open for check-in for a day (10 points, 5 places)."""

    @property
    def target(self) -> int:
        return self.residents["target"]


async def build(db: Database) -> World:
    for slug, name in ((A, A_NAME), (B, B_NAME)):
        await communities.create_community(db, ADMIN, slug, name)
        await communities.create_grid(db, ADMIN, slug, "g1", "第一网格")
    user_ids = {}
    for username, role, community in (
        ("admin", "admin", None),
        ("staff-a", "staff", A),
        ("staff-b", "staff", B),
        ("vol-a", "volunteer", A),
        ("staff-a2", "staff", A),
    ):
        made = await users.create_user_unchecked(db, username, PASSWORD, role, community)
        user_ids[username] = made.id
    people = {
        "res-a": (await residents.create_resident(db, ADMIN, A, "李海", None, None)).id,
        "res-b": (await residents.create_resident(db, ADMIN, B, "赵六", None, None)).id,
        "target": (
            await residents.create_resident(db, ADMIN, A, TARGET_NAME, TARGET_PHONE, "g1")
        ).id,
    }
    await communities.grant_budget(db, ADMIN, A, 1000, "年度预算", idempotency_key="world:a")
    await award(db, A, people["target"], 30, "world:t1", "帮扶困难户")
    await award(db, A, people["target"], 20, "world:t2", "参加议事会")
    await rules.create_rule(db, ADMIN, A, RULE, "参加议事会", "adding_to_good", 5)
    await rules.create_rule(
        db, ADMIN, A, BIG_RULE, "调解纠纷成功", "settling_disputes", 50, approval_threshold=40
    )
    outlets = await stock_shelves(db)
    calls = {"activity-a": await recruitment_call(db, user_ids["admin"])}
    return World(user_ids, people, outlets, calls)


async def recruitment_call(db: Database, admin_id: int) -> int:
    """A's recruitment call: started ten minutes ago, open for check-in for a day."""
    from mall.earning import activities

    admin = support.admin("admin", user_id=admin_id)
    starts = datetime.now(UTC) - timedelta(minutes=10)
    made = await activities.create_activity(
        db,
        admin,
        A,
        title="清理楼道",
        path="adding_to_good",
        points=10,
        capacity=5,
        starts_at=starts,
        ends_at=starts + timedelta(days=1),
        place="枫林社区3栋",
    )
    return made.id


async def stock_shelves(db: Database) -> dict[str, int]:
    """A supermarket in each community; A's sells soap (香皂) and holds 20."""
    made = {}
    for key, slug in (("outlet-a", A), ("outlet-b", B)):
        made[key] = (await outlets.create_outlet(db, ADMIN, slug, "积分超市", "supermarket")).id
    await items.create_item(db, ADMIN, A, sku="SOAP", name="香皂", kind="goods", price_points=5)
    await stock.change_stock(
        db,
        ADMIN,
        made["outlet-a"],
        sku="SOAP",
        quantity=20,
        reason="receipt",
        idempotency_key="world:soap",
    )
    return made


async def staff_of(db: Database, world: World, who: str) -> Principal:
    """The principal of a staff member of ``world`` (``staff-a``, ``staff-a2``, ``staff-b``)."""
    async with db.connection() as conn:
        row = await conn.fetchrow(
            "SELECT c.id, c.slug FROM mall_user u JOIN mall_community c ON c.id = u.community "
            "WHERE u.id = ?",
            world.users[who],
        )
    assert row is not None
    return support.staff(world.users[who], row["id"], row["slug"], who)


async def award(
    db: Database, slug: str, resident_id: int, amount: int, key: str, memo: str
) -> None:
    """Points from the community's budget to a resident (the award service comes later)."""
    async with db.transaction() as conn:
        book = await conn.fetchval("SELECT book FROM mall_community WHERE slug = ?", slug)
        await ledger.post_journal(
            conn,
            book,
            "award",
            [(points.BUDGET, -amount), (points.wallet(resident_id), amount)],
            idempotency_key=key,
            path="timely_help",
            memo=memo,
        )


async def new_token(db: Database, world: World, who: str) -> str:
    """A fresh bearer token for ``who``: a username of ``world.users`` or a key of its residents."""
    async with db.transaction() as conn:
        if who in world.users:
            return await auth.create_session(
                conn, "api", user_id=world.users[who], ttl=auth.API_TOKEN
            )
        return await auth.create_session(
            conn, "resident", resident_id=world.residents[who], ttl=auth.RESIDENT_SESSION
        )
