"""Reserving goods on a 360-px phone in real Chromium (issue #19): 我的预约 from the home screen,
the catalogue's − and + steppers (60 × 60 px) with a running total against the points available,
over the balance said plainly and the button disabled, a confirmation step, and a page that says
what to collect, where and until when. The same again with JavaScript turned off."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from mall.db import Database
from mall.org import communities
from mall.people import residents
from tests.browser.test_counter import session, signed_in
from tests.browser.test_staff_pages import ADMIN, call
from tests.shop_fixtures import give, open_outlet, stock_items

if TYPE_CHECKING:
    from playwright.sync_api import Browser

    from tests.browser.watched import WatchedPage

pytestmark = pytest.mark.browser

SLUG = "b-reserve"
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


@dataclass
class Shelf:
    outlet: int


@pytest.fixture(scope="module")
def shelf(live_server: str, live_database_url: str) -> Shelf:
    """A community with one supermarket: 食用油 10 分, 香皂 3 分, 大米 20 分 (and a service)."""

    async def work(db: Database) -> Shelf:
        community = await communities.create_community(db, ADMIN, SLUG, "预约社区")
        await communities.grant_budget(db, ADMIN, SLUG, 10_000, "", idempotency_key=SLUG)
        async with db.connection() as conn:
            book = await conn.fetchval("SELECT book FROM mall_community WHERE slug = ?", SLUG)
        outlet = await open_outlet(db, community.id, book, "幸福里积分超市")
        await stock_items(db, community.id, outlet)
        return Shelf(outlet=outlet)

    return call(live_database_url, work)


def resident_phone(
    browser: Browser, base: str, url: str, name: str, pts: int, **options: object
) -> Iterator[WatchedPage]:
    async def work(db: Database) -> int:
        rid = (await residents.create_resident(db, ADMIN, SLUG, name, None, None)).id
        await give(db, SLUG, rid, pts)
        return rid

    rid = call(url, work)
    context, page = signed_in(browser, base, session(url, resident_id=rid), **PHONE, **options)
    yield page
    context.close()


@pytest.fixture
def phone(browser: Browser, live_server: str, live_database_url: str) -> Iterator[WatchedPage]:
    yield from resident_phone(browser, live_server, live_database_url, "李桂兰", 25)


@pytest.fixture
def plain_phone(
    browser: Browser, live_server: str, live_database_url: str
) -> Iterator[WatchedPage]:
    """A phone with JavaScript turned off."""
    yield from resident_phone(
        browser, live_server, live_database_url, "赵大爷", 25, java_script_enabled=False
    )


def item(page: WatchedPage, name: str) -> str:
    return f"li.item:has(.item-name:text-is('{name}'))"


def test_resident_reserves_with_steppers_confirms_and_sees_what_to_collect(
    live_server: str, shelf: Shelf, phone: WatchedPage
) -> None:
    base = live_server
    phone.goto(f"{base}/me")
    phone.click("main a:has-text('我的预约')")
    phone.wait_for_url(f"{base}/me/reservations")
    phone.click("text=预约商品")
    phone.wait_for_url(re.compile(rf"{re.escape(base)}/me/reservations/new"))

    oil, rice = item(phone, "食用油"), item(phone, "大米")
    for selector in (f"{oil} [data-step='1']", f"{oil} [data-step='-1']"):
        box = phone.locator(selector).bounding_box()
        assert box is not None and box["width"] >= 60 and box["height"] >= 60, box
    assert phone.text_content("[data-total]") == "0"
    assert phone.is_disabled("[data-confirm]")  # nothing chosen yet

    phone.click(f"{oil} [data-step='1']")
    phone.click(f"{oil} [data-step='1']")
    assert phone.input_value(f"{oil} [data-quantity]") == "2"
    assert phone.text_content("[data-total]") == "20"
    assert phone.is_enabled("[data-confirm]")
    assert not phone.is_visible("[data-over]")

    phone.click(f"{rice} [data-step='1']")  # 40 of 25 available
    assert phone.text_content("[data-total]") == "40"
    assert phone.is_visible("text=超出了您的可用积分，请减少一些再继续。")
    assert phone.is_disabled("[data-confirm]")
    phone.click(f"{rice} [data-step='-1']")
    assert phone.text_content("[data-total]") == "20"
    assert phone.is_enabled("[data-confirm]")
    assert phone.url.endswith("/me/reservations/new")  # the steppers stayed in the page

    phone.click("[data-confirm]")
    phone.wait_for_url(f"{base}/me/reservations/review")
    assert phone.is_visible("h1 >> text=核对预约")
    assert phone.is_visible("text=食用油 × 2")
    assert phone.is_visible("text=预约后剩余")
    phone.click("button:has-text('确认预约')")
    phone.wait_for_url(re.compile(rf"{re.escape(base)}/me/reservations/\d+\?made=1$"))
    assert phone.is_visible("text=预约成功，商品已为您留好。")
    assert phone.is_visible("main >> text=食用油 × 2")
    assert phone.is_visible("dd >> text=幸福里积分超市")
    until = phone.text_content("dt:text-is('领取期限') + dd")
    assert until is not None and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", until.strip())

    phone.click("main a:has-text('我的预约')")
    phone.wait_for_url(f"{base}/me/reservations")
    assert phone.is_visible("main >> text=食用油 × 2")
    phone.goto(f"{base}/me")
    assert phone.is_visible("#snapshot >> text=5 分")  # 25 − 20 available
    assert phone.console_errors == []


def test_reserving_works_without_javascript(
    live_server: str, shelf: Shelf, plain_phone: WatchedPage
) -> None:
    base = live_server
    phone = plain_phone
    phone.goto(f"{base}/me/reservations/new")
    soap, rice = item(phone, "香皂"), item(phone, "大米")
    phone.click(f"{soap} [data-step='1']")  # a real form post
    phone.wait_for_load_state()
    assert phone.input_value(f"{soap} [data-quantity]") == "1"
    phone.click(f"{soap} [data-step='1']")
    phone.wait_for_load_state()
    assert phone.input_value(f"{soap} [data-quantity]") == "2"
    assert phone.text_content("[data-total]") == "6"
    phone.click(f"{rice} [data-step='1']")
    phone.wait_for_load_state()
    phone.click(f"{rice} [data-step='1']")
    phone.wait_for_load_state()
    assert phone.text_content("[data-total]") == "46"
    assert phone.is_visible("text=超出了您的可用积分，请减少一些再继续。")
    assert phone.is_disabled("[data-confirm]")
    phone.click(f"{rice} [data-step='-1']")
    phone.wait_for_load_state()
    assert phone.text_content("[data-total]") == "26"  # still one point over
    assert phone.is_disabled("[data-confirm]")
    phone.click(f"{soap} [data-step='-1']")
    phone.wait_for_load_state()
    assert phone.text_content("[data-total]") == "23"
    assert phone.is_enabled("[data-confirm]")

    phone.click("[data-confirm]")
    phone.wait_for_url(f"{base}/me/reservations/review")
    assert phone.is_visible("text=香皂 × 1") and phone.is_visible("text=大米 × 1")
    phone.click("button:has-text('确认预约')")
    phone.wait_for_url(re.compile(rf"{re.escape(base)}/me/reservations/\d+\?made=1$"))
    assert phone.is_visible("text=预约成功，商品已为您留好。")
