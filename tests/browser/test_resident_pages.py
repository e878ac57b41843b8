"""A resident's phone in a real Chromium: open the activation link, tap once, see the balance,
show a pay code that renews itself, scroll the passbook."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.browser.test_staff_pages import (
    community_with_staff,
    issue_activation,
    resident_with_points,
    sign_in,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from tests.browser.watched import WatchedPage

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def staff_desk(
    browser: Browser, live_server: str, live_database_url: str
) -> Iterator[tuple[Page, str]]:
    """Signed-in staff of community b-resident, to issue activation QRs: ``(page, db url)``."""
    url = live_database_url
    staff = community_with_staff(url, "b-resident", "幸福里社区")
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    sign_in(page, live_server, staff)
    yield page, url
    context.close()


def bound_phone(phone: Page, live_server: str, staff_desk: tuple[Page, str], awards: int) -> None:
    """The resident opens the activation link on the phone and taps the one button."""
    desk, url = staff_desk
    resident_id = resident_with_points(url, "b-resident", "王秀英", awards)
    phone.goto(issue_activation(desk, live_server, resident_id))
    assert phone.is_visible("h1 >> text=欢迎使用邻里积分超市")
    phone.click("button:has-text('在这部手机上使用')")
    phone.wait_for_url(f"{live_server}/me")


def test_resident_activates_sees_the_balance_and_a_pay_code_that_renews_itself(
    live_server: str, staff_desk: tuple[Page, str], phone: WatchedPage
) -> None:
    phone.clock.install()
    bound_phone(phone, live_server, staff_desk, awards=3)  # 10 + 11 + 12, 5 set aside
    assert phone.text_content("#snapshot .balance-figure") == "28"  # available (可用积分)
    assert phone.text_content("#snapshot [data-held]") == "5"
    assert phone.is_visible("#snapshot >> text=支出 −5")

    phone.click("text=出示付款码")
    phone.wait_for_url(f"{live_server}/me/pay")
    assert phone.is_visible("#paycode .qr svg")
    first = phone.text_content("[data-digits]")
    assert first is not None
    assert re.fullmatch(r"\d{4}( \d{4}){4}", first)

    phone.clock.fast_forward("00:46")
    phone.wait_for_function(
        "first => document.querySelector('[data-digits]').textContent !== first", arg=first
    )
    second = phone.text_content("[data-digits]")
    assert second is not None
    assert re.fullmatch(r"\d{4}( \d{4}){4}", second) and second != first
    assert phone.url == f"{live_server}/me/pay"
    assert phone.evaluate("() => document.querySelectorAll('#paycode').length") == 1
    assert phone.console_errors == []


def test_passbook_loads_older_entries_when_scrolled_to_the_end(
    live_server: str, staff_desk: tuple[Page, str], phone: WatchedPage
) -> None:
    bound_phone(phone, live_server, staff_desk, awards=24)  # and a hold: 25 entries
    phone.goto(f"{live_server}/me/passbook")
    assert phone.locator("li.entry").count() == 20
    phone.locator("li.more").scroll_into_view_if_needed()
    phone.wait_for_function("() => document.querySelectorAll('li.entry').length === 25")
    assert phone.locator("li.more").count() == 0
    oldest = phone.locator("li.entry").last.text_content()
    assert oldest is not None
    assert oldest.count("收入 +10") == 1
    assert phone.console_errors == []


def test_elder_mode_offered_on_first_visit_is_one_tap_and_sticks(
    live_server: str, staff_desk: tuple[Page, str], phone: WatchedPage
) -> None:
    bound_phone(phone, live_server, staff_desk, awards=1)
    assert phone.get_attribute("html", "class") == ""
    phone.click("button:has-text('使用长辈模式')")
    phone.wait_for_url(f"{live_server}/me")
    assert phone.get_attribute("html", "class") == "elder"
    assert not phone.is_visible("text=使用长辈模式")
    phone.goto(f"{live_server}/me/settings")
    phone.click("button:has-text('关闭长辈模式')")
    phone.wait_for_url(f"{live_server}/me/settings")
    assert phone.get_attribute("html", "class") == ""
