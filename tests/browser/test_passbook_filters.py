"""The passbook by month and earning path on a 360-px phone (issue #19): the resident picks a path
and a month and reads that month's entries with what was earned, spent and the net."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

import ledger
from mall import days
from mall.db import Database
from mall.org import communities, points
from mall.people import residents
from tests.browser.test_counter import session, signed_in
from tests.browser.test_reserving import PHONE
from tests.browser.test_staff_pages import ADMIN, call

if TYPE_CHECKING:
    from playwright.sync_api import Browser

    from tests.browser.watched import WatchedPage

pytestmark = pytest.mark.browser

SLUG = "b-passbook"


@pytest.fixture
def phone(browser: Browser, live_server: str, live_database_url: str) -> Iterator[WatchedPage]:
    """A resident with 20 points of 雪中送炭 and 15 of 锦上添花 this month, 8 spent on goods."""

    async def work(db: Database) -> int:
        await communities.create_community(db, ADMIN, SLUG, "存折社区")
        await communities.grant_budget(db, ADMIN, SLUG, 1000, "", idempotency_key=SLUG)
        rid = (await residents.create_resident(db, ADMIN, SLUG, "周奶奶", None, None)).id
        async with db.transaction() as conn:
            book = await conn.fetchval("SELECT book FROM mall_community WHERE slug = ?", SLUG)
            for n, (path, amount, memo) in enumerate(
                (("timely_help", 20, "帮扶困难户"), ("adding_to_good", 15, "清理楼道"))
            ):
                await ledger.post_journal(
                    conn,
                    book,
                    "award",
                    [(points.BUDGET, -amount), (points.wallet(rid), amount)],
                    idempotency_key=f"{SLUG}:{n}",
                    path=path,
                    memo=memo,
                )
            await ledger.post_journal(
                conn,
                book,
                "adjustment",
                [(points.wallet(rid), -8), (points.BUDGET, 8)],
                idempotency_key=f"{SLUG}:spent",
                memo="兑换香皂",
            )
        return rid

    rid = call(live_database_url, work)
    context, page = signed_in(
        browser, live_server, session(live_database_url, resident_id=rid), **PHONE
    )
    yield page
    context.close()


def test_resident_filters_the_passbook_by_path_and_month_with_totals(
    live_server: str, phone: WatchedPage
) -> None:
    base = live_server
    phone.goto(f"{base}/me/passbook")
    phone.click("text=按月份和途径查看")
    phone.wait_for_url(f"{base}/me/passbook/months")
    assert phone.text_content("[data-earned]") == "+35"
    assert phone.text_content("[data-spent]") == "−8"
    assert phone.text_content("[data-net]") == "+27"
    assert phone.locator("li.entry").count() == 3

    phone.select_option("#f-path", "timely_help")
    phone.click("button:has-text('查看')")
    phone.wait_for_url(f"{base}/me/passbook/months?month=*&path=timely_help")
    assert phone.locator("li.entry").count() == 1
    assert phone.is_visible("li.entry >> text=帮扶困难户")
    assert phone.text_content("[data-earned]") == "+20"
    assert phone.text_content("[data-net]") == "+20"

    last = (days.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    phone.select_option("#f-month", last)
    phone.select_option("#f-path", "")
    phone.click("button:has-text('查看')")
    phone.wait_for_url(f"{base}/me/passbook/months?month={last}&path=")
    assert phone.locator("li.entry").count() == 0
    assert phone.text_content("[data-net]") == "+0"
    assert phone.console_errors == []
