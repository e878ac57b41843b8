"""The catalog's own rules: outlets, donors and items, without HTTP."""

from __future__ import annotations

from typing import Any

import pytest

import catalog
from catalog.connection import Connection
from mall.db import Database


async def test_outlets_are_listed_per_community_supermarket_first(db: Database) -> None:
    async with db.transaction() as conn:
        partner = await catalog.create_outlet(conn, 1, "王师傅理发", "partner")
        shop = await catalog.create_outlet(conn, 1, "幸福里积分超市", "supermarket")
        await catalog.create_outlet(conn, 2, "别的社区超市", "supermarket")
        listed = await catalog.list_outlets(conn, 1)
        assert [o["id"] for o in listed] == [shop["id"], partner["id"]]
        assert listed[0]["active"] is True and listed[0]["kind"] == "supermarket"
        assert await catalog.get_outlet(conn, 999) is None


@pytest.mark.parametrize(
    ("name", "kind"), [("", "supermarket"), ("超市", "shop"), ("x" * 201, "partner")]
)
async def test_an_outlet_with_a_wrong_field_is_refused(db: Database, name: str, kind: str) -> None:
    async with db.transaction() as conn:
        with pytest.raises(catalog.InvalidItem):
            await catalog.create_outlet(conn, 1, name, kind)
        assert await catalog.list_outlets(conn, 1) == []


async def test_donors_are_listed_and_found_by_name_within_their_community(db: Database) -> None:
    async with db.transaction() as conn:
        unit = await catalog.create_donor(conn, 1, "区税务局党支部", "unit")
        await catalog.create_donor(conn, 2, "区税务局党支部", "unit")
        with pytest.raises(catalog.InvalidItem):
            await catalog.create_donor(conn, 1, "张记粮油", "shop")
        assert [d["id"] for d in await catalog.list_donors(conn, 1)] == [unit["id"]]
        found = await catalog.find_donor(conn, 1, " 区税务局党支部 ")
        assert found is not None
        assert found["id"] == unit["id"]
        assert await catalog.find_donor(conn, 1, "nobody") is None


async def item(
    conn: Connection, community: int = 1, sku: str = "SOAP", **fields: Any
) -> dict[str, Any]:
    return await catalog.create_item(
        conn,
        community,
        sku=sku,
        name=fields.pop("name", "香皂"),
        kind=fields.pop("kind", "goods"),
        price_points=fields.pop("price_points", 5),
        **fields,
    )


async def test_an_item_keeps_what_it_was_given(db: Database) -> None:
    async with db.transaction() as conn:
        donor = await catalog.create_donor(conn, 1, "张记粮油", "merchant")
        oil = await item(
            conn,
            sku="OIL-5L",
            name="食用油",
            price_points=60,
            unit="桶",
            category="粮油",
            monthly_limit=1,
            low_stock=3,
            donor_id=donor["id"],
        )
        found = await catalog.get_item_by_sku(conn, 1, "OIL-5L")
    assert found == oil
    assert (oil["name"], oil["price_points"], oil["unit"], oil["category"]) == (
        "食用油",
        60,
        "桶",
        "粮油",
    )
    assert (oil["monthly_limit"], oil["low_stock"], oil["donor_id"], oil["active"]) == (
        1,
        3,
        donor["id"],
        True,
    )


async def test_a_sku_is_unique_within_a_community_only(db: Database) -> None:
    async with db.transaction() as conn:
        await item(conn, 1)
        await item(conn, 2)
        with pytest.raises(catalog.SkuTaken):
            await item(conn, 1, name="另一块香皂")
        assert len(await catalog.list_items(conn, 1)) == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"price_points": 0},
        {"price_points": -5},
        {"price_points": "5"},
        {"kind": "food"},
        {"sku": ""},
        {"sku": "has space"},
        {"name": "  "},
        {"monthly_limit": 0},
        {"low_stock": -1},
        {"donor_id": 12345},
        {"unit": "x" * 21},
    ],
)
async def test_an_item_with_a_wrong_field_is_refused_and_nothing_is_stored(
    db: Database, fields: dict[str, Any]
) -> None:
    async with db.transaction() as conn:
        with pytest.raises(catalog.InvalidItem):
            await item(conn, **fields)
        assert await catalog.list_items(conn, 1, active_only=False) == []


async def test_a_donor_of_another_community_cannot_be_named_on_an_item(db: Database) -> None:
    async with db.transaction() as conn:
        other = await catalog.create_donor(conn, 2, "外社区单位", "unit")
        with pytest.raises(catalog.InvalidItem):
            await item(conn, 1, donor_id=other["id"])


async def test_items_are_listed_by_category_and_inactive_ones_only_on_request(
    db: Database,
) -> None:
    async with db.transaction() as conn:
        await item(conn, sku="MOP", name="拖把", category="日用")
        await item(conn, sku="RICE", name="大米", category="粮油")
        soap = await item(conn, sku="SOAP", name="香皂", category="日用")
        await catalog.update_item(conn, soap["id"], active=False)
        active = [i["sku"] for i in await catalog.list_items(conn, 1)]
        every = [i["sku"] for i in await catalog.list_items(conn, 1, active_only=False)]
    assert active == ["MOP", "RICE"]  # 日用 sorts before 粮油
    assert set(every) == {"MOP", "RICE", "SOAP"} and len(every) == 3


async def test_update_item_changes_only_what_is_given(db: Database) -> None:
    async with db.transaction() as conn:
        oil = await item(conn, sku="OIL", name="食用油", monthly_limit=1, low_stock=2)
        changed = await catalog.update_item(
            conn, oil["id"], price_points=55, monthly_limit=None, picture="pictures/a.png"
        )
        assert (changed["price_points"], changed["monthly_limit"], changed["picture"]) == (
            55,
            None,
            "pictures/a.png",
        )
        assert (changed["name"], changed["low_stock"], changed["active"]) == ("食用油", 2, True)
        with pytest.raises(catalog.InvalidItem):
            await catalog.update_item(conn, oil["id"], price_points=0)
        with pytest.raises(catalog.ItemNotFound):
            await catalog.update_item(conn, 9999, price_points=3)
        unchanged = await catalog.get_item(conn, oil["id"])
        assert unchanged is not None
        assert unchanged["price_points"] == 55


async def test_stock_list_shows_goods_with_levels_and_leaves_services_out(db: Database) -> None:
    async with db.transaction() as conn:
        shop = await catalog.create_outlet(conn, 1, "超市", "supermarket")
        soap = await item(conn, sku="SOAP", name="香皂", category="日用", low_stock=2)
        rice = await item(conn, sku="RICE", name="大米", category="粮油", low_stock=2)
        await item(conn, sku="CUT", name="理发", kind="service")
        await catalog.move_stock(conn, shop["id"], rice["id"], 10, "receipt")
        await catalog.move_stock(conn, shop["id"], soap["id"], 2, "receipt")
        rows = await catalog.stock_list(conn, shop["id"])
    assert [(r["sku"], r["level"], r["low"]) for r in rows] == [
        ("SOAP", 2, True),
        ("RICE", 10, False),
    ]


async def test_low_stock_lists_items_at_or_below_their_threshold_lowest_first(
    db: Database,
) -> None:
    async with db.transaction() as conn:
        shop = await catalog.create_outlet(conn, 1, "超市", "supermarket")
        barber = await catalog.create_outlet(conn, 1, "理发店", "partner")
        oil = await item(conn, sku="OIL", name="食用油", low_stock=3)
        rice = await item(conn, sku="RICE", name="大米", low_stock=3)
        soap = await item(conn, sku="SOAP", name="香皂")
        await catalog.move_stock(conn, shop["id"], oil["id"], 2, "receipt")
        await catalog.move_stock(conn, shop["id"], rice["id"], 20, "receipt")
        await catalog.move_stock(conn, shop["id"], soap["id"], 1, "receipt")
        await catalog.move_stock(conn, shop["id"], soap["id"], -1, "adjustment")
        other = await catalog.create_outlet(conn, 2, "别处", "supermarket")
        await catalog.move_stock(
            conn, other["id"], (await item(conn, 2, sku="OIL", low_stock=3))["id"], 1, "receipt"
        )
        low = await catalog.low_stock(conn, 1)
    assert [(r["sku"], r["outlet_id"], r["level"]) for r in low] == [
        ("SOAP", shop["id"], 0),
        ("OIL", shop["id"], 2),
    ]
    assert barber["id"] not in {r["outlet_id"] for r in low}
