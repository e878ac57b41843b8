"""The donors' thank-you page (爱心榜): public, no sign-in, donor units and merchants with what
they gave, linked from the public notice; never a resident's name; an unknown community is 404."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient

import catalog
from mall.db import Database
from mall.people import residents
from tests.web.test_pages_account import ADMIN, community


async def test_anyone_reads_who_gave_what_and_no_resident_appears(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await community(db)
    await residents.create_resident(db, ADMIN, "xingfuli", "张晓明", "13800138000", None)
    async with db.transaction() as conn:
        outlet = await catalog.create_outlet(conn, made["id"], "幸福里积分超市", "supermarket")
        bank = await catalog.create_donor(conn, made["id"], "建设银行幸福里支行", "unit")
        await catalog.create_donor(conn, made["id"], "老王便利店", "merchant")
        oil = await catalog.create_item(
            conn, made["id"], sku="OIL", name="食用油", kind="goods", price_points=10, unit="桶"
        )
        await catalog.move_stock(conn, outlet["id"], oil["id"], 12, "donation", donor_id=bank["id"])
    assert 'href="/c/xingfuli/donors"' in client.get("/c/xingfuli/notice").text
    page = client.get("/c/xingfuli/donors")
    assert page.status_code == 200 and "爱心榜" in page.text
    assert "建设银行幸福里支行" in page.text and "食用油 × 12桶" in page.text
    assert "老王便利店" in page.text
    assert "张晓明" not in page.text and "13800138000" not in page.text
    assert client.get("/c/nowhere/donors").status_code == 404
    assert client.get("/c/NOT%20A%20SLUG/donors").status_code == 404
