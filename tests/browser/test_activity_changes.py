"""Changing a recruitment call in real Chromium (issue #19): staff edit one and cancel it, and the
resident's 360-px phone reads 活动已取消 on their list; staff remove a wrong check-in before
settlement and cannot after; the check-in screen shows its QR only from half an hour before the
start; the status labels say 报名中, 进行中, 已结算."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from mall.db import Database
from mall.earning import activities, sheet, signups
from mall.org import communities
from mall.people import residents
from tests import support
from tests.browser.test_counter import session, signed_in
from tests.browser.test_reserving import PHONE
from tests.browser.test_staff_pages import ADMIN, call, community_with_staff, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from tests.browser.watched import WatchedPage

pytestmark = pytest.mark.browser

SLUG = "b-changes"


@dataclass
class Calls:
    staff: str
    resident: int
    later: int
    """Starts in three hours; the resident signed up."""
    now: int
    """Started ten minutes ago; the resident and 钱大伯 are checked in."""
    neighbour: int


@pytest.fixture(scope="module")
def calls(live_server: str, live_database_url: str) -> Calls:
    url = live_database_url
    staff = community_with_staff(url, SLUG, "长青社区")

    async def work(db: Database) -> Calls:
        async with db.connection() as conn:
            cid = await conn.fetchval("SELECT id FROM mall_community WHERE slug = ?", SLUG)
            uid = await conn.fetchval("SELECT id FROM mall_user WHERE username = ?", staff)
        publisher = support.staff(uid, cid, SLUG, staff)
        await communities.grant_budget(db, ADMIN, SLUG, 1000, "", idempotency_key=SLUG)
        rid = (await residents.create_resident(db, ADMIN, SLUG, "孙阿姨", None, None)).id
        other = (await residents.create_resident(db, ADMIN, SLUG, "钱大伯", None, None)).id
        made = []
        for title, start in (
            ("重阳节包饺子", timedelta(hours=3)),
            ("清扫落叶", -timedelta(minutes=10)),
        ):
            starts = datetime.now(UTC) + start
            made.append(
                (
                    await activities.create_activity(
                        db,
                        publisher,
                        SLUG,
                        title=title,
                        path="adding_to_good",
                        points=10,
                        capacity=20,
                        starts_at=starts,
                        ends_at=starts + timedelta(hours=2),
                        place="社区活动室",
                    )
                ).id
            )
        await signups.sign_up(db, support.resident(rid, cid, SLUG), made[0])
        await sheet.record_attendance_by_name(db, publisher, made[1], [rid, other])
        return Calls(staff, rid, made[0], made[1], other)

    return call(url, work)


@pytest.fixture
def desk(browser: Browser, live_server: str, calls: Calls) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="zh-CN")
    page = context.new_page()
    sign_in(page, live_server, calls.staff)
    yield page
    context.close()


@pytest.fixture
def phone(
    browser: Browser, live_server: str, live_database_url: str, calls: Calls
) -> Iterator[WatchedPage]:
    token = session(live_database_url, resident_id=calls.resident)
    context, page = signed_in(browser, live_server, token, **PHONE)
    yield page
    context.close()


def test_staff_edit_and_cancel_a_call_and_the_phone_reads_it_cancelled(
    live_server: str, calls: Calls, desk: Page, phone: WatchedPage
) -> None:
    base = live_server
    desk.goto(f"{base}/staff/activities")
    later = desk.locator(f"li.activity-line:has(a[href='/staff/activities/{calls.later}'])")
    running = desk.locator(f"li.activity-line:has(a[href='/staff/activities/{calls.now}'])")
    assert later.locator(".tag").text_content() == "报名中"
    assert running.locator(".tag").text_content() == "进行中"

    # Before half an hour ahead of the start the screen says when its QR appears, and shows none.
    desk.goto(f"{base}/staff/activities/{calls.later}/screen")
    assert desk.is_visible("text=签到二维码将于")
    assert desk.locator("#checkin-qr svg").count() == 0
    desk.goto(f"{base}/staff/activities/{calls.now}/screen")
    assert desk.is_visible("#checkin-qr .qr svg")

    desk.goto(f"{base}/staff/activities/{calls.later}")
    desk.click("text=修改活动")
    desk.wait_for_url(f"{base}/staff/activities/{calls.later}/edit")
    assert desk.input_value("#f-title") == "重阳节包饺子"
    desk.fill("#f-place", "社区食堂")
    desk.click("main button[type=submit]")
    desk.wait_for_url(f"{base}/staff/activities/{calls.later}")
    assert desk.is_visible("dd >> text=社区食堂")

    phone.goto(f"{base}/me/activities/{calls.later}")
    assert phone.is_visible("dd >> text=社区食堂")  # the resident reads the new place

    desk.click("text=取消活动")
    desk.wait_for_url(f"{base}/staff/activities/{calls.later}/cancel")
    assert desk.is_visible("text=已有 1 位居民报名")
    desk.fill("#f-reason", "暴雨预警，改期再办")
    desk.click("button:has-text('确认取消活动')")
    desk.wait_for_url(f"{base}/staff/activities/{calls.later}")
    assert desk.is_visible("text=此活动已取消")
    assert not desk.is_visible("text=修改活动")

    phone.goto(f"{base}/me/activities")
    line = phone.locator(f"li.activity-line:has(a[href='/me/activities/{calls.later}'])")
    assert line.locator(".tag", has_text="活动已取消").count() == 1
    line.locator("a").click()
    phone.wait_for_url(f"{base}/me/activities/{calls.later}")
    assert phone.is_visible("text=社区已取消此活动，不用前往了。")
    assert not phone.is_visible("button:has-text('取消报名')")
    assert phone.console_errors == []


def test_staff_remove_a_wrong_check_in_before_settlement_only(
    live_server: str, calls: Calls, desk: Page
) -> None:
    base = live_server
    desk.goto(f"{base}/staff/activities/{calls.now}")
    assert desk.is_visible("#attendance >> text=已签到：2")
    desk.click("summary:has-text('移除钱大伯的签到')")
    desk.click("button:has-text('确认移除钱大伯的签到')")
    desk.wait_for_url(re.compile(rf"{re.escape(base)}/staff/activities/{calls.now}\?removed=\d+"))
    assert desk.is_visible("text=已移除钱大伯的签到。")
    assert desk.is_visible("#attendance >> text=已签到：1")

    desk.click("text=结算：发放积分")
    desk.click("button:has-text('确认发放 10 分')")
    desk.wait_for_url(f"{base}/staff/activities/{calls.now}")
    assert desk.is_visible("text=已结算：1 人共获得 10 分。")
    assert not desk.is_visible("text=移除签错的记录")
    assert desk.locator("dd", has_text="已结算").count() == 1
