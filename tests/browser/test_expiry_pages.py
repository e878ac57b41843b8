"""Points about to expire on a resident's 360-px phone in a real Chromium: the line in large
type, inside the screen, and the printable passbook one tap away."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from mall import days
from mall.db import Database
from mall.earning.expiry import add_months
from mall.org import policy
from tests.browser.test_staff_pages import (
    ADMIN,
    call,
    community_with_staff,
    issue_activation,
    resident_with_points,
    sign_in,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser

    from tests.browser.watched import WatchedPage

pytestmark = pytest.mark.browser

SLUG = "b-expiry"


def test_a_resident_sees_on_a_small_phone_which_points_expire_and_when(
    browser: Browser, live_server: str, live_database_url: str, phone: WatchedPage
) -> None:
    url = live_database_url
    staff = community_with_staff(url, SLUG, "光明社区")
    rid = resident_with_points(url, SLUG, "李桂芳", 3)  # 33 points, 5 set aside

    async def months(db: Database) -> None:
        await policy.set_policy(db, ADMIN, SLUG, expiry="months", expiry_months=1)

    call(url, months)
    context = browser.new_context(locale="zh-CN")
    desk = context.new_page()
    sign_in(desk, live_server, staff)
    link = issue_activation(desk, live_server, rid)
    context.close()

    phone.goto(link)
    phone.click("button:has-text('在这部手机上使用')")
    phone.wait_for_url(f"{live_server}/me")
    on = add_months(days.today(), 1).isoformat()
    line = phone.locator(".expiring-line")
    assert line.text_content() == f"28 积分将于 {on} 到期"
    assert line.is_visible()
    size = phone.evaluate(
        "() => parseFloat(getComputedStyle(document.querySelector('.expiring-line')).fontSize)"
    )
    assert size >= 24
    box = line.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 360

    phone.click("text=查看全部存折")
    phone.wait_for_url(f"{live_server}/me/passbook")
    assert phone.locator(".expiring-line").text_content() == f"28 积分将于 {on} 到期"
    phone.click("text=打印存折")
    phone.wait_for_url(f"{live_server}/me/passbook/print")
    assert phone.is_visible("h1 >> text=积分存折") and phone.is_visible("text=李桂芳")
    assert phone.console_errors == []
