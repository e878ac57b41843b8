"""The donors' read for the thank-you page: each donor of one community with the items given
and the totals of their donation movements (receipts and other donors' gifts not counted)."""

from __future__ import annotations

import catalog
from mall.db import Database
from tests.unit.catalog.test_stock import shop


async def test_donors_with_what_they_gave_totalled_per_item(db: Database) -> None:
    outlet, items = await shop(db)
    other_outlet, other_items = await shop(db, community=2)
    async with db.transaction() as conn:
        bank = await catalog.create_donor(conn, 1, "建设银行幸福里支行", "unit")
        store = await catalog.create_donor(conn, 1, "老王便利店", "merchant")
        await catalog.create_donor(conn, 1, "区税务局", "unit")
        elsewhere = await catalog.create_donor(conn, 2, "和平社区共建单位", "unit")
        towel = await catalog.create_item(
            conn, 1, sku="TOWEL", name="毛巾", kind="goods", price_points=5, unit="条",
            donor_id=store["id"],
        )  # fmt: skip
        for item, quantity, donor in (
            (items["OIL"], 10, bank),
            (items["OIL"], 5, bank),
            (items["SOAP"], 20, bank),
            (items["SOAP"], 3, store),
        ):
            await catalog.move_stock(conn, outlet, item, quantity, "donation", donor_id=donor["id"])
        await catalog.move_stock(conn, outlet, items["RICE"], 7, "receipt")
        await catalog.move_stock(
            conn, other_outlet, other_items["OIL"], 9, "donation", donor_id=elsewhere["id"]
        )
        found = await catalog.donor_gifts(conn, 1)
    assert [(d.name, d.kind) for d in found] == [
        ("建设银行幸福里支行", "unit"),
        ("老王便利店", "merchant"),
        ("区税务局", "unit"),
    ]
    assert [(g.item, g.quantity) for g in found[0].gifts] == [("食用油", 15), ("香皂", 20)]
    assert sorted((g.item, g.unit, g.quantity) for g in found[1].gifts) == [
        ("毛巾", "条", 0),
        ("香皂", "", 3),
    ]
    assert found[2].gifts == ()
    assert towel["donor_id"] == store["id"]
