"""A small shop to redeem at, built through the services: two communities (``a`` and ``b``),
an outlet in each with goods on the shelf, a volunteer and staff member in ``a``, and residents
with points. Shared by the redemption and reservation tests (unit, API and browser).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import catalog
import ledger
from mall.access import ResidentPrincipal, Staff, Volunteer
from mall.db import Database
from mall.org import communities, points
from mall.people import auth, cards, codes, credentials, residents
from mall.settings import get_settings
from tests import support

if TYPE_CHECKING:
    from tests.api.helpers import Api
    from tests.api.world import World

ADMIN = support.admin("t")
#: sku → (name, kind, price, monthly limit, stock at each outlet)
#: the two communities' codes
SLUGS = {"a": "shop-a", "b": "shop-b"}
ITEMS = {
    "oil": ("食用油", "goods", 10, 2, 10),
    "soap": ("香皂", "goods", 3, None, 50),
    "rice": ("大米", "goods", 20, None, 5),
    "haircut": ("理发", "service", 15, None, None),
}


@dataclass
class Shop:
    db: Database
    outlet: int
    """Community ``a``'s supermarket."""
    outlet_b: int
    """Community ``b``'s supermarket."""
    community: int
    community_b: int
    book: int
    volunteer: Staff | Volunteer
    staff: Staff | Volunteer
    staff_b: Staff | Volunteer
    items: dict[str, int] = field(default_factory=dict)
    """sku → item id in ``a``."""

    def resident(self, resident_id: int, community: str = "a") -> ResidentPrincipal:
        cid = self.community if community == "a" else self.community_b
        return support.resident(resident_id, cid, SLUGS[community])

    async def new_resident(self, name: str, pts: int, community: str = "a") -> int:
        slug = SLUGS[community]
        rid = (await residents.create_resident(self.db, ADMIN, slug, name, None, None)).id
        if pts:
            await give(self.db, slug, rid, pts)
        return rid

    async def pay_code(self, resident_id: int, community: str = "a") -> str:
        return (await credentials.new_pay_code(self.db, self.resident(resident_id, community))).code

    async def card(self, resident_id: int, pin: str) -> str:
        """A printed card that pays: issued by ``staff`` and, when it waits for a second staff
        member (the resident holds points), approved by the street administrator."""
        made = await credentials.issue_card(self.db, self.staff, resident_id, pin)
        if made.status == "pending_approval":
            await cards.approve_card(self.db, ADMIN, resident_id)
        return made.card_code

    async def counter_codes(self, resident_id: int, n: int) -> list[str]:
        """``n`` pay codes live at once, as ``n`` counters hold them during card visits (a phone
        itself holds at most three: ``credentials.MAX_LIVE_PAY_CODES``)."""
        made = []
        async with self.db.transaction() as conn:
            for _ in range(n):
                code, ident = codes.new_pay_code(get_settings().secret_key)
                await credentials.insert_code(
                    conn,
                    codes.PAY,
                    ident,
                    resident_id,
                    expires_at=datetime.now(UTC) + timedelta(minutes=10),
                    created_by=self.volunteer.user_id,
                )
                made.append(code)
        return made

    async def level(self, sku: str) -> int:
        async with self.db.connection() as conn:
            return await catalog.stock_level(conn, self.outlet, self.items[sku])

    async def balance(self, resident_id: int) -> int:
        async with self.db.connection() as conn:
            return (await ledger.get_balance(conn, self.book, points.wallet(resident_id))).balance


async def give(db: Database, slug: str, resident_id: int, amount: int) -> None:
    async with db.transaction() as conn:
        book = await conn.fetchval("SELECT book FROM mall_community WHERE slug = ?", slug)
        await ledger.post_journal(
            conn,
            book,
            "award",
            [(points.BUDGET, -amount), (points.wallet(resident_id), amount)],
            idempotency_key=f"give:{resident_id}:{amount}:{datetime.now(UTC).timestamp()}",
            path="timely_help",
            memo="测试奖励",
        )


async def user(
    db: Database, username: str, role: str, community_id: int, slug: str
) -> Staff | Volunteer:
    """A user without the cost of a password hash, with a real session (for the shift)."""
    async with db.transaction() as conn:
        user_id = await conn.fetchval(
            "INSERT INTO mall_user (username, password_hash, role, community, failed_logins, "
            "active, created_at) VALUES (?, 'x', ?, ?, 0, ?, ?) RETURNING id",
            username,
            role,
            community_id,
            True,
            datetime.now(UTC),
        )
        await auth.create_session(conn, "api", user_id=user_id, ttl=auth.API_TOKEN)
        session_id = await conn.fetchval(
            "SELECT id FROM mall_session WHERE user_id = ? ORDER BY id DESC", user_id
        )
    kind = Volunteer if role == "volunteer" else Staff
    return kind(
        user_id=user_id,
        username=username,
        community_id=community_id,
        community_slug=slug,
        session_id=session_id,
    )


async def open_outlet(db: Database, community_id: int, book: int, name: str) -> int:
    async with db.transaction() as conn:
        outlet = await catalog.create_outlet(conn, community_id, name, "supermarket")
        await points.open_outlet_accounts(conn, book, outlet["id"])
    return int(outlet["id"])


async def stock_items(db: Database, community_id: int, outlet_id: int) -> dict[str, int]:
    ids = {}
    async with db.transaction() as conn:
        for sku, (name, kind, price, limit, stock) in ITEMS.items():
            item = await catalog.create_item(
                conn,
                community_id,
                sku=sku,
                name=name,
                kind=kind,
                price_points=price,
                category="日用品" if kind == "goods" else "服务",
                monthly_limit=limit,
            )
            ids[sku] = int(item["id"])
            if stock:
                await catalog.move_stock(conn, outlet_id, item["id"], stock, "receipt")
    return ids


async def build_shop(db: Database, budget: int = 100_000) -> Shop:
    made = {}
    for key, slug in SLUGS.items():
        community = await communities.create_community(db, ADMIN, slug, f"社区{key}")
        await communities.grant_budget(db, ADMIN, slug, budget, "", idempotency_key=f"b:{slug}")
        async with db.connection() as conn:
            book = await conn.fetchval("SELECT book FROM mall_community WHERE id = ?", community.id)
        outlet = await open_outlet(db, community.id, book, f"{slug}积分超市")
        made[key] = (community.id, book, outlet)
    shop = Shop(
        db=db,
        outlet=made["a"][2],
        outlet_b=made["b"][2],
        community=made["a"][0],
        community_b=made["b"][0],
        book=made["a"][1],
        volunteer=await user(db, "vol", "volunteer", made["a"][0], SLUGS["a"]),
        staff=await user(db, "staff", "staff", made["a"][0], SLUGS["a"]),
        staff_b=await user(db, "staff-b", "staff", made["b"][0], SLUGS["b"]),
    )
    shop.items = await stock_items(db, shop.community, shop.outlet)
    await stock_items(db, shop.community_b, shop.outlet_b)
    return shop


# For tests/api/test_scope.py: fresh orders and reservations of A, one per caller --------------


async def _restock(db: Database, outlet_id: int) -> None:
    """One more bar of soap on A's shelf, so every caller's order finds one."""
    async with db.transaction() as conn:
        item = await conn.fetchval(
            "SELECT i.id FROM catalog_item i JOIN catalog_outlet o ON o.community_id = "
            "i.community_id WHERE o.id = ? AND i.sku = 'SOAP'",
            outlet_id,
        )
        await catalog.move_stock(conn, outlet_id, item, 1, "receipt")


async def _paid_order(db: Database, outlet_id: int, resident_id: int, slug: str, key: str) -> int:
    from mall.counter import checkout

    await _restock(db, outlet_id)
    me = support.resident(resident_id, 0, slug)  # fmt: skip
    code = (await credentials.new_pay_code(db, me)).code
    done = await checkout.checkout(
        db,
        ADMIN,
        outlet_id,
        code=code,
        lines=[("SOAP", 1)],
        idempotency_key=f"{key}:buy",
        req_hash=key,
    )
    return done.id


async def _reservation(db: Database, outlet_id: int, resident_id: int, slug: str, key: str) -> int:
    from mall.counter import reservations

    await _restock(db, outlet_id)
    async with db.connection() as conn:
        community = await conn.fetchval("SELECT id FROM mall_community WHERE slug = ?", slug)
    me = support.resident(resident_id, community, slug)  # fmt: skip
    made = await reservations.reserve(
        db, me, outlet_id, [("SOAP", 1)], idempotency_key=f"{key}:hold", req_hash=key
    )
    return made.id


def scope_order(api: Api, world: World, caller: str) -> dict[str, Any]:
    """The id of a new order of ``res-a`` at A's outlet (its points given first)."""
    from tests.api.world import A, award

    rid = world.residents["res-a"]
    key = f"scope-order-{caller}-{datetime.now(UTC).timestamp()}"
    api.run(award, A, rid, 5, key, "奖励")
    return {"order_id": api.run(_paid_order, world.outlets["outlet-a"], rid, A, key)}


def scope_reservation(api: Api, world: World, caller: str) -> dict[str, Any]:
    """The id of a new reservation of ``res-a`` at A's outlet (its points given first)."""
    from tests.api.world import A, award

    rid = world.residents["res-a"]
    key = f"scope-res-{caller}-{datetime.now(UTC).timestamp()}"
    api.run(award, A, rid, 5, key, "奖励")
    return {"reservation_id": api.run(_reservation, world.outlets["outlet-a"], rid, A, key)}


def scope_pay_code(api: Api, world: World, caller: str) -> dict[str, Any]:
    """``{code}``: a pay code of ``res-a``, with 5 more points to spend."""
    from tests.api.world import A, award

    rid = world.residents["res-a"]
    api.run(award, A, rid, 5, f"scope-code-{caller}-{datetime.now(UTC).timestamp()}", "奖励")
    me = support.resident(rid, 0, A)  # fmt: skip
    api.run(_restock, world.outlets["outlet-a"])
    return {"code": api.run(credentials.new_pay_code, me).code}


def scope_checkout(api: Api, world: World, caller: str) -> dict[str, Any]:
    return {**scope_pay_code(api, world, caller), "lines": [{"sku": "SOAP", "quantity": 1}]}


def scope_reserve(api: Api, world: World, caller: str) -> dict[str, Any]:
    from tests.api.world import A, award

    api.run(award, A, world.residents["res-a"], 5, f"scope-reserve-{caller}", "奖励")
    api.run(_restock, world.outlets["outlet-a"])
    return {"outlet": world.outlets["outlet-a"], "lines": [{"sku": "SOAP", "quantity": 1}]}


async def clean(db: Database) -> None:
    """The books balance and the shelves agree with their movements (``verify_ledger`` and
    ``verify_stock``): what every service test checks after its attacks moved nothing."""
    async with db.connection() as conn:
        report = await ledger.verify_ledger(conn)
        stock = await catalog.verify_stock(conn)
    assert report.ok, report.problems
    assert stock.ok, stock.problems
