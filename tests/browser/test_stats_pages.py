"""The statistics page on a 360-px phone in a real Chromium: charts and their tables visible,
nothing wider than the screen, no script in any chart, no script errors, the warning in words."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from mall.db import Database
from mall.earning import awards, rules
from mall.org import communities
from mall.people import residents
from tests import support
from tests.browser.test_staff_pages import ADMIN, call, community_with_staff, sign_in

if TYPE_CHECKING:
    from tests.browser.watched import WatchedPage

pytestmark = pytest.mark.browser


def test_staff_read_charts_and_tables_on_a_phone_without_scrolling_sideways(
    live_server: str, live_database_url: str, phone: WatchedPage
) -> None:
    url, slug = live_database_url, "b-stats"
    staff = community_with_staff(url, slug, "统计社区")

    async def work(db: Database) -> None:
        async with db.connection() as conn:
            row = await conn.fetchrow(
                "SELECT id, community FROM mall_user WHERE username = ?", staff
            )
        assert row is not None
        await communities.grant_budget(db, ADMIN, slug, 1000, "", idempotency_key="b-stats")
        await rules.create_rule(
            db, ADMIN, slug, "help", "帮助行动不便的邻居买菜", "timely_help", 20
        )
        await rules.create_rule(db, ADMIN, slug, "meeting", "参加居民议事会", "adding_to_good", 10)
        maker = support.staff(row["id"], row["community"], slug, staff)
        people = [
            (await residents.create_resident(db, ADMIN, slug, name, None, None)).id
            for name in ("王秀英", "李建国", "赵大妈")
        ]
        await awards.create_award(db, maker, slug, "help", people, "买菜", idempotency_key="1")
        await awards.create_award(
            db, maker, slug, "meeting", people[:2], "议事", idempotency_key="2"
        )

    call(url, work)
    sign_in(phone, live_server, staff)
    phone.goto(f"{live_server}/staff/earning")
    phone.click("main a[href='/staff/stats']")
    phone.wait_for_url(f"{live_server}/staff/stats")
    phone.wait_for_selector("main svg.chart")
    charts = phone.locator("main svg.chart")
    assert charts.count() >= 5
    first = charts.first
    first.scroll_into_view_if_needed()
    assert first.is_visible()
    box = first.bounding_box()
    assert box is not None and 200 < box["width"] <= 360 and box["height"] > 50
    table = phone.locator("#s-paths table")
    table.scroll_into_view_if_needed()
    assert table.is_visible() and "60" in (table.text_content() or "")
    assert phone.locator("#s-paths svg.chart").is_visible()
    # residents hold 80 points and the shelves nothing: the warning says so in words
    assert "兑付能力不足" in (phone.text_content(".coverage-warning") or "")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert phone.evaluate("document.querySelectorAll('main svg script').length") == 0
    assert phone.console_errors == []
