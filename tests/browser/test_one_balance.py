"""Issue #19 on the resident's phone, in a real Chromium at 360 px, in Chinese: one balance
everywhere (the headline, the passbook and the receipt show the same 可用积分 and 预约冻结, before
and after a reservation is cancelled); a refunded order's receipt says 退款 (never 更正) with the
balance after it; the order history lists the resident's own orders and opens their receipts,
another resident's is 404."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from mall.counter import refunds
from mall.db import Database
from tests.browser.test_accessibility import serious_violations
from tests.browser.test_counter import new_resident, session, signed_in
from tests.browser.test_counter_refunds import PHONE, paid
from tests.browser.test_staff_pages import call
from tests.shop_fixtures import Shop

if TYPE_CHECKING:
    from playwright.sync_api import Browser

    from tests.browser.watched import WatchedPage

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def shop(live_shop: Shop) -> Shop:
    return live_shop


def figures(phone: WatchedPage, base: str, path: str) -> tuple[str, str, str]:
    """The page's available and held figures, and the text of its balance box."""
    phone.goto(f"{base}{path}")
    box = phone.locator("[data-my-balance]")
    assert box.count() == 1, path
    return (
        phone.text_content("[data-my-balance] [data-available]") or "",
        phone.text_content("[data-my-balance] [data-held]") or "",
        " ".join((box.text_content() or "").split()),
    )


def everywhere(phone: WatchedPage, base: str, order_id: int) -> set[tuple[str, str, str]]:
    return {figures(phone, base, p) for p in ("/me", "/me/passbook", f"/me/orders/{order_id}")}


def refunded(url: str, shop: Shop, order_id: int, lines: list[tuple[str, int]], key: str) -> None:
    async def work(db: Database) -> None:
        await refunds.refund(
            db, shop.staff, order_id, idempotency_key=key, reason="买多了", lines=lines
        )

    call(url, work)


def test_headline_passbook_and_receipt_agree_on_available_and_held(
    browser: Browser, live_server: str, live_database_url: str, shop: Shop
) -> None:
    url = live_database_url
    rid = new_resident(url, shop, "钱玉兰", 100)
    order_id = paid(url, shop, rid, [("soap", 1)], "one-balance")  # 100 - 3
    context, phone = signed_in(browser, live_server, session(url, resident_id=rid), **PHONE)
    try:
        phone.goto(f"{live_server}/me/reservations/new?outlet={shop.outlet}&sku=oil")
        phone.click("[data-confirm]")
        phone.click("button:has-text('确认预约')")
        phone.wait_for_selector("text=预约成功，商品已为您留好。")

        shown = everywhere(phone, live_server, order_id)
        assert len(shown) == 1, shown  # the same figures, the same words, on all three pages
        available, held, words = shown.pop()
        assert (available, held) == ("87", "10")  # 100 - 3 - 10 held for the oil
        assert "可用积分" in words and "预约冻结" in words
        assert serious_violations(phone) == []

        phone.goto(f"{live_server}/me/reservations")
        phone.click("text=取消这个预约")
        phone.click("[data-confirm-cancel]")
        phone.wait_for_selector("text=已取消，积分已退回")

        shown = everywhere(phone, live_server, order_id)
        assert len(shown) == 1, shown
        assert shown.pop()[:2] == ("97", "0")
    finally:
        context.close()


def test_a_refunded_receipt_says_refund_and_the_balance_after_it(
    browser: Browser, live_server: str, live_database_url: str, shop: Shop
) -> None:
    url = live_database_url
    rid = new_resident(url, shop, "孙丽华", 100)
    order_id = paid(url, shop, rid, [("soap", 3), ("oil", 1)], "refund-phone")  # 100 - 19
    refunded(url, shop, order_id, [("soap", 2)], "refund-phone:1")  # + 6
    context, phone = signed_in(browser, live_server, session(url, resident_id=rid), **PHONE)
    try:
        phone.goto(f"{live_server}/me")
        phone.click("[data-my-orders-link]")
        phone.wait_for_url(f"{live_server}/me/orders")
        row = phone.locator(f"[data-my-order='{order_id}']")
        assert "已退款 6 分" in (row.text_content() or "")
        row.locator("a").click()
        phone.wait_for_url(f"{live_server}/me/orders/{order_id}")
        page = phone.text_content("main") or ""
        assert "更正" not in page
        refund = phone.text_content("[data-refund]") or ""
        assert "退款：香皂 × 2" in refund and "买多了" in refund
        assert phone.text_content("[data-refund-balance]") == "87"  # 100 - 19 + 6
        assert phone.text_content("[data-my-balance] [data-available]") == "87"
        assert serious_violations(phone) == []

        for path in ("/me", "/me/passbook", "/me/passbook/months"):
            phone.goto(f"{live_server}{path}")
            text = phone.text_content("main") or ""
            assert "退款" in text and "更正" not in text, path
    finally:
        context.close()


def test_order_history_is_newest_first_and_only_the_residents_own(
    browser: Browser, live_server: str, live_database_url: str, shop: Shop
) -> None:
    url = live_database_url
    rid = new_resident(url, shop, "周秀梅", 100)
    other = new_resident(url, shop, "郑桂英", 100)
    first = paid(url, shop, rid, [("soap", 1)], "history-mine-1")
    second = paid(url, shop, rid, [("oil", 1)], "history-mine-2")
    theirs = paid(url, shop, other, [("soap", 1)], "history-theirs")
    context, phone = signed_in(browser, live_server, session(url, resident_id=rid), **PHONE)
    try:
        phone.goto(f"{live_server}/me/orders")
        listed = phone.eval_on_selector_all(
            "[data-my-order]", "els => els.map(e => +e.dataset.myOrder)"
        )
        assert listed == [second, first]
        assert "shop-a积分超市" in (phone.text_content("main") or "")
        response: Any = phone.goto(f"{live_server}/me/orders/{theirs}")
        assert response.status == 404
        assert "郑" not in (phone.text_content("main") or "")
    finally:
        context.close()
