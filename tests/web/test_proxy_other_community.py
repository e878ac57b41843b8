"""The counter's pages refuse a proxy (代领) of or for another community (``forbidden``), in
plain Chinese, with nothing moved and the proxy's code unused: a confirm posted with another
community's proxy code, and a visit's page asked to serve (``?behalf=``) a resident of another
community. (The JSON API's side: tests/api/test_proxy_other_community.py.)"""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from mall.db import Database
from mall.people import proxies
from tests.shop_fixtures import ADMIN, Shop
from tests.web.test_pages_counter import alert, at_counter, choose, form, scan

REFUSAL = "代领人只能在本社区的兑换台，为本社区的居民代付、代领。"


async def _state(shop: Shop, *resident_ids: int) -> tuple[Any, ...]:
    async with shop.db.connection() as conn:
        wallets = [
            await conn.fetchval("SELECT balance FROM ledger_account WHERE code = ?", f"wallet:r{r}")
            for r in resident_ids
        ]
        return (
            wallets,
            await conn.fetchval("SELECT COUNT(*) FROM mall_order"),
            await conn.fetchval("SELECT COUNT(*) FROM mall_code WHERE used_at IS NOT NULL"),
            await shop.level("soap"),
        )


async def test_a_proxy_of_another_community_is_refused_at_the_counter_page(
    db: Database, client: TestClient[Litestar]
) -> None:
    shop = await at_counter(db, client)
    principal = await shop.new_resident("赵晓明", 40, "b")
    neighbour = await shop.new_resident("钱芳", 0, "b")
    await proxies.grant(db, ADMIN, principal, neighbour)
    choose(client, shop)
    code = await shop.pay_code(neighbour, "b")
    before = await _state(shop, principal, neighbour)
    key = "proxy-other-community-1"
    posted = form(
        client,
        "/counter/orders",
        {"code": code, "key": key, "on_behalf_of": str(principal), "q_soap": "1"},
    )
    assert posted.status_code == 403
    assert alert(posted.text) == "未完成： " + REFUSAL
    assert await _state(shop, principal, neighbour) == before


async def test_a_visit_cannot_serve_a_resident_of_another_community(
    db: Database, client: TestClient[Litestar]
) -> None:
    shop = await at_counter(db, client)
    neighbour = await shop.new_resident("李晓强", 0)  # A's resident at A's counter
    stranger = await shop.new_resident("赵小六", 40, "b")
    choose(client, shop)
    code = await shop.pay_code(neighbour)
    served = scan(client, {"code": code})
    assert served.status_code == 200 and "李*强" in served.text
    token = re.search(r"/counter/visits/([\w-]+)", str(served.url))
    assert token is not None
    before = await _state(shop, neighbour, stranger)
    behalf = client.get(f"/counter/visits/{token.group(1)}?behalf={stranger}")
    assert behalf.status_code == 403
    assert alert(behalf.text) == "未完成： " + REFUSAL
    assert "赵*六" not in behalf.text and "40" not in (alert(behalf.text) or "")
    posted = form(
        client,
        "/counter/orders",
        {"code": code, "key": "proxy-other-2", "on_behalf_of": str(stranger), "q_soap": "1"},
    )
    assert posted.status_code == 403 and alert(posted.text) == "未完成： " + REFUSAL
    assert await _state(shop, neighbour, stranger) == before
