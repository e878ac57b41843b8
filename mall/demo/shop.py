"""Demo data of the shop for `mall demo`: per community a points supermarket and a partner
merchant, two donors (a 双报到 unit and a merchant), a catalog of everyday goods and two services,
stock received and donated, and one item running low. Deterministic with the demo's ``rng``."""

from __future__ import annotations

import random

from mall.access import Staff
from mall.db import Database
from mall.people import users
from mall.shop import items, outlets, stock

#: sku, name, price in points, unit, category, monthly limit, low-stock level
GOODS = [
    ("SOAP", "香皂", 5, "块", "日用", None, 10),
    ("TOOTHPASTE", "牙膏", 12, "支", "日用", None, 8),
    ("TOWEL", "毛巾", 15, "条", "日用", 2, 5),
    ("DETERGENT", "洗衣液", 30, "瓶", "日用", None, 5),
    ("OIL-5L", "食用油 5L", 80, "桶", "粮油", 1, 5),
    ("RICE-5KG", "大米 5kg", 60, "袋", "粮油", 1, 5),
    ("MOP", "拖把", 45, "把", "家居", None, 3),
    ("CASSEROLE", "砂锅", 120, "个", "家居", None, 2),
]
#: sku, name, price in points, category
SERVICES = [("HAIRCUT", "理发", 20, "便民服务"), ("REPAIR", "家电维修（上门检测）", 50, "便民服务")]
PARTNERS = {"xingfuli": "王师傅理发店", "heping": "和平家电维修部"}
#: the service each partner merchant gives
PARTNER_SERVICES = {"xingfuli": "HAIRCUT", "heping": "REPAIR"}
UNITS = {"xingfuli": "区税务局党支部", "heping": "区人民医院党总支"}
MERCHANTS = {"xingfuli": "张记粮油店", "heping": "和平百货"}


async def load(
    db: Database, rng: random.Random, slug: str, staff: Staff, resident_ids: list[int]
) -> list[str]:
    """Load this area's demo data for one community; return log-in lines to print, if any."""
    market = await outlets.create_outlet(db, staff, slug, _market_name(slug), "supermarket")
    partner = await outlets.create_outlet(
        db, staff, slug, PARTNERS.get(slug, "红色合伙人商家"), "partner"
    )
    async with db.connection() as conn:  # the partner's own volunteer serves there only
        helper = await conn.fetchval(
            "SELECT id FROM mall_user WHERE username = ?", f"{slug}-volunteer2"
        )
    if helper is not None:
        await users.set_volunteer_outlets(db, staff, int(helper), [partner.id])
    unit = await outlets.create_donor(db, staff, slug, UNITS.get(slug, "共建单位党支部"), "unit")
    merchant = await outlets.create_donor(
        db, staff, slug, MERCHANTS.get(slug, "爱心商家"), "merchant"
    )
    for sku, name, price, unit_word, category, limit, low in GOODS:
        await items.create_item(
            db,
            staff,
            slug,
            sku=sku,
            name=name,
            kind="goods",
            price_points=price,
            unit=unit_word,
            category=category,
            monthly_limit=limit,
            low_stock=low,
        )
    for sku, name, price, category in SERVICES:
        await items.create_item(
            db,
            staff,
            slug,
            sku=sku,
            name=name,
            kind="service",
            price_points=price,
            category=category,
        )
    low_one = rng.choice([g[0] for g in GOODS if g[6] >= 3])
    for sku, _name, _price, _unit, _category, _limit, low in GOODS:
        received = low - 1 if sku == low_one else rng.randint(low + 5, low + 40)
        if received > 0:
            await stock.change_stock(
                db,
                staff,
                market.id,
                sku=sku,
                quantity=received,
                reason="receipt",
                memo="街道统一采购",
                idempotency_key=f"demo:{slug}:receipt:{sku}",
            )
    for n, (sku, donor) in enumerate(
        [("OIL-5L", unit), ("RICE-5KG", unit), ("SOAP", merchant), ("TOWEL", merchant)]
    ):
        if sku == low_one:
            continue
        await stock.change_stock(
            db,
            staff,
            market.id,
            sku=sku,
            quantity=rng.randint(3, 12),
            reason="donation",
            donor=donor.id,
            memo="双报到单位捐赠" if donor is unit else "爱心商家捐赠",
            idempotency_key=f"demo:{slug}:donation:{n}",
        )
    return []


def _market_name(slug: str) -> str:
    return {"xingfuli": "幸福里积分超市", "heping": "和平社区积分超市"}.get(slug, "社区积分超市")
