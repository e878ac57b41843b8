"""Demo data of redemption for `mall demo`: a history of orders at the community's outlets,
paid with the residents' own pay codes through the counter's checkout, one of them refunded,
one reservation collected at the counter and one still waiting for pickup. Deterministic with
the demo's ``rng``; every point and every item moves through the real services."""

from __future__ import annotations

import random
from typing import Any

import catalog
from mall.access import Principal, ResidentPrincipal, Staff, Volunteer
from mall.counter import checkout, orders, refunds, reservations
from mall.counter.values import Receipt
from mall.db import Database, must_exist
from mall.demo import shop as demo_shop
from mall.errors import InsufficientPoints, LimitExceeded
from mall.people import credentials

ORDERS = 14


def _resident(community_id: int, slug: str, resident_id: int) -> ResidentPrincipal:
    return ResidentPrincipal(
        resident_id=resident_id, community_id=community_id, community_slug=slug
    )


async def _user(db: Database, username: str, community_id: int, slug: str) -> Staff | Volunteer:
    async with db.connection() as conn:
        row = must_exist(
            await conn.fetchrow("SELECT id, role FROM mall_user WHERE username = ?", username)
        )
    kind = Volunteer if row["role"] == "volunteer" else Staff
    return kind(
        user_id=row["id"], username=username, community_id=community_id, community_slug=slug
    )


async def _pay(
    db: Database, counter: Principal, who: Principal, outlet: int, lines: list[Any], key: str
) -> Receipt | None:
    """One checkout with a fresh pay code of ``who``; ``None`` if the shelf, the limit or the
    wallet says no (the demo then simply has one order fewer)."""
    code = (await credentials.new_pay_code(db, who)).code
    try:
        return await checkout.checkout(
            db, counter, outlet, code=code, lines=lines, idempotency_key=key, req_hash=key
        )
    except (InsufficientPoints, LimitExceeded, catalog.OutOfStock):
        return None


async def load(
    db: Database, rng: random.Random, slug: str, staff: Staff, resident_ids: list[int]
) -> list[str]:
    """Load this area's demo data for one community; return log-in lines to print, if any."""
    async with db.connection() as conn:
        community_id = await conn.fetchval("SELECT id FROM mall_community WHERE slug = ?", slug)
        outlets = await conn.fetch(
            "SELECT id, kind FROM catalog_outlet WHERE community_id = ? ORDER BY id", community_id
        )
    market = next(o["id"] for o in outlets if o["kind"] == "supermarket")
    partner = next((o["id"] for o in outlets if o["kind"] == "partner"), market)
    volunteer = await _user(db, f"{slug}-volunteer1", community_id, slug)
    boss = await _user(db, f"{slug}-staff1", community_id, slug)
    goods = [
        i
        for i in await orders.counter_items(db, volunteer, market)
        if i.kind == "goods" and i.level
    ]
    services = [
        i for i in await orders.counter_items(db, volunteer, partner) if i.kind == "service"
    ]
    paid = []
    for n in range(ORDERS):
        who = _resident(community_id, slug, rng.choice(resident_ids))
        picked = rng.sample(goods, k=rng.choice([1, 1, 2]))
        lines = [(item.sku, rng.choice([1, 1, 2])) for item in picked]
        done = await _pay(db, volunteer, who, market, lines, f"demo:{slug}:order:{n}")
        if done is not None:
            paid.append(done)
    if services:  # the partner's own service: a haircut at the barber's, not a repair
        given = demo_shop.PARTNER_SERVICES.get(slug)
        service = next((s for s in services if s.sku == given), services[0])
        who = _resident(community_id, slug, rng.choice(resident_ids))
        await _pay(db, volunteer, who, partner, [(service.sku, 1)], f"demo:{slug}:service")
    if paid:  # a resident brought the goods back unopened
        await refunds.refund(
            db,
            boss,
            paid[len(paid) // 2].id,
            idempotency_key=f"demo:{slug}:refund",
            reason="居民原样退回",
        )
    cheap = min(goods, key=lambda item: item.price_points)
    for n, resident_id in enumerate(resident_ids[1:3]):  # one collected, one waiting for pickup
        who = _resident(community_id, slug, resident_id)
        try:
            made = await reservations.reserve(
                db,
                who,
                market,
                [(cheap.sku, 1)],
                idempotency_key=f"demo:{slug}:reserve:{n}",
                req_hash=f"demo:{slug}:reserve:{n}",
            )
        except (InsufficientPoints, LimitExceeded, catalog.OutOfStock):
            continue
        if n == 0:
            code = (await credentials.new_pay_code(db, who)).code
            await reservations.collect(db, volunteer, made.id, code=code)
    return []
