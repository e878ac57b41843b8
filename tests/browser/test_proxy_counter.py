"""A proxy (代领) at the counter in a real Chromium at 1280 px: a grandmother names her son on her
phone; at the counter his own pay code is scanned, the page offers to serve her, says plainly
whose points pay, and he collects her reservation and pays for soap from her points; his own
points never move, and his passbook shows what he did for her."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from mall.access import ResidentPrincipal
from mall.counter import reservations
from mall.db import Database
from mall.org import communities
from mall.people import residents
from tests import support
from tests.browser.test_accessibility import serious_violations
from tests.browser.test_counter import session, signed_in
from tests.browser.test_staff_pages import call
from tests.shop_fixtures import ADMIN, give, open_outlet, stock_items, user

if TYPE_CHECKING:
    from playwright.sync_api import Browser

    from tests.browser.watched import WatchedPage

pytestmark = pytest.mark.browser

SLUG = "proxy-town"
OUTLET = "代领超市"


class Place:
    def __init__(self, url: str) -> None:
        async def build(db: Database) -> tuple[int, int, int, int, int, int]:
            community = await communities.create_community(db, ADMIN, SLUG, "代领社区")
            await communities.grant_budget(db, ADMIN, SLUG, 10_000, "", idempotency_key="proxy")
            async with db.connection() as conn:
                book = await conn.fetchval(
                    "SELECT book FROM mall_community WHERE id = ?", community.id
                )
            outlet = await open_outlet(db, community.id, book, OUTLET)
            await stock_items(db, community.id, outlet)
            volunteer = await user(db, "proxy-vol", "volunteer", community.id, SLUG)
            grandma = (
                await residents.create_resident(db, ADMIN, SLUG, "张晓明", "13900000001", None)
            ).id
            son = (await residents.create_resident(db, ADMIN, SLUG, "李强", "13900000002", None)).id
            await give(db, SLUG, grandma, 100)
            return community.id, book, outlet, volunteer.user_id, grandma, son

        (self.community, self.book, self.outlet, self.volunteer, self.grandma, self.son) = call(
            url, build
        )
        self.url = url

    def me(self, resident_id: int) -> ResidentPrincipal:
        return support.resident(resident_id, self.community, SLUG)

    def reserve_oil(self) -> int:
        async def work(db: Database) -> int:
            made = await reservations.reserve(
                db,
                self.me(self.grandma),
                self.outlet,
                [("oil", 1)],
                idempotency_key="r",
                req_hash="r",
            )
            return made.id

        return call(self.url, work)

    def balances(self) -> tuple[int, int]:
        async def work(db: Database) -> tuple[int, int]:
            async with db.connection() as conn:
                got = [
                    await conn.fetchval(
                        "SELECT balance FROM ledger_account WHERE book = ? AND code = ?",
                        self.book,
                        f"wallet:r{rid}",
                    )
                    for rid in (self.grandma, self.son)
                ]
            return int(got[0]), int(got[1])

        return call(self.url, work)


def pay_code(phone: WatchedPage, base: str) -> str:
    """A fresh pay code as the phone shows it (the server signs it with its own secret)."""
    phone.goto(f"{base}/me/pay")
    shown = phone.text_content("[data-digits]")
    assert shown is not None
    return shown.replace(" ", "")


def scan(desk: WatchedPage, code: str) -> None:
    desk.wait_for_selector("[data-scan-field]")
    desk.fill("[data-scan-field]", code)
    desk.keyboard.press("Enter")


def test_a_proxy_collects_and_pays_at_the_counter_from_the_resident_s_points(
    browser: Browser, live_server: str, live_database_url: str
) -> None:
    place = Place(live_database_url)
    url = live_database_url
    phone_context, phone = signed_in(
        browser, live_server, session(url, resident_id=place.grandma),
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
    )  # fmt: skip
    desk_context, desk = signed_in(
        browser, live_server, session(url, user_id=place.volunteer),
        viewport={"width": 1280, "height": 800},
    )  # fmt: skip
    son_context, son = signed_in(
        browser, live_server, session(url, resident_id=place.son),
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
    )  # fmt: skip
    try:
        # the grandmother names her son on her own phone
        phone.goto(f"{live_server}/me/proxies")
        phone.fill("#f-name", "李强")
        phone.fill("#f-phone", "13900000002")
        phone.click("button:has-text('让他替我代领')")
        phone.wait_for_selector("button:has-text('不再让李强代领')")
        reservation = place.reserve_oil()

        desk.goto(f"{live_server}/counter")
        if desk.is_visible(f"button:has-text('{OUTLET}')"):
            desk.click(f"button:has-text('{OUTLET}')")
        scan(desk, pay_code(son, live_server))
        desk.wait_for_selector("text=李*")
        desk.click(f"[data-for='{place.grandma}']")
        banner = desk.wait_for_selector("[data-proxy]")
        assert banner is not None and "代 张*明 付款" in (banner.text_content() or "")
        assert desk.text_content("[data-available]") == "90"  # 100, less 10 set aside
        assert serious_violations(desk) == []
        desk.click(f"form[action='/counter/reservations/{reservation}/collect'] button")
        desk.wait_for_selector("text=兑换成功，请把商品交给居民")
        assert desk.is_visible("text=食用油 × 1")

        desk.goto(f"{live_server}/counter")
        scan(desk, pay_code(son, live_server))
        desk.click(f"[data-for='{place.grandma}']")
        desk.wait_for_selector("[data-proxy]")
        desk.fill("#q-soap", "1")
        desk.click("[data-confirm]")
        desk.wait_for_selector("text=兑换成功，请把商品交给居民")
        assert place.balances() == (87, 0)

        # once the grant ends, the son's code pays for nobody but himself
        phone.goto(f"{live_server}/me/proxies")
        phone.click("button:has-text('不再让李强代领')")
        phone.wait_for_selector("text=还没有指定。")
        desk.goto(f"{live_server}/counter")
        scan(desk, pay_code(son, live_server))
        desk.wait_for_selector("text=李*")
        assert desk.query_selector(f"[data-for='{place.grandma}']") is None
        assert place.balances() == (87, 0)
        son.goto(f"{live_server}/me/passbook")
        son.wait_for_selector("text=代 张*明 付款")
        assert son.locator("text=代领代付").count() == 2
        assert desk.console_errors == [] and phone.console_errors == []
    finally:
        desk_context.close()
        phone_context.close()
        son_context.close()
