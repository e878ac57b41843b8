"""Issue #19 at the counter in a real Chromium, in Chinese, at 360 px and at 1280 px: a refund of
chosen lines with a reason and a confirmation page, the receipt showing 退款 and the balance after;
signing out with items chosen and cancelling a reservation ask first; a disabled Confirm looks
disabled; a collected reservation shows the same receipt as a checkout; the order history finds an
order and prints it as a 58-mm slip."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

from mall.counter import checkout
from mall.db import Database
from mall.people import residents
from tests.browser.test_accessibility import measure, serious_violations
from tests.browser.test_counter import new_resident, session, signed_in
from tests.browser.test_staff_pages import call
from tests.shop_fixtures import ADMIN, SLUGS, Shop, give

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext

    from tests.browser.watched import WatchedPage

pytestmark = pytest.mark.browser

PHONE: dict[str, Any] = {
    "viewport": {"width": 360, "height": 740},
    "is_mobile": True,
    "has_touch": True,
}
DESK: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}}
WIDTHS: dict[str, dict[str, Any]] = {"360": PHONE, "1280": DESK}


@pytest.fixture(scope="module")
def shop(live_shop: Shop) -> Shop:
    return live_shop


def paid(url: str, shop: Shop, rid: int, lines: list[tuple[str, int]], key: str) -> int:
    async def work(db: Database) -> int:
        shop.db = db
        done = await checkout.checkout(
            db, shop.volunteer, shop.outlet, code=await shop.pay_code(rid), lines=lines,
            idempotency_key=key, req_hash=key,
        )  # fmt: skip
        return done.id

    return call(url, work)


def pay_code(browser: Browser, base: str, url: str, rid: int) -> str:
    """The digits under the pay code on the resident's own phone, as they read them out."""
    context, phone = signed_in(browser, base, session(url, resident_id=rid), **PHONE)
    try:
        phone.goto(f"{base}/me/pay")
        shown = phone.text_content("[data-digits]") or ""
    finally:
        context.close()
    return shown.replace(" ", "")


def at_desk(
    browser: Browser, base: str, url: str, user_id: int, size: str
) -> tuple[BrowserContext, WatchedPage]:
    context, desk = signed_in(browser, base, session(url, user_id=user_id), **WIDTHS[size])
    desk.goto(f"{base}/counter")
    if desk.is_visible("button:has-text('shop-a积分超市')"):
        desk.click("button:has-text('shop-a积分超市')")
    desk.wait_for_selector("[data-scan-field]")
    return context, desk


def reserve_oil(phone: WatchedPage, base: str, shop: Shop) -> None:
    """One bottle of oil reserved on the phone (steppers, the review, the confirmation), then
    the resident's list of reservations, where each can be cancelled."""
    phone.goto(f"{base}/me/reservations/new?outlet={shop.outlet}")
    phone.click("li.item:has(.item-name:text-is('食用油')) [data-step='1']")
    phone.click("[data-confirm]")
    phone.click("button:has-text('确认预约')")
    phone.wait_for_url(re.compile(rf"{re.escape(base)}/me/reservations/\d+"))
    phone.goto(f"{base}/me/reservations")


def looks_disabled(page: WatchedPage, selector: str) -> dict[str, str]:
    found: dict[str, str] = page.eval_on_selector(
        selector,
        "el => { const s = getComputedStyle(el); return {cursor: s.cursor, "
        "background: s.backgroundColor, aria: el.getAttribute('aria-disabled') || '', "
        "events: s.pointerEvents}; }",
    )
    return found


def height(page: WatchedPage, selector: str) -> float:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    return float(box["height"])


@pytest.mark.parametrize("size", ["360", "1280"])
def test_refund_chosen_lines_with_a_reason_after_a_confirmation_page(
    browser: Browser, live_server: str, live_database_url: str, shop: Shop, size: str
) -> None:
    url = live_database_url
    rid = new_resident(url, shop, "王秀英", 100)
    order_id = paid(url, shop, rid, [("soap", 3), ("oil", 1)], f"refund-{size}")
    context, desk = signed_in(
        browser, live_server, session(url, user_id=shop.staff.user_id), **WIDTHS[size]
    )
    try:
        desk.goto(f"{live_server}/counter/orders/{order_id}")
        desk.click("[data-refund-link]")
        desk.wait_for_selector("[data-refund-form]")
        assert serious_violations(desk) == []
        assert measure(desk, 44)["small"] == []
        desk.fill("#q-soap", "2")
        desk.fill("#q-oil", "0")
        desk.fill("#f-reason", "包装破了")
        desk.click("text=下一步：核对退款")
        desk.wait_for_selector("text=确定退款吗？退了就不能撤回。")
        assert desk.text_content("[data-confirm-points]") == "6"
        assert serious_violations(desk) == []
        assert height(desk, "[data-confirm-refund]") >= 56  # big buttons
        assert height(desk, "text=不退了，返回") >= 56
        desk.click("[data-confirm-refund]")
        desk.wait_for_selector("[data-refund]")
        refund = desk.text_content("[data-refund]") or ""
        assert "退款：香皂 × 2" in refund and "包装破了" in refund
        assert desk.text_content("[data-refund-balance]") == "87"  # 100 - 19 + 6
        assert "更正" not in (desk.text_content("main") or "")
        assert desk.is_visible("[data-refund-link]")  # the oil can still come back
        assert serious_violations(desk) == []
        assert desk.console_errors == []
    finally:
        context.close()


@pytest.mark.parametrize("size", ["360", "1280"])
def test_signing_out_with_items_chosen_asks_first(
    browser: Browser, live_server: str, live_database_url: str, shop: Shop, size: str
) -> None:
    url = live_database_url
    rid = new_resident(url, shop, "李建国", 100)
    context, desk = at_desk(browser, live_server, url, shop.volunteer.user_id, size)
    try:
        desk.fill("[data-scan-field]", pay_code(browser, live_server, url, rid))
        desk.keyboard.press("Enter")
        desk.wait_for_selector("text=李*国")
        desk.click("[aria-label='香皂 多一件']")
        desk.click("summary:has-text('退出')")
        desk.wait_for_selector("text=为这位居民选的商品还没有兑换。确定要退出吗？不会扣积分。")
        assert "/counter" in desk.url and desk.is_visible("[data-checkout]")
        assert desk.input_value("#q-soap") == "1"  # nothing lost by asking
        assert serious_violations(desk) == []
        desk.click("[data-sign-out-confirm]")
        desk.wait_for_url("**/sign-in**")
        assert desk.console_errors == []
    finally:
        context.close()


def test_signing_out_with_nothing_chosen_does_not_ask(
    browser: Browser, live_server: str, live_database_url: str, shop: Shop
) -> None:
    url = live_database_url
    rid = new_resident(url, shop, "赵淑芬", 100)
    context, desk = at_desk(browser, live_server, url, shop.volunteer.user_id, "360")
    try:
        desk.fill("[data-scan-field]", pay_code(browser, live_server, url, rid))
        desk.keyboard.press("Enter")
        desk.wait_for_selector("text=赵*芬")
        desk.click("summary:has-text('退出')")
        desk.wait_for_url("**/sign-in**")
    finally:
        context.close()


def test_a_disabled_confirm_looks_disabled(
    browser: Browser, live_server: str, live_database_url: str, shop: Shop
) -> None:
    url = live_database_url
    rid = new_resident(url, shop, "孙丽", 5)
    context, desk = at_desk(browser, live_server, url, shop.volunteer.user_id, "360")
    try:
        desk.fill("[data-scan-field]", pay_code(browser, live_server, url, rid))
        desk.keyboard.press("Enter")
        desk.wait_for_selector("text=孙*")
        off = looks_disabled(desk, "[data-confirm]")  # nothing chosen yet
        assert off["aria"] == "true" and off["cursor"] == "not-allowed"
        assert off["events"] == "none" and off["background"] == "rgb(224, 224, 224)"
        desk.click("[aria-label='香皂 多一件']")
        on = looks_disabled(desk, "[data-confirm]")
        assert on["aria"] == "" and on["cursor"] == "pointer"
        desk.click("[aria-label='食用油 多一件']")  # 13 points, 5 available
        assert looks_disabled(desk, "[data-confirm]")["aria"] == "true"
        assert desk.is_visible("text=超过了居民的可用积分，请减少一些商品。")
    finally:
        context.close()


def test_cancelling_a_reservation_asks_first_on_the_phone_and_at_the_counter(
    browser: Browser, live_server: str, live_database_url: str, shop: Shop
) -> None:
    url = live_database_url
    rid = new_resident(url, shop, "周桂兰", 100)
    phone_context, phone = signed_in(browser, live_server, session(url, resident_id=rid), **PHONE)
    try:
        reserve_oil(phone, live_server, shop)
        phone.wait_for_selector("text=取消这个预约")
        phone.click("text=取消这个预约")
        phone.wait_for_selector("text=确定取消这个预约吗？取消后不能恢复。")
        assert serious_violations(phone) == []
        assert height(phone, "[data-confirm-cancel]") >= 56
        assert height(phone, "text=不取消，保留预约") >= 56
        phone.click("text=不取消，保留预约")
        phone.wait_for_selector("text=取消这个预约")
        assert call(url, lambda db: _balance(db, shop, rid)) == 90
        phone.click("text=取消这个预约")
        phone.click("[data-confirm-cancel]")
        phone.wait_for_selector("text=已取消，积分已退回")
        assert call(url, lambda db: _balance(db, shop, rid)) == 100

        reserve_oil(phone, live_server, shop)
        phone.wait_for_selector("text=取消这个预约")
    finally:
        phone_context.close()
    context, desk = at_desk(browser, live_server, url, shop.staff.user_id, "1280")
    try:
        desk.fill("[data-scan-field]", pay_code(browser, live_server, url, rid))
        desk.keyboard.press("Enter")
        desk.wait_for_selector("[data-cancel-reservation]")
        desk.click("[data-cancel-reservation]")
        desk.wait_for_selector("text=确定取消这个预约吗？取消后不能恢复。")
        assert call(url, lambda db: _balance(db, shop, rid)) == 90
        desk.click("[data-confirm-cancel]")
        desk.wait_for_selector("[data-scan-field]")
        assert call(url, lambda db: _balance(db, shop, rid)) == 100
    finally:
        context.close()


async def _balance(db: Database, shop: Shop, rid: int) -> int:
    shop.db = db
    return await shop.balance(rid)


@pytest.mark.parametrize("size", ["360", "1280"])
def test_a_collected_reservation_shows_the_checkout_receipt_and_keeps_its_balance(
    browser: Browser, live_server: str, live_database_url: str, shop: Shop, size: str
) -> None:
    url = live_database_url
    rid = new_resident(url, shop, "吴海燕", 50)
    phone_context, phone = signed_in(browser, live_server, session(url, resident_id=rid), **PHONE)
    try:
        reserve_oil(phone, live_server, shop)
        phone.wait_for_selector("text=取消这个预约")
    finally:
        phone_context.close()
    context, desk = at_desk(browser, live_server, url, shop.volunteer.user_id, size)
    try:
        desk.fill("[data-scan-field]", pay_code(browser, live_server, url, rid))
        desk.keyboard.press("Enter")
        desk.click("form[action*='/collect'] button")
        desk.wait_for_selector("text=兑换成功，请把商品交给居民")
        assert desk.is_visible("text=食用油 × 1")
        assert desk.text_content("[data-receipt-total]") == "10"
        assert "剩余积分" in (desk.text_content(".receipt") or "")
        assert "40" in (desk.text_content(".receipt") or "")
        receipt = desk.url
        call(url, lambda db: give(db, SLUGS["a"], rid, 7))  # later points change nothing here
        desk.goto(receipt)
        left = desk.text_content(".receipt .facts") or ""
        assert "剩余积分40" in left.replace(" ", "").replace("\n", ""), left
        assert serious_violations(desk) == []
    finally:
        context.close()


@pytest.mark.parametrize("size", ["360", "1280"])
def test_history_finds_an_order_by_phone_tail_and_prints_a_58mm_slip(
    browser: Browser, live_server: str, live_database_url: str, shop: Shop, size: str
) -> None:
    url = live_database_url

    async def phoned(db: Database) -> int:
        made = await residents.create_resident(db, ADMIN, SLUGS["a"], "郑美华", None, None)
        await give(db, SLUGS["a"], made.id, 100)
        async with db.transaction() as conn:
            await conn.execute(
                "UPDATE mall_resident SET phone = ? WHERE id = ?", f"1370000{size:0>4}", made.id
            )
        return made.id

    rid = call(url, phoned)
    order_id = paid(url, shop, rid, [("soap", 2)], f"history-{size}")
    context, desk = at_desk(browser, live_server, url, shop.volunteer.user_id, size)
    try:
        desk.click("[data-history-link]")
        desk.wait_for_selector("[data-history-search]")
        desk.fill("#f-q", f"{size:0>4}")
        desk.click("[data-history-search] button[type=submit]")
        desk.wait_for_function(  # the whole list first, then only the match once the search lands
            "() => document.querySelectorAll('[data-history-order]').length === 1"
        )
        assert desk.is_visible(f"[data-history-order='{order_id}']")
        assert "郑*华" in (desk.text_content(f"[data-history-order='{order_id}']") or "")
        assert serious_violations(desk) == []
        assert measure(desk, 44)["small"] == []
        desk.click(f"[data-history-order='{order_id}'] >> text=打印小票")
        desk.wait_for_selector("[data-slip]")
        desk.wait_for_selector("[data-print]")  # shown by app.js once loaded
        assert desk.text_content("[data-slip-total]") == "6"
        assert desk.text_content("[data-slip-balance]") == "94"
        desk.emulate_media(media="print")
        width = desk.eval_on_selector("[data-slip]", "el => el.getBoundingClientRect().width")
        assert 178 <= width <= 184  # 48 mm at 96 px to the inch
        assert not desk.is_visible("[data-print]") and not desk.is_visible(".bar")
        digits = desk.eval_on_selector(
            "[data-slip-total]", "el => parseFloat(getComputedStyle(el).fontSize)"
        )
        assert digits >= 16  # 13 pt
        assert desk.console_errors == []
    finally:
        context.close()
