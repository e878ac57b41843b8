"""The people and places the API tests act on, built once per module through the mall services.

Community A (枫林社区, ``maple``) and community B (白桦社区, ``birch``), each with a grid, a staff
member and a resident who signs in with a phone; A also has a volunteer and ``target``, the
resident staff act on, with a phone number, a grid and a passbook of two entries.
"""

from __future__ import annotations

from dataclasses import dataclass

import ledger
from mall import auth, organisation, points, residents
from mall.auth import Principal
from mall.db import Database

PASSWORD = "correct horse battery"
A, B = "maple", "birch"
A_NAME, B_NAME = "枫林社区", "白桦社区"
TARGET_NAME, TARGET_PHONE = "王秀英", "13800001111"

ADMIN = Principal(
    kind="user", session_id=0, community_id=None, community_slug=None, role="admin", username="cli"
)


@dataclass(frozen=True)
class World:
    users: dict[str, int]
    """username → user id: ``admin``, ``staff-a``, ``staff-b``, ``vol-a``."""
    residents: dict[str, int]
    """``res-a`` and ``res-b`` (callers with a phone), ``target`` (in A)."""

    @property
    def target(self) -> int:
        return self.residents["target"]


async def build(db: Database) -> World:
    for slug, name in ((A, A_NAME), (B, B_NAME)):
        await organisation.create_community(db, ADMIN, slug, name)
        await organisation.create_grid(db, ADMIN, slug, "g1", "第一网格")
    users = {}
    for username, role, community in (
        ("admin", "admin", None),
        ("staff-a", "staff", A),
        ("staff-b", "staff", B),
        ("vol-a", "volunteer", A),
    ):
        made = await organisation.create_user_unchecked(db, username, PASSWORD, role, community)
        users[username] = made["id"]
    people = {
        "res-a": (await residents.create_resident(db, ADMIN, A, "李海", None, None))["id"],
        "res-b": (await residents.create_resident(db, ADMIN, B, "赵六", None, None))["id"],
        "target": (await residents.create_resident(db, ADMIN, A, TARGET_NAME, TARGET_PHONE, "g1"))[
            "id"
        ],
    }
    await organisation.grant_budget(db, ADMIN, A, 1000, "年度预算", idempotency_key="world:a")
    await award(db, A, people["target"], 30, "world:t1", "帮扶困难户")
    await award(db, A, people["target"], 20, "world:t2", "参加议事会")
    return World(users, people)


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
