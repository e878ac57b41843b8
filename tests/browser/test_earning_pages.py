"""Issuing points in a real Chromium: residents ticked before a new search stay ticked (the page's
script), one award goes to all of them, and the page raises no script errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, cast

import pytest

from mall.db import Database
from mall.earning import rules
from mall.org import communities
from mall.people import residents
from tests.browser.test_staff_pages import ADMIN, call, community_with_staff, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Browser

    from tests.browser.watched import WatchedPage

pytestmark = pytest.mark.browser


@pytest.fixture
def desk(browser: Browser) -> Iterator[WatchedPage]:
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="zh-CN")
    page = cast("WatchedPage", context.new_page())
    page.console_errors = []
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    yield page
    context.close()


def test_ticks_survive_a_new_search_and_one_award_reaches_everyone_ticked(
    live_server: str, live_database_url: str, desk: WatchedPage
) -> None:
    url, slug = live_database_url, "b-earn"
    staff = community_with_staff(url, slug, "枫林社区")

    async def work(db: Database) -> None:
        for name in ("王秀英", "李建国", "张桂兰"):
            await residents.create_resident(db, ADMIN, slug, name, None, None)
        await communities.grant_budget(db, ADMIN, slug, 500, "", idempotency_key="b-earn")
        await rules.create_rule(db, ADMIN, slug, "meeting", "议事会参会", "adding_to_good", 10)

    call(url, work)
    sign_in(desk, live_server, staff)
    desk.click("nav >> text=发积分")
    desk.wait_for_url(f"{live_server}/staff/awards/new")
    desk.check("label.choice:has-text('王秀英') input")
    desk.fill("#f-q", "李")
    desk.click("form[role=search] button[type=submit]")
    desk.wait_for_url(re.compile(r".*q=%E6%9D%8E.*"))
    assert desk.is_checked("label.choice:has-text('王秀英') input")
    assert not desk.is_visible("label.choice:has-text('张桂兰')")
    desk.check("label.choice:has-text('李建国') input")
    desk.select_option("#f-rule", "meeting")
    desk.fill("#f-memo", "参加三月议事会")
    desk.click("#award-form button[type=submit]")
    desk.wait_for_url(re.compile(r".*/staff/awards/\d+$"))
    status = desk.text_content("[role=status]")
    assert status is not None
    assert "已发放" in status
    names = desk.locator(".people li").all_text_contents()
    assert sorted(n.strip() for n in names) == sorted(["王秀英", "李建国"])
    assert desk.console_errors == []


def test_a_mistaken_award_is_found_among_the_latest_and_reversed_with_a_reason(
    live_server: str, live_database_url: str, desk: WatchedPage
) -> None:
    url, slug = live_database_url, "b-undo"
    staff = community_with_staff(url, slug, "松柏社区")

    async def work(db: Database) -> int:
        made = await residents.create_resident(db, ADMIN, slug, "王秀英", None, None)
        await communities.grant_budget(db, ADMIN, slug, 500, "", idempotency_key="b-undo")
        await rules.create_rule(db, ADMIN, slug, "meeting", "议事会参会", "adding_to_good", 10)
        return made.id

    resident_id = call(url, work)
    sign_in(desk, live_server, staff)
    desk.goto(f"{live_server}/staff/awards/new")
    desk.check("label.choice:has-text('王秀英') input")
    desk.select_option("#f-rule", "meeting")
    desk.fill("#f-memo", "参加三月议事会")
    desk.click("#award-form button[type=submit]")
    desk.wait_for_url(re.compile(r".*/staff/awards/\d+$"))
    desk.goto(f"{live_server}/staff/approvals")
    desk.click(".recent-awards a:has-text('议事会参会')")
    desk.wait_for_url(re.compile(r".*/staff/awards/\d+$"))
    desk.click("main a.button:has-text('撤销')")
    desk.wait_for_url(re.compile(r".*/staff/awards/\d+/reverse$"))
    desk.fill("#f-reason", "记错了人")
    desk.click("main form button[type=submit]")
    desk.wait_for_url(re.compile(r".*/staff/awards/\d+$"))
    shown = desk.text_content("main") or ""
    assert "已撤销" in shown and "记错了人" in shown
    desk.goto(f"{live_server}/staff/residents/{resident_id}")
    assert "撤销：记错了人" in (desk.text_content("main") or "")
    assert desk.console_errors == []
