"""The counter and reservation pages through HTTP, without JavaScript: choose the outlet, scan,
confirm (twice: one order), the receipt, errors in place, a printed card with its PIN, refunds,
the pay page's receipt, and the resident's reservations."""

from __future__ import annotations

import re
from typing import Any

from httpx import Response
from litestar import Litestar
from litestar.testing import TestClient

from mall.db import Database
from mall.people import auth
from tests.shop_fixtures import Shop, build_shop
from tests.web.test_pages_account import csrf

HTMX = {"HX-Request": "true"}


async def at_counter(db: Database, client: TestClient[Litestar], who: str = "volunteer") -> Shop:
    """The shop, and the client signed in as its volunteer (or staff) at outlet ``a``."""
    shop = await build_shop(db)
    p = shop.volunteer if who == "volunteer" else shop.staff
    async with db.transaction() as conn:
        token = await auth.create_session(conn, "web", user_id=p.user_id, ttl=auth.STAFF_SESSION)
    client.cookies.set("mall_session", token)
    return shop


def form(client: TestClient[Litestar], path: str, data: dict[str, Any]) -> Response:
    return client.post(path, data={**data, "_csrf_token": csrf(client)}, follow_redirects=False)


def scan(client: TestClient[Litestar], data: dict[str, Any]) -> Response:
    """A scan at the counter: the POST answers 303 to its visit's page, which is fetched."""
    posted = form(client, "/counter/scan", data)
    assert posted.status_code == 303 and posted.headers["location"].startswith("/counter/")
    return client.get(posted.headers["location"])


def limits(page: str) -> list[str]:
    """The monthly limits shown beside the resident (``<ul class="limits">``), as text."""
    found = re.search(r'<ul class="limits">(.*?)</ul>', page, re.S)
    return re.findall(r"<li>(.*?)</li>", found.group(1)) if found else []


def alert(page: str) -> str | None:
    """The text of the page's error box (``role="alert"``), tags removed."""
    found = re.search(r'<div class="error" role="alert">(.*?)</div>', page, re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)).strip() if found else None


def choose(client: TestClient[Litestar], shop: Shop) -> None:
    picker = client.get("/counter")
    assert picker.status_code == 200 and "a积分超市" in picker.text
    assert form(client, "/counter/outlet", {"outlet": str(shop.outlet)}).status_code == 303


async def test_volunteer_scans_confirms_twice_and_gets_one_order(
    db: Database, client: TestClient[Litestar]
) -> None:
    shop = await at_counter(db, client)
    rid = await shop.new_resident("王秀英", 50)
    choose(client, shop)
    idle = client.get("/counter")
    assert "autofocus" in idle.text and 'name="code"' in idle.text
    code = await shop.pay_code(rid)
    serve = scan(client, {"code": code})
    assert serve.status_code == 200
    assert "王*英" in serve.text and "王秀英" not in serve.text
    assert limits(serve.text) == ["食用油：本月限兑 2 件，还能兑 2 件"]
    matched = re.search(r'name="key" value="([^"]+)"', serve.text)
    assert matched is not None
    key = matched.group(1)
    order = {"code": code, "key": key, "q_oil": "1", "q_soap": "2", "q_rice": "0"}
    first = form(client, "/counter/orders", order)
    second = form(client, "/counter/orders", order)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    receipt = client.get(first.headers["location"])
    assert receipt.status_code == 200
    assert "食用油 × 1" in receipt.text and "香皂 × 2" in receipt.text
    assert "<dt>合计</dt><dd data-receipt-total>16</dd>" in receipt.text
    assert "<dt>剩余积分</dt><dd>34</dd>" in receipt.text  # 50 - 16
    assert await shop.balance(rid) == 34
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT COUNT(*) FROM mall_order") == 1
    again = scan(client, {"code": await shop.pay_code(rid)})
    assert limits(again.text) == ["食用油：本月限兑 2 件，还能兑 1 件"]  # this month's one counted


async def test_errors_are_shown_in_place_naming_the_item(
    db: Database, client: TestClient[Litestar]
) -> None:
    shop = await at_counter(db, client)
    rid = await shop.new_resident("李海", 500)
    choose(client, shop)
    code = await shop.pay_code(rid)
    key = re.search(r'name="key" value="([^"]+)"', scan(client, {"code": code}).text)
    assert key is not None
    out = form(client, "/counter/orders", {"code": code, "key": key.group(1), "q_rice": "6"})
    assert out.status_code == 409
    assert alert(out.text) == "未完成： 大米只剩 5 件了。"  # the item and what is left of it
    assert 'value="6"' in out.text  # the volunteer's choice is kept
    bad = scan(client, {"code": "12345"})
    assert bad.status_code == 200 and alert(bad.text) == "未完成： 这个码无效。"
    assert await shop.balance(rid) == 500


async def test_a_printed_card_with_its_pin_is_served_and_a_wrong_pin_is_refused(
    db: Database, client: TestClient[Litestar]
) -> None:
    """A resident without a smartphone shows the card staff printed and types its PIN: the
    counter serves them and the order is paid from their points. A wrong or missing PIN is
    refused beside the scan field, in Chinese, and nothing is served or paid."""

    shop = await at_counter(db, client)
    rid = await shop.new_resident("张桂兰", 20)
    card = await shop.card(rid, "2580")
    choose(client, shop)
    assert 'name="pin" type="password"' in client.get("/counter").text  # the page asks for it

    wrong = scan(client, {"code": card, "pin": "1111"})
    assert alert(wrong.text) == "未完成： 密码不对。还可以再试 4 次。"
    assert '<details class="card-pin" open data-pin-box>' in wrong.text  # the PIN box stays open
    assert "张*兰" not in wrong.text and 'action="/counter/orders"' not in wrong.text
    no_pin = scan(client, {"code": card})  # the card waits for its PIN, nothing refused
    assert alert(no_pin.text) is None and "请居民自己输入积分卡密码" in no_pin.text
    assert "张*兰" not in no_pin.text
    assert await shop.balance(rid) == 20 and await shop.level("soap") == 50
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT COUNT(*) FROM mall_order") == 0

    serve = scan(client, {"code": card, "pin": "2580"})
    assert serve.status_code == 200 and alert(serve.text) is None
    assert '<h1 id="who-title" class="compact">张*兰</h1>' in serve.text
    assert 'data-available="20"' in serve.text
    matched = re.search(r'name="code" value="([^"]+)"', serve.text)
    assert matched is not None
    visit = matched.group(1)
    assert visit != card and re.fullmatch(r"\d{20}", visit)  # a pay code for this visit only
    matched = re.search(r'name="key" value="([^"]+)"', serve.text)
    assert matched is not None
    key = matched.group(1)
    paid = form(client, "/counter/orders", {"code": visit, "key": key, "q_soap": "1"})
    assert paid.status_code == 303
    receipt = client.get(paid.headers["location"])
    assert "香皂 × 1" in receipt.text and "<dt>剩余积分</dt><dd>17</dd>" in receipt.text
    assert await shop.balance(rid) == 17


async def test_collect_a_reservation_in_one_tap(db: Database, client: TestClient[Litestar]) -> None:
    from mall.counter import reservations

    shop = await at_counter(db, client)
    rid = await shop.new_resident("李海", 100)
    made = await reservations.reserve(
        db, shop.resident(rid), shop.outlet, [("oil", 1)], idempotency_key="r", req_hash="h"
    )
    choose(client, shop)
    code = await shop.pay_code(rid)
    serve = scan(client, {"code": code})
    assert f"/counter/reservations/{made.id}/collect" in serve.text
    done = form(client, f"/counter/reservations/{made.id}/collect", {"code": code})
    assert done.status_code == 303
    assert "食用油 × 1" in client.get(done.headers["location"]).text


async def test_staff_refund_from_the_receipt_and_volunteers_cannot(
    db: Database, client: TestClient[Litestar]
) -> None:
    from mall.counter import checkout

    shop = await at_counter(db, client, "staff")
    rid = await shop.new_resident("李海", 100)
    done = await checkout.checkout(
        db, shop.volunteer, shop.outlet, code=await shop.pay_code(rid), lines=[("rice", 1)],
        idempotency_key="k", req_hash="h",
    )  # fmt: skip
    receipt = client.get(f"/counter/orders/{done.id}")
    assert f"/counter/orders/{done.id}/refund" in receipt.text
    page = client.get(f"/counter/orders/{done.id}/refund")
    matched = re.search(r'name="key" value="([^"]+)"', page.text)
    assert matched is not None
    key = matched.group(1)
    asked = {"key": key, "q_rice": "1", "reason": "原样退回"}
    checking = form(client, f"/counter/orders/{done.id}/refund", asked)
    assert checking.status_code == 200 and 'name="confirmed" value="yes"' in checking.text
    assert await shop.balance(rid) == 80  # nothing given back before the confirmation
    confirmed = {**asked, "confirmed": "yes"}
    assert form(client, f"/counter/orders/{done.id}/refund", confirmed).status_code == 303
    assert await shop.balance(rid) == 100 and await shop.level("rice") == 5
    async with db.transaction() as conn:
        token = await auth.create_session(
            conn, "web", user_id=shop.volunteer.user_id, ttl=auth.STAFF_SESSION
        )
    client.cookies.set("mall_session", token)
    assert "/refund" not in client.get(f"/counter/orders/{done.id}").text
    refused = form(client, f"/counter/orders/{done.id}/refund", {"key": "x"})
    assert refused.status_code == 403


async def test_residents_and_other_communities_cannot_open_the_counter(
    db: Database, client: TestClient[Litestar]
) -> None:
    shop = await at_counter(db, client)
    rid = await shop.new_resident("李海", 100)
    async with db.transaction() as conn:
        token = await auth.create_session(
            conn, "resident", resident_id=rid, ttl=auth.RESIDENT_SESSION
        )
    client.cookies.set("mall_session", token)
    assert client.get("/counter").status_code == 403
    async with db.transaction() as conn:
        token = await auth.create_session(
            conn, "web", user_id=shop.staff_b.user_id, ttl=auth.STAFF_SESSION
        )
    client.cookies.set("mall_session", token)
    picker = client.get("/counter")
    assert "a积分超市" not in picker.text and "b积分超市" in picker.text


async def test_the_pay_page_turns_into_the_receipt(
    db: Database, client: TestClient[Litestar]
) -> None:
    from mall.counter import checkout, lookup

    shop = await build_shop(db)
    rid = await shop.new_resident("李海", 100)
    async with db.transaction() as conn:
        token = await auth.create_session(
            conn, "resident", resident_id=rid, ttl=auth.RESIDENT_SESSION
        )
    client.cookies.set("mall_session", token)
    page = client.get("/me/pay")
    matched = re.search(r"/me/pay/status\?code=(\d{20})", page.text)
    assert matched is not None
    code = matched.group(1)
    waiting = client.get(f"/me/pay/status?code={code}", headers=HTMX)
    assert waiting.status_code == 204
    await lookup.lookup(db, shop.volunteer, shop.outlet, code)
    scanned = client.get(f"/me/pay/status?code={code}", headers=HTMX)
    assert scanned.status_code == 200 and "scanned=1" in scanned.text
    assert client.get(f"/me/pay/status?code={code}&scanned=1", headers=HTMX).status_code == 204
    await checkout.checkout(
        db, shop.volunteer, shop.outlet, code=code, lines=[("soap", 2)], idempotency_key="k",
        req_hash="h",
    )  # fmt: skip
    paid = client.get(f"/me/pay/status?code={code}", headers=HTMX)
    assert paid.status_code == 200 and "香皂 × 2" in paid.text and "94" in paid.text
    other = await shop.new_resident("别人", 0)
    async with db.transaction() as conn:
        token = await auth.create_session(
            conn, "resident", resident_id=other, ttl=auth.RESIDENT_SESSION
        )
    client.cookies.set("mall_session", token)
    stranger = client.get(f"/me/pay/status?code={code}", headers=HTMX)
    assert "香皂" not in stranger.text  # someone else's code shows nothing of that order


async def test_resident_reserves_sees_and_cancels(
    db: Database, client: TestClient[Litestar]
) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("李海", 100)
    async with db.transaction() as conn:
        token = await auth.create_session(
            conn, "resident", resident_id=rid, ttl=auth.RESIDENT_SESSION
        )
    client.cookies.set("mall_session", token)
    page = client.get(f"/me/reservations/new?outlet={shop.outlet}&sku=oil")
    assert page.status_code == 200 and 'name="q_oil"' in page.text and 'value="1"' in page.text
    review = form(client, "/me/reservations/review", {"outlet": str(shop.outlet), "q_oil": "1"})
    assert review.status_code == 200 and "食用油 × 1" in review.text  # the confirmation step
    matched = re.search(r'name="key" value="([^"]+)"', review.text)
    assert matched is not None
    key = matched.group(1)
    data = {"outlet": str(shop.outlet), "key": key, "q_oil": "1"}
    assert form(client, "/me/reservations", data).status_code == 303
    assert form(client, "/me/reservations", data).status_code == 303  # the same key: once
    listed = client.get("/me/reservations")
    assert listed.text.count("食用油 × 1") == 1 and await shop.balance(rid) == 90
    too_many = form(
        client, "/me/reservations", {"outlet": str(shop.outlet), "key": "k2", "q_oil": "5"}
    )
    assert too_many.status_code == 409 and "食用油" in too_many.text
    matched = re.search(r"/me/reservations/(\d+)/cancel", listed.text)
    assert matched is not None
    rid_made = matched.group(1)
    assert form(client, f"/me/reservations/{rid_made}/cancel", {}).status_code == 303
    assert await shop.balance(rid) == 90  # asked first (issue #19)
    done = form(client, f"/me/reservations/{rid_made}/cancel", {"confirmed": "yes"})
    assert done.status_code == 303
    assert await shop.balance(rid) == 100


async def test_the_app_lapses_overdue_reservations_in_the_background(db_url: str) -> None:
    """The app starts its housekeeping task with the server: an overdue reservation lapses and
    its points come back without anybody asking."""
    import asyncio
    from datetime import UTC, datetime, timedelta

    from mall.counter import reservations
    from mall.db import open_database
    from web.app import create_app

    db = open_database(db_url)
    try:
        shop = await build_shop(db)
        rid = await shop.new_resident("李海", 100)
        made = await reservations.reserve(
            db, shop.resident(rid), shop.outlet, [("rice", 1)], idempotency_key="r", req_hash="h"
        )
        async with db.transaction() as conn:
            await conn.execute(
                "UPDATE mall_reservation SET expires_at = ? WHERE id = ?",
                datetime.now(UTC) - timedelta(minutes=1),
                made.id,
            )
    finally:
        await db.close()
    with TestClient(create_app(db_url)):
        db = open_database(db_url)
        try:
            for _ in range(100):
                mine = await reservations.my_reservations(db, shop.resident(rid))
                if mine[0].status == "lapsed":
                    break
                await asyncio.sleep(0.05)
            assert mine[0].status == "lapsed"
            shop.db = db
            assert await shop.balance(rid) == 100 and await shop.level("rice") == 5
        finally:
            await db.close()
