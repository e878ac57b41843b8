"""The public notice in a real Chromium: a resident objects to an entry from the public page,
staff uphold the objection from their dashboard, and the public notice then shows the award as
reversed; no full name in any page the public sees, and no script errors."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from mall.db import Database
from mall.earning import awards, rules
from mall.org import communities
from mall.people import auth, residents
from tests import support
from tests.browser.test_staff_pages import ADMIN, call, community_with_staff, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Browser

    from tests.browser.watched import WatchedPage

pytestmark = pytest.mark.browser


def test_a_resident_objects_staff_uphold_and_the_notice_shows_the_award_reversed(
    live_server: str, live_database_url: str, browser: Browser, phone: WatchedPage
) -> None:
    url, slug = live_database_url, "b-notice"
    staff = community_with_staff(url, slug, "公示社区")

    async def work(db: Database) -> str:
        async with db.connection() as conn:
            row = await conn.fetchrow(
                "SELECT u.id, u.community FROM mall_user u WHERE u.username = ?", staff
            )
        assert row is not None
        awarded = await residents.create_resident(db, ADMIN, slug, "张晓明", "13900007777", None)
        objector = await residents.create_resident(db, ADMIN, slug, "钱多多", None, None)
        await communities.grant_budget(db, ADMIN, slug, 500, "", idempotency_key="b-notice")
        await rules.create_rule(db, ADMIN, slug, "meeting", "议事会参会", "adding_to_good", 10)
        maker = support.staff(row["id"], row["community"], slug, staff)
        await awards.create_award(
            db, maker, slug, "meeting", [awarded.id], "参加议事会", idempotency_key="b-notice"
        )
        async with db.transaction() as conn:
            return await auth.create_session(
                conn, "resident", resident_id=objector.id, ttl=auth.RESIDENT_SESSION
            )

    token = call(url, work)
    phone.context.add_cookies([{"name": "mall_session", "value": token, "url": live_server}])
    phone.goto(f"{live_server}/c/{slug}/notice")
    assert "张**" in (phone.text_content("main") or "")
    assert "张晓明" not in phone.content() and "13900007777" not in phone.content()
    phone.click("main a:has-text('提出异议')")
    phone.wait_for_url(re.compile(r".*/notice/\d+/object$"))
    phone.fill("#f-reason", "那天他没来开会")
    phone.click("main button[type=submit]")
    phone.wait_for_url(f"{live_server}/me/objections")
    assert "等待答复" in (phone.text_content("main") or "")

    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="zh-CN")
    desk = context.new_page()
    try:
        sign_in(desk, live_server, staff)
        desk.goto(f"{live_server}/staff/earning")
        desk.locator("main a[href^='/staff/objections/']").first.click()
        desk.wait_for_url(re.compile(r".*/staff/objections/\d+$"))
        desk.fill("#f-reply", "核实属实，已撤销")
        desk.click("button[value=uphold]")
        desk.wait_for_url(re.compile(r".*/staff/objections/\d+$"))
        assert "异议成立" in (desk.text_content("main") or "")
    finally:
        context.close()

    public = browser.new_context(locale="zh-CN")
    try:
        page = public.new_page()
        page.goto(f"{live_server}/c/{slug}/notice")
        entry = page.locator("li.reversed")
        assert entry.count() == 1 and "已撤销" in (entry.text_content() or "")
        assert "张晓明" not in page.content()
    finally:
        public.close()
    phone.goto(f"{live_server}/me/objections")
    assert "核实属实，已撤销" in (phone.text_content("main") or "")
    assert phone.console_errors == []
