"""A resident's phone (360 px) in a real Chromium: the home screen shows the unread count, the
inbox shows staff's announcement as plain text (a ``<script>`` or ``<img onerror>`` in it runs
nothing), and the resident rates a resolved submission with the big star buttons."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from mall.db import Database
from mall.earning import submissions
from mall.notify import announcements
from mall.people import auth, residents
from tests import support
from tests.browser.test_accessibility import measure, serious_violations
from tests.browser.test_staff_pages import ADMIN, call, community_with_staff

if TYPE_CHECKING:
    from playwright.sync_api import Dialog

    from tests.browser.watched import WatchedPage

pytestmark = pytest.mark.browser

SLUG = "b-inbox"
TITLE = "停水通知<script>window.pwned = 1</script>"
BODY = '明天上午9点到12点停水。<img src=x onerror="window.pwned = 2">\n请提前储水。'


def test_a_resident_reads_an_announcement_and_rates_a_resolved_submission(
    live_server: str, live_database_url: str, phone: WatchedPage
) -> None:
    url = live_database_url
    community_with_staff(url, SLUG, "清泉社区")

    async def prepare(db: Database) -> tuple[str, int]:
        rid = (await residents.create_resident(db, ADMIN, SLUG, "王秀英", None, None)).id
        async with db.connection() as conn:
            cid = int(await conn.fetchval("SELECT id FROM mall_community WHERE slug = ?", SLUG))
        me = support.resident(rid, cid, SLUG)
        made = await submissions.file(db, me, "dispute", "楼道灯坏了", "三楼的灯不亮")
        await submissions.decide(db, ADMIN, made.id, "resolve", reason="已换新灯泡")
        await announcements.publish(db, ADMIN, SLUG, TITLE, BODY)
        async with db.transaction() as conn:
            token = await auth.create_session(
                conn, "resident", resident_id=rid, ttl=auth.RESIDENT_SESSION
            )
        return token, made.id

    token, sid = call(url, prepare)
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    phone.on("dialog", on_dialog)
    phone.context.add_cookies([{"name": "mall_session", "value": token, "url": live_server}])

    phone.goto(f"{live_server}/me")
    badge = phone.locator("a.inbox-link")
    assert badge.text_content() == "消息 （2 条新消息）"
    box = badge.bounding_box()
    assert box is not None and box["height"] >= 44
    badge.click()
    phone.wait_for_url(f"{live_server}/me/inbox")

    announcement = phone.locator("li.message[data-kind=announcement]")
    assert announcement.locator(".message-title").text_content() == TITLE
    assert announcement.locator(".message-body").inner_text() == BODY
    assert phone.evaluate("() => window.pwned") is None
    assert phone.locator("main script, main img").count() == 0
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 360

    with phone.expect_navigation():
        phone.click("button:has-text('全部标为已读')")
    assert phone.url == f"{live_server}/me/inbox"
    assert phone.locator("li.message.unread").count() == 0

    phone.click("li.message[data-kind=submission_resolved] a:has-text('评价办理情况')")
    phone.wait_for_url(f"{live_server}/me/submissions")
    form = phone.locator(f"form[action='/me/submissions/{sid}/rating']")
    four = form.locator("label:has(input[value='4'])")
    star_box = four.bounding_box()
    assert star_box is not None and star_box["height"] >= 44 and star_box["width"] >= 44
    four.click()
    assert form.locator("input[value='4']").is_checked()
    form.locator("textarea").fill("修得很快，谢谢")
    form.locator("button[type=submit]").click()
    phone.wait_for_url(f"{live_server}/me/submissions?rated={sid}")
    assert phone.is_visible("[role=status] >> text=谢谢您的评价！")
    assert phone.text_content(f"#s{sid} .rating-given") == "您的评价：4 星（满分 5 星）"
    assert phone.locator(f"form[action='/me/submissions/{sid}/rating']").count() == 0
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 360

    async def stars(db: Database) -> int | None:
        return (await submissions.get(db, ADMIN, sid)).stars

    assert call(url, stars) == 4
    assert dialogs == [] and phone.evaluate("() => window.pwned") is None
    assert phone.console_errors == []


@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
def test_the_inbox_and_the_rating_pass_axe_and_the_elder_friendly_sizes(
    live_server: str, live_database_url: str, phone: WatchedPage, elder: bool
) -> None:
    url = live_database_url
    slug = f"{SLUG}-{'elder' if elder else 'normal'}"
    community_with_staff(url, slug, "清泉社区")

    async def prepare(db: Database) -> str:
        rid = (await residents.create_resident(db, ADMIN, slug, "张桂兰", None, None)).id
        async with db.connection() as conn:
            cid = int(await conn.fetchval("SELECT id FROM mall_community WHERE slug = ?", slug))
        made = await submissions.file(db, support.resident(rid, cid, slug), "wish", "换灯泡", "")
        await submissions.decide(db, ADMIN, made.id, "resolve", reason="邻居已帮忙换好")
        await announcements.publish(db, ADMIN, slug, "社区义诊", "周六上午九点。")
        async with db.transaction() as conn:
            return await auth.create_session(
                conn, "resident", resident_id=rid, ttl=auth.RESIDENT_SESSION
            )

    token = call(url, prepare)
    cookies = [{"name": "mall_session", "value": token, "url": live_server}]
    if elder:
        cookies.append({"name": "elder", "value": "1", "url": live_server})
    phone.context.add_cookies(cookies)  # type: ignore[arg-type]
    for path in ("/me/inbox", "/me/submissions"):
        phone.goto(f"{live_server}{path}")
        assert serious_violations(phone) == [], path
        size = measure(phone, 60 if elder else 44)
        assert size["small"] == [], path
        assert size["width"] <= 360, path
