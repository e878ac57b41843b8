"""A recruitment call in real Chromium, on the live server: staff publish it and open the
full-screen check-in QR; the resident's phone (a second browser context, bound by its activation
link) opens the QR's URL and taps 签到; staff settle; the points show in the phone's passbook.
The screen's QR changes by itself when the server's window rotates."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, cast

import pytest

from mall.earning import checkin
from tests.browser.test_staff_pages import (
    community_with_staff,
    issue_activation,
    resident_with_points,
    sign_in,
)
from web.pages.common import LOCAL_TIME

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from tests.browser.watched import WatchedPage

pytestmark = pytest.mark.browser


@pytest.fixture
def desk(browser: Browser) -> Iterator[WatchedPage]:
    """The staff member's laptop: the activity pages and the check-in screen in two tabs."""
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="zh-CN")
    page = cast("WatchedPage", context.new_page())
    page.console_errors = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))  # type: ignore[call-overload, func-returns-value]  # `and` appends only errors; the handler's value is unused
    yield page
    context.close()


def publish(desk: Page, base: str) -> int:
    """Through the form: today, all day (so the test never straddles the start or end)."""
    desk.goto(f"{base}/staff/activities")
    desk.click("text=发布招募令")
    desk.wait_for_url(f"{base}/staff/activities/new")
    desk.fill("#f-title", "关爱独居老人上门探访")
    desk.select_option("#f-path", "timely_help")
    desk.fill("#f-points", "15")
    desk.fill("#f-capacity", "5")
    desk.fill("#f-date", datetime.now(LOCAL_TIME).date().isoformat())
    desk.fill("#f-starts", "00:00")
    desk.fill("#f-ends", "23:59")
    desk.fill("#f-place", "社区党群服务中心")
    desk.click("main button[type=submit]")
    desk.wait_for_url(re.compile(rf"{re.escape(base)}/staff/activities/\d+$"))
    return int(desk.url.rsplit("/", 1)[1])


def test_resident_scans_the_screen_checks_in_and_gets_the_points_after_settlement(
    live_server: str, live_database_url: str, desk: WatchedPage, phone: WatchedPage
) -> None:
    url = live_database_url
    staff = community_with_staff(url, "b-checkin", "清风社区")
    resident_id = resident_with_points(url, "b-checkin", "周丽华", 1)  # 10 points, 5 set aside
    sign_in(desk, live_server, staff)
    activity_id = publish(desk, live_server)

    phone.goto(issue_activation(desk, live_server, resident_id))
    phone.click("button:has-text('在这部手机上使用')")
    phone.wait_for_url(f"{live_server}/me")

    screen = desk.context.new_page()
    screen.goto(f"{live_server}/staff/activities/{activity_id}")
    screen.click("text=打开签到屏幕")
    screen.wait_for_url(f"{live_server}/staff/activities/{activity_id}/screen")
    assert screen.is_visible("#checkin-qr .qr svg")
    assert not screen.is_visible("header.bar")  # full screen: nothing but the call and the QR
    first = screen.get_attribute("#checkin-qr", "data-checkin-url")
    assert first is not None
    assert re.fullmatch(rf"{re.escape(live_server)}/c/K1-{activity_id}-\d+-[A-Z2-7]{{10}}", first)
    code_text = screen.text_content("#checkin-qr .code-text")
    assert code_text is not None
    assert code_text.strip() == first
    shown_in = checkin.window_of(datetime.now(LOCAL_TIME))

    phone.goto(first)
    assert phone.text_content("h1") == "关爱独居老人上门探访"
    phone.click("button:has-text('签到')")
    phone.wait_for_url(f"{live_server}/me/activities/{activity_id}/checked-in")
    assert phone.is_visible("text=签到成功，活动结束后积分到账")

    # The screen asks for a new QR every few seconds; once the server's window has moved on,
    # the QR it shows is another one. (Real time: at most one window and one poll.)
    wait = (shown_in + 1) * checkin.WINDOW - time.time()
    screen.wait_for_function(
        "first => document.querySelector('#checkin-qr').dataset.checkinUrl !== first",
        arg=first,
        timeout=(max(wait, 0) + 20) * 1000,
    )
    second = screen.get_attribute("#checkin-qr", "data-checkin-url")
    code_text = screen.text_content("#checkin-qr .code-text")
    assert code_text is not None
    assert second != first and code_text.strip() == second
    assert screen.evaluate("() => document.querySelectorAll('#checkin-qr').length") == 1

    desk.goto(f"{live_server}/staff/activities/{activity_id}")
    assert desk.is_visible("#attendance >> text=周丽华")
    assert desk.is_visible("#attendance >> text=已签到：1")
    desk.click("text=结算：发放积分")
    desk.wait_for_url(f"{live_server}/staff/activities/{activity_id}/settle")
    assert desk.is_visible("text=1 人 × 15 分 = 15 分")
    desk.click("button:has-text('确认发放 15 分')")
    desk.wait_for_url(f"{live_server}/staff/activities/{activity_id}")
    assert desk.is_visible("text=已结算：1 人共获得 15 分。")

    phone.goto(f"{live_server}/me/passbook")
    newest = phone.locator("li.entry").first.text_content()
    assert newest is not None
    assert "关爱独居老人上门探访" in newest and "+15" in newest

    assert desk.console_errors == [] and phone.console_errors == []
