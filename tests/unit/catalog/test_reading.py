"""Bulk reads for reports: a community's stock movements, page by page by id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import catalog
from mall.db import Database
from tests.unit.catalog.test_stock import move, shop

SINCE = datetime.now(UTC) - timedelta(days=1)
UNTIL = datetime.now(UTC) + timedelta(days=1)


async def test_pages_hold_every_movement_of_the_community_once(db: Database) -> None:
    outlet, items = await shop(db)
    other, other_items = await shop(db, community=2)
    async with db.transaction() as conn:
        donor = await catalog.create_donor(conn, 1, "幸福超市", "merchant")
    await move(db, outlet, items["SOAP"], 10, "receipt")
    await move(db, outlet, items["OIL"], 5, "donation", donor_id=donor["id"], memo="捐赠")
    await move(db, outlet, items["SOAP"], -2, "redemption", reference="order:1")
    await move(db, other, other_items["SOAP"], 9, "receipt")
    found: list[catalog.MovementLine] = []
    after = 0
    while True:
        async with db.connection() as conn:
            page = await catalog.movements(
                conn, 1, since=SINCE, until=UNTIL, after_id=after, limit=2
            )
        found += page
        if len(page) < 2:
            break
        after = page[-1].id
    assert [(m.sku, m.quantity, m.reason, m.level_after) for m in found] == [
        ("SOAP", 10, "receipt", 10),
        ("OIL", 5, "donation", 5),
        ("SOAP", -2, "redemption", 8),
    ]
    assert found[1].donor == "幸福超市" and found[1].memo == "捐赠" and found[1].item == "食用油"
    assert found[2].reference == "order:1" and found[2].outlet == "积分超市"
    assert found[0].donor is None and found[0].outlet_id == outlet


async def test_movements_outside_the_dates_are_left_out(db: Database) -> None:
    outlet, items = await shop(db)
    await move(db, outlet, items["SOAP"], 10, "receipt")
    async with db.connection() as conn:
        later = await catalog.movements(conn, 1, since=UNTIL, until=UNTIL + timedelta(days=1))
    assert later == []
