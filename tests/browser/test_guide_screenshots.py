"""The user guide's pictures, taken by walking the guide in a real Chromium (issue #19).

Two walks, each a test that asserts what every step shows: a volunteer's shift at 1280 px (sign
in, the counter, scan a resident's pay code, choose goods, confirm, the receipt, the order
history, sign out) and a resident's first week at 360 px (the activation link, 我的积分, the pay
code, signing up for an activity, reserving goods, the passbook, the inbox).

The walks run every time; a picture of each step is written only when ``MALL_GUIDE_SHOTS`` names
a folder, so an ordinary run never rewrites the tracked files in ``docs/guide/``:

    MALL_GUIDE_SHOTS=docs/guide .venv/bin/python -m pytest -q -p no:cacheprovider \\
        tests/browser/test_guide_screenshots.py
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, cast

import pytest

from mall.db import Database
from mall.earning import activities
from mall.notify import announcements
from mall.people import residents, users
from tests import support
from tests.browser.test_counter import session, signed_in
from tests.browser.test_staff_pages import (
    ADMIN,
    PASSWORD,
    call,
    community_with_staff,
    issue_activation,
    sign_in,
)
from tests.shop_fixtures import give, open_outlet, stock_items

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

    from tests.browser.watched import WatchedPage

pytestmark = pytest.mark.browser

SLUG = "g-guide"
OUTLET = "幸福里积分超市"
VOLUNTEER = f"{SLUG}-volunteer"
ACTIVITY = "关爱独居老人上门探访"
ANNOUNCEMENT = "周六上午义诊"
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
DESK = {"viewport": {"width": 1280, "height": 800}}


def shot(target: Page | Locator, name: str) -> None:
    """Save ``target`` (a page's viewport, or one element) as ``docs/guide/<name>.jpg`` when
    ``MALL_GUIDE_SHOTS`` names the folder; otherwise nothing."""
    folder = os.environ.get("MALL_GUIDE_SHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    target.screenshot(path=str(Path(folder) / f"{name}.jpg"), type="jpeg", quality=70)


@dataclass
class Guide:
    staff: str
    """the staff member's username (issues the activation link)"""
    volunteer: str
    activity: int


@pytest.fixture(scope="module")
def guide(live_server: str, live_database_url: str) -> Guide:
    """幸福里社区: a supermarket with goods on the shelf, a staff member, a volunteer with a
    password and a recruitment call the day after tomorrow."""
    url = live_database_url
    staff = community_with_staff(url, SLUG, "幸福里社区")

    async def work(db: Database) -> int:
        from mall.org import communities

        await users.create_user_unchecked(db, VOLUNTEER, PASSWORD, "volunteer", SLUG)
        await communities.grant_budget(db, ADMIN, SLUG, 10_000, "", idempotency_key=SLUG)
        async with db.connection() as conn:
            cid = int(await conn.fetchval("SELECT id FROM mall_community WHERE slug = ?", SLUG))
            book = int(await conn.fetchval("SELECT book FROM mall_community WHERE slug = ?", SLUG))
            staff_id = int(
                await conn.fetchval("SELECT id FROM mall_user WHERE username = ?", staff)
            )
        outlet = await open_outlet(db, cid, book, OUTLET)
        await stock_items(db, cid, outlet)
        start = datetime.now(UTC) + timedelta(days=2)
        made = await activities.create_activity(
            db,
            support.staff(staff_id, cid, SLUG, staff),
            SLUG,
            title=ACTIVITY,
            path="timely_help",
            points=15,
            capacity=5,
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            place="社区党群服务中心",
        )
        return made.id

    return Guide(staff=staff, volunteer=VOLUNTEER, activity=call(url, work))


def announce(url: str) -> None:
    """Staff announce to everyone in the community (the residents it reaches now)."""

    async def work(db: Database) -> None:
        await announcements.publish(
            db, ADMIN, SLUG, ANNOUNCEMENT, "本周六上午9点，社区卫生服务站在广场义诊，免费量血压。"
        )

    call(url, work)


def new_resident(url: str, name: str, pts: int) -> int:
    async def work(db: Database) -> int:
        rid = (await residents.create_resident(db, ADMIN, SLUG, name, None, None)).id
        if pts:
            await give(db, SLUG, rid, pts)
        return rid

    return call(url, work)


def watched(page: Page) -> WatchedPage:
    w = cast("WatchedPage", page)
    w.console_errors = []
    w.on("console", lambda m: m.type == "error" and w.console_errors.append(m.text))  # type: ignore[call-overload, func-returns-value]  # `and` appends only errors; the handler's value is unused
    w.on("pageerror", lambda e: w.console_errors.append(str(e)))
    return w


def test_a_volunteers_shift(
    browser: Browser, live_server: str, live_database_url: str, guide: Guide
) -> None:
    base, url = live_server, live_database_url
    rid = new_resident(url, "王秀英", 50)
    desk_context = browser.new_context(locale="zh-CN", **DESK)  # type: ignore[arg-type]  # the dict holds the viewport
    desk = watched(desk_context.new_page())
    phone_context, phone = signed_in(browser, base, session(url, resident_id=rid), **PHONE)
    try:
        desk.goto(f"{base}/sign-in")
        desk.fill("#f-username", guide.volunteer)
        desk.fill("#f-password", PASSWORD)
        shot(desk.locator("main"), "shift-1-sign-in")
        desk.click("main button[type=submit]")
        desk.wait_for_url(f"{base}/volunteer")

        desk.goto(f"{base}/counter")
        if desk.is_visible(f"button:has-text('{OUTLET}')"):
            desk.click(f"button:has-text('{OUTLET}')")
        desk.wait_for_selector("[data-scan-field]")
        assert desk.is_visible(f"h1 >> text=收银台 · {OUTLET}") or desk.is_visible(
            f"h1 >> text={OUTLET}"
        )
        shot(desk.locator("main"), "shift-2-counter")

        phone.goto(f"{base}/me/pay")
        shown = phone.text_content("[data-digits]")
        assert shown is not None
        digits = shown.replace(" ", "")
        assert len(digits) == 20
        desk.keyboard.type(digits)  # a USB scanner types the digits and Enter
        desk.keyboard.press("Enter")
        desk.wait_for_selector("text=王*英")
        assert desk.text_content("[data-available]") == "50"
        shot(desk.locator("main"), "shift-3-resident")

        desk.click("[aria-label='香皂 多一件']")
        desk.click("[aria-label='香皂 多一件']")
        desk.click("[aria-label='食用油 多一件']")
        assert desk.text_content("[data-total]") == "16"
        shot(desk.locator("main"), "shift-4-goods")

        desk.click("[data-confirm]")
        desk.wait_for_selector("text=兑换成功，请把商品交给居民")
        assert desk.is_visible("text=香皂 × 2") and desk.is_visible("text=食用油 × 1")
        order_id = desk.text_content("[data-order-id]")
        assert order_id
        shot(desk.locator("main"), "shift-5-receipt")

        desk.goto(f"{base}/counter/history")
        assert desk.is_visible("h1 >> text=兑换记录")
        assert desk.is_visible(f"main >> text={order_id}")
        shot(desk.locator("main"), "shift-6-history")

        desk.click("nav button:has-text('退出')")
        desk.wait_for_url(re.compile(rf"{re.escape(base)}/(sign-in.*)?$"))
        desk.goto(f"{base}/counter")
        assert "/sign-in" in desk.url  # signed out: the counter asks to sign in again
        assert desk.console_errors == [] and phone.console_errors == []
    finally:
        desk_context.close()
        phone_context.close()


def test_a_residents_first_week(
    browser: Browser, live_server: str, live_database_url: str, guide: Guide
) -> None:
    base, url = live_server, live_database_url
    rid = new_resident(url, "李桂兰", 40)
    desk_context = browser.new_context(locale="zh-CN")
    phone_context = browser.new_context(locale="zh-CN", **PHONE)  # type: ignore[arg-type]  # the dict holds the phone's options
    try:
        desk = desk_context.new_page()
        sign_in(desk, base, guide.staff)
        link = issue_activation(desk, base, rid)
        phone = watched(phone_context.new_page())

        phone.goto(link)
        assert phone.is_visible("h1 >> text=欢迎使用邻里积分超市")
        shot(phone, "week-1-activate")
        phone.click("button:has-text('在这部手机上使用')")
        phone.wait_for_url(f"{base}/me")
        assert phone.text_content("#snapshot .balance-figure") == "40"
        shot(phone, "week-2-home")

        phone.click("text=出示付款码")
        phone.wait_for_url(f"{base}/me/pay")
        assert phone.is_visible("#paycode .qr svg")
        assert re.fullmatch(r"\d{4}( \d{4}){4}", phone.text_content("[data-digits]") or "")
        shot(phone, "week-3-pay-code")

        phone.goto(f"{base}/me/activities")
        phone.click(f"main a:has-text('{ACTIVITY}')")
        phone.wait_for_url(f"{base}/me/activities/{guide.activity}")
        phone.click("button:has-text('我要报名')")
        phone.wait_for_selector("button:has-text('取消报名')")  # the page again, now signed up
        assert phone.is_visible("main >> text=扫一扫工作人员屏幕上的二维码就能签到")
        shot(phone, "week-4-activity")

        phone.goto(f"{base}/me/reservations/new")
        oil = "li.item:has(.item-name:text-is('食用油'))"
        phone.click(f"{oil} [data-step='1']")
        assert phone.text_content("[data-total]") == "10"
        shot(phone, "week-5-reserve")
        phone.click("[data-confirm]")
        phone.wait_for_url(f"{base}/me/reservations/review")
        phone.click("button:has-text('确认预约')")
        phone.wait_for_url(re.compile(rf"{re.escape(base)}/me/reservations/\d+\?made=1$"))
        assert phone.is_visible("text=预约成功，商品已为您留好。")
        assert phone.is_visible(f"dd >> text={OUTLET}")
        shot(phone, "week-6-reserved")

        phone.goto(f"{base}/me/passbook")
        assert phone.is_visible("h1 >> text=积分存折")
        assert phone.is_visible("li.entry >> text=+40")
        shot(phone, "week-7-passbook")

        announce(url)  # later in the week, staff post a notice
        phone.goto(f"{base}/me/inbox")
        assert phone.is_visible(f"main >> text={ANNOUNCEMENT}")
        shot(phone, "week-8-inbox")
        assert phone.console_errors == []
    finally:
        desk_context.close()
        phone_context.close()
