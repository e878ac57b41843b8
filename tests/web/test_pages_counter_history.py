"""Issue #19 at the counter through HTTP, without JavaScript: the outlet's order history (search,
pages, scope), the printed 58-mm slip, the refund's confirmation step, and the question before a
reservation is cancelled (at the counter and on the resident's phone) or before signing out with
items chosen."""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.testing import TestClient

from mall.counter import checkout, refunds, reservations
from mall.db import Database
from mall.people import auth, residents, users
from tests.shop_fixtures import ADMIN, SLUGS, Shop, give, open_outlet
from tests.web.test_pages_counter import at_counter, choose, form, scan


async def paid(shop: Shop, rid: int, lines: list[tuple[str, int]], key: str) -> int:
    done = await checkout.checkout(
        shop.db, shop.volunteer, shop.outlet, code=await shop.pay_code(rid), lines=lines,
        idempotency_key=key, req_hash=key,
    )  # fmt: skip
    return done.id


async def resident(shop: Shop, name: str, phone: str | None, pts: int = 500) -> int:
    rid = (await residents.create_resident(shop.db, ADMIN, SLUGS["a"], name, phone, None)).id
    await give(shop.db, SLUGS["a"], rid, pts)
    return rid


def listed(page: str) -> list[int]:
    return [int(x) for x in re.findall(r'data-history-order="(\d+)"', page)]


async def test_history_searches_by_number_name_and_phone_tail_newest_first(
    db: Database, client: TestClient[Litestar]
) -> None:
    shop = await at_counter(db, client)
    wang = await resident(shop, "王秀英", "13800001234")
    li = await resident(shop, "李建国", "13900005678")
    first = await paid(shop, wang, [("soap", 1)], "o1")
    second = await paid(shop, li, [("soap", 2)], "o2")
    third = await paid(shop, wang, [("oil", 1)], "o3")
    choose(client, shop)
    page = client.get("/counter/history")
    assert page.status_code == 200 and listed(page.text) == [third, second, first]
    assert "王*英" in page.text and "王秀英" not in page.text and "13800001234" not in page.text
    assert listed(client.get("/counter/history", params={"q": str(second)}).text) == [second]
    assert listed(client.get("/counter/history", params={"q": "王*英"}).text) == [third, first]
    assert listed(client.get("/counter/history", params={"q": "5678"}).text) == [second]
    assert listed(client.get("/counter/history", params={"q": "%"}).text) == []
    today = re.search(r"(\d{4}-\d{2}-\d{2}) \d{2}:\d{2}", page.text)
    assert today is not None
    by_day = client.get("/counter/history", params={"day": today.group(1)})
    assert listed(by_day.text) == [third, second, first]
    assert listed(client.get("/counter/history", params={"day": "2020-01-01"}).text) == []
    bad = client.get("/counter/history", params={"day": "yesterday"})
    assert bad.status_code == 400 and "年-月-日" in bad.text
    await refunds.refund(db, shop.staff, third, idempotency_key="r", lines=[("oil", 1)])
    await refunds.refund(db, shop.staff, second, idempotency_key="r2", lines=[("soap", 1)])
    after = client.get("/counter/history").text
    assert "已全部退款" in after and "已退款 3 积分" in after


async def test_history_pages_twenty_at_a_time(db: Database, client: TestClient[Litestar]) -> None:
    shop = await at_counter(db, client)
    rid = await resident(shop, "张伟", None, 2000)
    made = [await paid(shop, rid, [("soap", 1)], f"k{n}") for n in range(22)]
    choose(client, shop)
    one = client.get("/counter/history")
    assert listed(one.text) == made[::-1][:20] and "data-older" in one.text
    two = client.get("/counter/history", params={"page": "2"})
    assert listed(two.text) == made[::-1][20:] and "data-older" not in two.text


async def test_history_is_scoped_to_the_volunteers_outlets_and_community(
    db: Database, client: TestClient[Litestar]
) -> None:
    shop = await at_counter(db, client)
    rid = await resident(shop, "王秀英", None)
    order_id = await paid(shop, rid, [("soap", 1)], "o1")
    other = await open_outlet(db, shop.community, shop.book, "理发店")
    await users.set_volunteer_outlets(db, shop.staff, shop.volunteer.user_id, [other])
    page = client.get("/counter/history")
    assert order_id not in listed(page.text) and "理发店" in page.text
    assert client.get("/counter/history", params={"outlet": str(shop.outlet)}).status_code == 404
    assert client.get("/counter/history", params={"outlet": str(shop.outlet_b)}).status_code == 404
    async with db.transaction() as conn:  # a resident has no history page
        token = await auth.create_session(
            conn, "resident", resident_id=rid, ttl=auth.RESIDENT_SESSION
        )
    client.cookies.set("mall_session", token)
    refused = client.get("/counter/history", follow_redirects=False)
    assert refused.status_code in (303, 403)


async def test_the_slip_is_laid_out_for_a_58_mm_printer_with_refunds(
    db: Database, client: TestClient[Litestar]
) -> None:
    shop = await at_counter(db, client)
    rid = await resident(shop, "王秀英", None, 100)
    order_id = await paid(shop, rid, [("soap", 2), ("oil", 1)], "o1")
    await refunds.refund(
        db, shop.staff, order_id, idempotency_key="r", reason="包装破损", lines=[("soap", 1)]
    )
    slip = client.get(f"/counter/orders/{order_id}/print")
    assert slip.status_code == 200
    assert 'href="/static/css/receipt-print.css"' in slip.text
    assert re.search(r"data-slip-order>\s*" + str(order_id), slip.text)
    assert "data-slip-total>16<" in slip.text and "data-slip-balance>84<" in slip.text
    assert "data-slip-refund>3<" in slip.text and "包装破损" in slip.text
    assert "shop-a积分超市" in slip.text and "更正" not in slip.text
    css = client.get("/static/css/receipt-print.css").text
    assert "@page { size: 58mm auto; margin: 0; }" in css and "width: 48mm" in css
    assert client.get(f"/counter/orders/{order_id}/print").status_code == 200
    other = await shop.new_resident("外人", 50, "b")
    assert client.get(f"/counter/orders/{other + 100000}/print").status_code == 404


async def test_the_refund_asks_for_a_reason_and_confirmation_before_anything_moves(
    db: Database, client: TestClient[Litestar]
) -> None:
    shop = await at_counter(db, client, "staff")
    rid = await resident(shop, "王秀英", None, 100)
    order_id = await paid(shop, rid, [("soap", 3)], "o1")
    page = client.get(f"/counter/orders/{order_id}/refund")
    key = re.search(r'name="key" value="([^"]+)"', page.text)
    assert page.status_code == 200 and key is not None
    no_reason = form(
        client, f"/counter/orders/{order_id}/refund", {"key": key.group(1), "q_soap": "1"}
    )
    assert no_reason.status_code == 400 and "请写明退款原因" in no_reason.text
    too_many = form(
        client, f"/counter/orders/{order_id}/refund",
        {"key": key.group(1), "q_soap": "4", "reason": "坏了"},
    )  # fmt: skip
    assert too_many.status_code == 400 and "最多还能退 3 件" in too_many.text
    asked = {"key": key.group(1), "q_soap": "2", "reason": "坏了"}
    question = form(client, f"/counter/orders/{order_id}/refund", asked)
    assert question.status_code == 200 and "确定退款吗" in question.text
    assert "确定，退回 6 积分" in question.text
    assert await shop.balance(rid) == 91
    done = form(client, f"/counter/orders/{order_id}/refund", {**asked, "confirmed": "yes"})
    assert done.status_code == 303
    again = form(client, f"/counter/orders/{order_id}/refund", {**asked, "confirmed": "yes"})
    assert again.status_code == 303  # the same form sent twice refunds once
    assert await shop.balance(rid) == 97
    receipt = client.get(f"/counter/orders/{order_id}").text
    assert "退款：香皂 × 2" in receipt and "data-refund-balance>97<" in receipt
    assert "更正" not in receipt


async def test_cancelling_a_reservation_asks_first_on_the_phone_and_at_the_counter(
    db: Database, client: TestClient[Litestar]
) -> None:
    shop = await at_counter(db, client, "staff")
    rid = await resident(shop, "王秀英", None, 100)
    made = await reservations.reserve(
        db, shop.resident(rid), shop.outlet, [("oil", 1)], idempotency_key="r", req_hash="h"
    )
    asked = form(client, f"/counter/reservations/{made.id}/cancel", {})
    assert asked.status_code == 303
    assert asked.headers["location"] == f"/counter/reservations/{made.id}/cancel"
    question = client.get(asked.headers["location"])
    assert "确定取消这个预约吗" in question.text and 'name="confirmed"' in question.text
    assert (await reservations.get_reservation(db, shop.staff, made.id)).status == "held"
    done = form(client, f"/counter/reservations/{made.id}/cancel", {"confirmed": "yes"})
    assert done.status_code == 303
    assert (await reservations.get_reservation(db, shop.staff, made.id)).status == "cancelled"

    again = await reservations.reserve(
        db, shop.resident(rid), shop.outlet, [("oil", 1)], idempotency_key="r2", req_hash="h2"
    )
    async with db.transaction() as conn:
        token = await auth.create_session(
            conn, "resident", resident_id=rid, ttl=auth.RESIDENT_SESSION
        )
    client.cookies.set("mall_session", token)
    asked = form(client, f"/me/reservations/{again.id}/cancel", {})
    assert asked.headers["location"] == f"/me/reservations/{again.id}/cancel"
    assert "确定取消预约" in client.get(asked.headers["location"]).text
    assert (await reservations.get_reservation(db, shop.staff, again.id)).status == "held"
    form(client, f"/me/reservations/{again.id}/cancel", {"confirmed": "yes"})
    assert (await reservations.get_reservation(db, shop.staff, again.id)).status == "cancelled"


async def test_volunteers_and_others_cannot_cancel_at_the_counter(
    db: Database, client: TestClient[Litestar]
) -> None:
    shop = await at_counter(db, client)
    rid = await resident(shop, "王秀英", None, 100)
    made = await reservations.reserve(
        db, shop.resident(rid), shop.outlet, [("oil", 1)], idempotency_key="r", req_hash="h"
    )
    assert client.get(f"/counter/reservations/{made.id}/cancel").status_code == 403
    refused = form(client, f"/counter/reservations/{made.id}/cancel", {"confirmed": "yes"})
    assert refused.status_code == 403
    other = await shop.new_resident("外人", 100)
    async with db.transaction() as conn:
        token = await auth.create_session(
            conn, "resident", resident_id=other, ttl=auth.RESIDENT_SESSION
        )
    client.cookies.set("mall_session", token)
    assert client.get(f"/me/reservations/{made.id}/cancel").status_code == 404
    assert (
        form(client, f"/me/reservations/{made.id}/cancel", {"confirmed": "yes"}).status_code == 404
    )
    assert (await reservations.get_reservation(db, shop.staff, made.id)).status == "held"


async def test_sign_out_at_the_counter_asks_while_a_resident_is_served(
    db: Database, client: TestClient[Litestar]
) -> None:
    shop = await at_counter(db, client)
    rid = await resident(shop, "王秀英", None, 100)
    choose(client, shop)
    idle = client.get("/counter").text
    assert "data-sign-out" not in idle
    serve = scan(client, {"code": await shop.pay_code(rid)})
    assert serve.status_code == 200 and "data-sign-out" in serve.text
    assert "还没有兑换。确定要退出吗" in serve.text
