"""The street administrator in a real Chromium: signing in on a 360-px phone lands on the street
overview, whose figures read as labelled blocks without scrolling sideways, pass axe and keep
the tap targets; a budget grant from the phone; the same overview as a table at 1280 px."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from mall.db import Database
from mall.org import communities, overview
from mall.people import users
from tests.browser.test_accessibility import measure, serious_violations
from tests.browser.test_staff_pages import ADMIN, PASSWORD, call, resident_with_points

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from tests.browser.watched import WatchedPage

pytestmark = pytest.mark.browser

#: the display of the overview's first community row: a table row, or a block of figures
ROW_DISPLAY = "() => getComputedStyle(document.querySelector('.figures tbody tr')).display"
#: what a phone shows before each figure of the first row (CSS ``content``, from ``data-label``)
LABELS = """() => [...document.querySelectorAll('.figures tbody tr:first-child td')]
  .map(td => getComputedStyle(td, '::before').content)"""


def street_admin(url: str, username: str) -> None:
    """A street administrator, and community b-admin-a (a resident holds 10 + 11 points, 5 of
    them set aside) beside b-admin-b (granted 300, nothing issued)."""

    async def work(db: Database) -> None:
        await users.create_user_unchecked(db, username, PASSWORD, "admin", None)
        await communities.create_community(db, ADMIN, "b-admin-a", "春晖社区")
        await communities.create_community(db, ADMIN, "b-admin-b", "东篱社区")
        await communities.grant_budget(db, ADMIN, "b-admin-b", 300, "", idempotency_key="b")

    call(url, work)
    resident_with_points(url, "b-admin-a", "钱秀珍", awards=2)


def row_of(page: Page, name: str) -> list[str]:
    """The visible text of the figures in the overview's row for ``name``."""
    cells: list[str] = page.locator(".figures tr", has_text=name).locator("td").all_inner_texts()
    return [c.strip() for c in cells]


def total_row(url: str) -> list[str]:
    async def work(db: Database) -> list[str]:
        total = (await overview.street_overview(db, ADMIN)).total
        figures = (total.budget_left, total.issued, total.outstanding, total.overdue)
        return [f"{n:,}" for n in figures]

    return call(url, work)


@pytest.fixture
def wide(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    yield context.new_page()
    context.close()


def sign_in_as_admin(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/sign-in")
    page.fill("#f-username", username)
    page.fill("#f-password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/admin")


def test_street_admin_lands_on_the_overview_on_a_phone_and_grants_points(
    live_server: str, live_database_url: str, phone: WatchedPage
) -> None:
    url = live_database_url
    street_admin(url, "b-street-phone")
    sign_in_as_admin(phone, live_server, "b-street-phone")
    assert phone.text_content("h1") == "街道总览"
    assert phone.evaluate(ROW_DISPLAY) == "block"
    assert row_of(phone, "春晖社区") == ["9,979", "21", "21", "0"]
    assert phone.evaluate(LABELS) == ['"预算余额"', '"已发放"', '"居民持有"', '"超期未办"']
    assert row_of(phone, "东篱社区") == ["300", "0", "0", "0"]
    assert row_of(phone, "全街道合计") == total_row(url)
    sizes = measure(phone, 44)
    assert sizes["width"] <= 360, "the overview scrolls sideways at 360 px"
    assert sizes["small"] == [] and sizes["font"] >= 18
    problems = serious_violations(phone)

    phone.click("text=春晖社区")
    phone.wait_for_url(f"{live_server}/admin/communities/b-admin-a")
    phone.click("text=向预算拨付积分")
    phone.wait_for_url(f"{live_server}/admin/communities/b-admin-a/budget")
    problems += serious_violations(phone)
    budget_sizes = measure(phone, 44)
    phone.fill("#f-points", "1,000")
    phone.fill("#f-memo", "街道第二批")
    phone.click("main form[action$='/budget/grants'] button[type=submit]")
    phone.wait_for_url(f"{live_server}/admin/communities/b-admin-a/budget?granted=1000")
    assert phone.text_content("[role=status]") == "已完成：已拨付 1,000 积分。"
    assert phone.is_visible("text=街道第二批")
    phone.click("nav >> text=街道总览")
    phone.wait_for_url(f"{live_server}/admin")
    assert row_of(phone, "春晖社区") == ["10,979", "21", "21", "0"]
    assert problems == []
    assert budget_sizes["width"] <= 360 and budget_sizes["small"] == []
    assert phone.console_errors == []


def test_the_overview_is_a_table_at_a_desk(
    live_server: str, live_database_url: str, wide: Page
) -> None:
    street_admin_name = "b-street-desk"

    async def work(db: Database) -> None:
        await users.create_user_unchecked(db, street_admin_name, PASSWORD, "admin", None)

    call(live_database_url, work)
    sign_in_as_admin(wide, live_server, street_admin_name)
    assert wide.evaluate(ROW_DISPLAY) == "table-row"
    headers = [h.strip() for h in wide.locator(".figures thead th").all_inner_texts()]
    assert headers == ["社区", "预算余额", "已发放", "居民持有", "超期未办"]
    assert row_of(wide, "全街道合计") == total_row(live_database_url)
    assert wide.evaluate("() => document.documentElement.scrollWidth") <= 1280
