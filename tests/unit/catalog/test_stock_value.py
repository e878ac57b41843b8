"""The stock value of a community's shelves: price × level over its outlets, goods only."""

from __future__ import annotations

import catalog
from mall.db import Database


async def value(db: Database, community: int) -> int:
    async with db.connection() as conn:
        return await catalog.stock_value(conn, community)


async def test_stock_value_is_price_times_level_over_every_outlet_of_the_community(
    db: Database,
) -> None:
    async with db.transaction() as conn:
        shop = await catalog.create_outlet(conn, 1, "积分超市", "supermarket")
        partner = await catalog.create_outlet(conn, 1, "理发店", "partner")
        other = await catalog.create_outlet(conn, 2, "别的社区", "supermarket")
        oil = await catalog.create_item(
            conn, 1, sku="OIL", name="食用油", kind="goods", price_points=10
        )
        soap = await catalog.create_item(
            conn, 1, sku="SOAP", name="香皂", kind="goods", price_points=3
        )
        await catalog.create_item(conn, 1, sku="CUT", name="理发", kind="service", price_points=15)
        rice = await catalog.create_item(
            conn, 2, sku="RICE", name="大米", kind="goods", price_points=20
        )
        await catalog.move_stock(conn, shop["id"], oil["id"], 5, "receipt")
        await catalog.move_stock(conn, shop["id"], oil["id"], -2, "redemption")
        await catalog.move_stock(conn, partner["id"], soap["id"], 4, "donation")
        await catalog.move_stock(conn, shop["id"], soap["id"], 1, "receipt")
        await catalog.move_stock(conn, shop["id"], soap["id"], -1, "redemption")
        await catalog.move_stock(conn, other["id"], rice["id"], 7, "receipt")
    assert await value(db, 1) == 3 * 10 + 4 * 3
    assert await value(db, 2) == 7 * 20
    assert await value(db, 3) == 0
