"""The counter in a real Chromium against a live server: a USB scanner types the pay code and
Enter into the focused field, the volunteer taps items and confirms, the receipt appears at the
counter and on the resident's phone; a double tap on Confirm makes one order."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import pytest

from mall.db import Database
from mall.people import auth
from tests.browser.test_accessibility import measure, serious_violations
from tests.browser.test_staff_pages import call
from tests.shop_fixtures import Shop

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext

    from tests.browser.watched import WatchedPage

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def shop(live_shop: Shop) -> Shop:
    return live_shop


def session(url: str, **who: int | None) -> str:
    async def work(db: Database) -> str:
        async with db.transaction() as conn:
            if "user_id" in who:
                return await auth.create_session(
                    conn, "web", user_id=who["user_id"], ttl=auth.STAFF_SESSION
                )
            return await auth.create_session(
                conn, "resident", resident_id=who["resident_id"], ttl=auth.RESIDENT_SESSION
            )

    return call(url, work)


def signed_in(
    browser: Browser, base: str, token: str, **options: Any
) -> tuple[BrowserContext, WatchedPage]:
    context = browser.new_context(locale="zh-CN", **options)
    host = base.split("//", 1)[1].split(":")[0]
    context.add_cookies([{"name": "mall_session", "value": token, "domain": host, "path": "/"}])
    page = cast("WatchedPage", context.new_page())
    page.console_errors = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))  # type: ignore[call-overload, func-returns-value]  # `and` appends only errors; the handler's value is unused
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    return context, page


def orders_paid_by(url: str, resident_id: int) -> int:
    async def work(db: Database) -> int:
        async with db.connection() as conn:
            return int(
                await conn.fetchval(
                    "SELECT COUNT(*) FROM mall_order WHERE resident = ?", resident_id
                )
            )

    return call(url, work)


def new_resident(url: str, shop: Shop, name: str, points: int) -> int:
    async def work(db: Database) -> int:
        shop.db = db
        return await shop.new_resident(name, points)

    return call(url, work)


def test_keyboard_wedge_scan_tap_items_confirm_and_both_receipts(
    browser: Browser, live_server: str, live_database_url: str, shop: Shop
) -> None:
    url = live_database_url
    rid = new_resident(url, shop, "王秀英", 50)
    desk_context, desk = signed_in(
        browser, live_server, session(url, user_id=shop.volunteer.user_id),
        viewport={"width": 1024, "height": 768},
    )  # fmt: skip
    phone_context, phone = signed_in(
        browser, live_server, session(url, resident_id=rid),
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
    )  # fmt: skip
    try:
        desk.goto(f"{live_server}/counter")
        desk.click("button:has-text('a积分超市')")
        desk.wait_for_selector("[data-scan-field]")
        assert desk.evaluate("() => document.activeElement.matches('[data-scan-field]')")
        assert serious_violations(desk) == []

        phone.goto(f"{live_server}/me/pay")
        shown = phone.text_content("[data-digits]")
        assert shown is not None
        digits = shown.replace(" ", "")
        assert len(digits) == 20

        desk.keyboard.type(digits)  # a USB scanner: the digits, then Enter, into the focused field
        desk.keyboard.press("Enter")
        desk.wait_for_selector("text=王*英")
        assert desk.text_content("[data-available]") == "50"
        assert serious_violations(desk) == []
        assert measure(desk, 44)["small"] == []
        desk.click("[aria-label='香皂 多一件']")
        desk.click("[aria-label='香皂 多一件']")
        desk.click("[aria-label='食用油 多一件']")
        assert desk.text_content("[data-total]") == "16"
        desk.click("[data-confirm]")
        desk.wait_for_selector("text=兑换成功，请把商品交给居民")
        assert desk.is_visible("text=香皂 × 2") and desk.is_visible("text=食用油 × 1")
        order_id = desk.text_content("[data-order-id]")

        assert serious_violations(desk) == []
        phone.wait_for_selector("text=兑换成功，凭条如下", timeout=15_000)
        assert serious_violations(phone) == []
        assert phone.is_visible("#paycode >> text=香皂 × 2")
        paycode = phone.text_content("#paycode")
        assert paycode is not None
        assert f"兑换单号{order_id}" in paycode
        assert orders_paid_by(url, rid) == 1
        assert desk.console_errors == [] and phone.console_errors == []
    finally:
        desk_context.close()
        phone_context.close()


def test_confirm_pressed_twice_makes_one_order(
    browser: Browser, live_server: str, live_database_url: str, shop: Shop
) -> None:
    url = live_database_url
    rid = new_resident(url, shop, "李建国", 50)
    desk_context, desk = signed_in(
        browser, live_server, session(url, user_id=shop.volunteer.user_id),
        viewport={"width": 1024, "height": 768},
    )  # fmt: skip
    phone_context, phone = signed_in(browser, live_server, session(url, resident_id=rid))
    try:
        desk.goto(f"{live_server}/counter")
        if desk.is_visible("button:has-text('a积分超市')"):
            desk.click("button:has-text('a积分超市')")
        phone.goto(f"{live_server}/me/pay")
        shown = phone.text_content("[data-digits]")
        assert shown is not None
        digits = shown.replace(" ", "")
        desk.wait_for_selector("[data-scan-field]")
        desk.keyboard.type(digits)
        desk.keyboard.press("Enter")
        desk.wait_for_selector("text=李*国")
        desk.fill("#q-rice", "1")
        desk.dblclick("[data-confirm]")
        desk.wait_for_selector("text=兑换成功，请把商品交给居民")
        order_id = desk.text_content("[data-order-id]")
        desk.go_back()  # the visit's page: now it names the order instead of the item grid
        desk.wait_for_selector("text=这位居民已经兑换完成")
        assert not desk.is_visible("[data-checkout]")
        desk.click(f"a[href='/counter/orders/{order_id}']")
        desk.wait_for_selector("text=兑换成功，请把商品交给居民")
        assert orders_paid_by(url, rid) == 1
    finally:
        desk_context.close()
        phone_context.close()
