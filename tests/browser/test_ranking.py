"""Volunteer hours and the ranking on a 360-px phone in a real Chromium (issue #20): the resident
sees this year's hours on their page, opts in from settings, and finds themselves masked on the
community's ranking, which fits the screen and shows nobody who did not opt in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from mall.db import Database
from mall.earning import activities, checkin, sheet
from mall.org import communities
from mall.people import auth, residents
from tests import support
from tests.browser.test_accessibility import measure
from tests.browser.test_staff_pages import ADMIN, call, community_with_staff

if TYPE_CHECKING:
    from tests.browser.watched import WatchedPage

pytestmark = pytest.mark.browser


def test_a_resident_sees_their_hours_opts_in_and_appears_masked_on_the_ranking(
    live_server: str, live_database_url: str, phone: WatchedPage
) -> None:
    url, slug = live_database_url, "b-ranking"
    staff = community_with_staff(url, slug, "星光社区")

    async def work(db: Database) -> str:
        async with db.connection() as conn:
            row = await conn.fetchrow(
                "SELECT u.id, u.community FROM mall_user u WHERE u.username = ?", staff
            )
        assert row is not None
        maker = support.staff(row["id"], row["community"], slug, staff)
        await communities.grant_budget(db, ADMIN, slug, 500, "", idempotency_key="b-ranking")
        me = await residents.create_resident(db, ADMIN, slug, "欧阳秀英", "13900008888", None)
        other = await residents.create_resident(db, ADMIN, slug, "钱不上榜", None, None)
        starts = datetime.now(UTC) - timedelta(minutes=30)
        made = await activities.create_activity(
            db,
            maker,
            slug,
            title="敬老院陪护",
            path="timely_help",
            points=20,
            capacity=10,
            starts_at=starts,
            ends_at=starts + timedelta(hours=3),
            place="敬老院",
            hours_tenths=25,
        )
        await sheet.record_attendance_by_name(db, maker, made.id, [me.id, other.id])
        await checkin.settle(db, maker, made.id)
        async with db.transaction() as conn:
            return await auth.create_session(
                conn, "resident", resident_id=me.id, ttl=auth.RESIDENT_SESSION
            )

    token = call(url, work)
    phone.context.add_cookies([{"name": "mall_session", "value": token, "url": live_server}])
    phone.goto(f"{live_server}/me")
    home = phone.text_content("main") or ""
    assert "志愿时长" in home and "2.5 小时" in home
    assert measure(phone, 44)["width"] <= 360

    phone.goto(f"{live_server}/me/settings")
    assert "现在：不显示。" in (phone.text_content("main") or "")
    phone.click("main button:has-text('在积分榜上显示我')")
    phone.wait_for_url(f"{live_server}/me/settings")
    assert "现在：在积分榜上显示。" in (phone.text_content("main") or "")
    phone.click("main a:has-text('查看积分榜')")
    phone.wait_for_url(f"{live_server}/c/{slug}/ranking")
    board = phone.text_content("main") or ""
    assert "欧阳**" in board and "20 分" in board
    assert "欧阳秀英" not in phone.content() and "钱" not in phone.content()
    phone.click("main a:has-text('按志愿时长')")
    phone.wait_for_url(f"{live_server}/c/{slug}/ranking?by=hours")
    assert "2.5 小时" in (phone.text_content("main") or "")
    sizes = measure(phone, 44)
    assert sizes["width"] <= 360 and sizes["font"] >= 16
    assert phone.console_errors == []
