"""A receipt names the proxy (代领) who paid: the counter's receipt and its 58-mm slip say whose
points were spent and who paid (代付人：钱*芳), the resident's own receipt says who paid for them,
and the API's order carries ``proxy`` (id and masked name; null when the resident came)."""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.testing import TestClient

from mall.counter import checkout
from mall.db import Database
from mall.people import auth, proxies
from tests.shop_fixtures import ADMIN, Shop, build_shop


async def _sign_in(
    db: Database, client: TestClient[Litestar], *, user_id: int = 0, rid: int = 0
) -> None:
    async with db.transaction() as conn:
        if user_id:
            token = await auth.create_session(conn, "web", user_id=user_id, ttl=auth.STAFF_SESSION)
        else:
            token = await auth.create_session(
                conn, "resident", resident_id=rid, ttl=auth.RESIDENT_SESSION
            )
    client.cookies.set("mall_session", token)


async def _bearer(db: Database, user_id: int) -> dict[str, str]:
    async with db.transaction() as conn:
        token = await auth.create_session(conn, "api", user_id=user_id, ttl=auth.API_TOKEN)
    return {"Authorization": f"Bearer {token}"}


async def _buy(shop: Shop, payer: int, key: str, on_behalf_of: int | None = None) -> int:
    done = await checkout.checkout(
        shop.db,
        shop.volunteer,
        shop.outlet,
        code=await shop.pay_code(payer),
        lines=[("soap", 2)],
        idempotency_key=key,
        req_hash=key,
        on_behalf_of=on_behalf_of,
    )
    return done.id


def _facts(page: str) -> dict[str, str]:
    """The receipt's facts (``<dt>`` → ``<dd>``), tags removed."""
    return {
        re.sub(r"<[^>]+>", "", dt).strip(): re.sub(r"<[^>]+>", "", dd).strip()
        for dt, dd in re.findall(r"<dt>(.*?)</dt>\s*<dd[^>]*>(.*?)</dd>", page, re.S)
    }


async def test_the_receipts_name_the_proxy_who_paid(
    db: Database, client: TestClient[Litestar]
) -> None:
    shop = await build_shop(db)
    grandma = await shop.new_resident("张晓明", 100)
    son = await shop.new_resident("钱小芳", 0)
    await proxies.grant(db, ADMIN, grandma, son)
    by_proxy = await _buy(shop, son, "proxy-receipt-1", on_behalf_of=grandma)
    herself = await _buy(shop, grandma, "proxy-receipt-2")

    await _sign_in(db, client, user_id=shop.volunteer.user_id or 0)
    page = client.get(f"/counter/orders/{by_proxy}")
    assert page.status_code == 200
    facts = _facts(page.text)
    assert facts["代付人"] == "钱*芳" and facts["使用积分的居民"] == "张*明"
    assert "钱小芳" not in page.text and "张晓明" not in page.text
    slip = client.get(f"/counter/orders/{by_proxy}/print")
    assert slip.status_code == 200
    assert "代付人：钱*芳" in slip.text and "使用积分的居民：张*明" in slip.text
    plain = client.get(f"/counter/orders/{herself}")
    assert "代付人" not in plain.text and "使用积分的居民" not in plain.text
    assert "代付人" not in client.get(f"/counter/orders/{herself}/print").text

    await _sign_in(db, client, rid=grandma)
    mine = client.get(f"/me/orders/{by_proxy}")
    assert mine.status_code == 200 and _facts(mine.text)["代付人"] == "钱*芳"
    assert "代付人" not in client.get(f"/me/orders/{herself}").text

    await _sign_in(db, client, rid=son)  # the proxy never opens the resident's receipt
    assert client.get(f"/me/orders/{by_proxy}").status_code == 404


async def test_the_api_order_carries_the_proxy(db: Database, client: TestClient[Litestar]) -> None:
    shop = await build_shop(db)
    grandma = await shop.new_resident("张晓明", 100)
    son = await shop.new_resident("钱小芳", 0)
    await proxies.grant(db, ADMIN, grandma, son)
    by_proxy = await _buy(shop, son, "proxy-api-1", on_behalf_of=grandma)
    herself = await _buy(shop, grandma, "proxy-api-2")
    staff = await _bearer(db, shop.staff.user_id or 0)
    got = client.get(f"/api/v1/orders/{by_proxy}", headers=staff)
    assert got.status_code == 200, got.text
    assert got.json()["resident_id"] == grandma
    assert got.json()["proxy"] == {"id": son, "display_name": "钱*芳"}
    plain = client.get(f"/api/v1/orders/{herself}", headers=staff)
    assert plain.status_code == 200 and plain.json()["proxy"] is None
    other = await _bearer(db, shop.staff_b.user_id or 0)
    assert client.get(f"/api/v1/orders/{by_proxy}", headers=other).status_code == 404
