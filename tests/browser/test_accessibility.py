"""Accessibility in a real Chromium at 360 px: axe-core finds no serious or critical violation on
any resident page (normal and elder mode) or on the staff sign-in and residents pages, and the
elder-friendly (适老化) sizes hold: body text, line height, tap targets, the balance."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import axe_playwright_python
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

AXE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
RESIDENT_PAGES = ("/me", "/me/pay", "/me/passbook", "/me/settings")

MEASURE = """
() => {
  const body = getComputedStyle(document.body);
  const small = [];
  for (const el of document.querySelectorAll('a, button, input:not([type=hidden])')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.height < MIN) small.push(`${el.outerHTML.slice(0, 90)}: ${box.height}px`);
  }
  const figure = document.querySelector('.balance-figure');
  return {
    font: parseFloat(body.fontSize),
    lineHeight: parseFloat(body.lineHeight) / parseFloat(body.fontSize),
    small,
    balance: figure ? parseFloat(getComputedStyle(figure).fontSize) : null,
    width: document.documentElement.scrollWidth,
  };
}
"""


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    page.evaluate(AXE)  # evaluated through DevTools, so the page's CSP does not stop it
    found = page.evaluate("async () => (await axe.run()).violations")
    return [
        f"{page.url}: {v['id']} ({v['impact']}): {[n['html'] for n in v['nodes']][:3]}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


def measure(page: Page, min_target: int) -> dict[str, Any]:
    sizes: dict[str, Any] = page.evaluate(MEASURE.replace("MIN", str(min_target)))
    return sizes


@pytest.fixture(scope="module")
def staff_desk(
    browser: Browser, live_server: str, live_database_url: str
) -> Iterator[tuple[Page, str]]:
    """Signed-in staff of community b-a11y: ``(page, db url)``."""
    url = live_database_url
    staff = community_with_staff(url, "b-a11y", "和谐社区")
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    sign_in(page, live_server, staff)
    yield page, url
    context.close()


@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
def test_every_resident_page_passes_axe_and_the_elder_friendly_sizes(
    live_server: str, staff_desk: tuple[Page, str], phone: WatchedPage, elder: bool
) -> None:
    desk, url = staff_desk
    if elder:
        phone.context.add_cookies([{"name": "elder", "value": "1", "url": live_server}])
    min_target = 60 if elder else 44
    resident_id = resident_with_points(url, "b-a11y", "张桂兰", awards=24)
    problems: list[str] = []

    phone.goto(issue_activation(desk, live_server, resident_id))
    pages = [phone.url]
    problems += serious_violations(phone)
    sizes = [measure(phone, min_target)]
    phone.click("button:has-text('在这部手机上使用')")
    phone.wait_for_url(f"{live_server}/me")
    for path in RESIDENT_PAGES:
        phone.goto(f"{live_server}{path}")
        pages.append(path)
        problems += serious_violations(phone)
        sizes.append(measure(phone, min_target))

    assert problems == []
    for path, size in zip(pages, sizes, strict=True):
        assert size["font"] >= (20 if elder else 18), path
        assert size["lineHeight"] >= 1.3, path
        assert size["small"] == [], path
        assert size["width"] <= 360, f"{path} scrolls sideways at 360 px"
    home = sizes[1]
    assert home["balance"] >= (30 if elder else 24)
    assert phone.get_attribute("html", "class") == ("elder" if elder else "")


def test_staff_sign_in_and_residents_pages_pass_axe(
    live_server: str, live_database_url: str, phone: WatchedPage
) -> None:
    staff = community_with_staff(live_database_url, "b-a11y-desk", "和睦社区")
    phone.goto(f"{live_server}/sign-in")
    problems = serious_violations(phone)
    assert measure(phone, 44)["small"] == []
    sign_in(phone, live_server, staff)
    problems += serious_violations(phone)
    size = measure(phone, 44)
    phone.goto(f"{live_server}/staff/volunteers")
    problems += serious_violations(phone)
    volunteers = measure(phone, 44)
    assert problems == []
    assert size["small"] == [] and size["font"] >= 18 and size["width"] <= 360
    assert volunteers["small"] == [] and volunteers["width"] <= 360
