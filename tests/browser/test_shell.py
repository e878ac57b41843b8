"""The app shell in a real browser: it loads, htmx runs, the CSP lets nothing of ours break."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.browser.watched import WatchedPage

pytestmark = pytest.mark.browser


def test_home_page_loads_with_htmx_and_no_console_errors(
    live_server: str, phone: WatchedPage
) -> None:
    response = phone.goto(f"{live_server}/")
    assert response is not None
    assert response.status == 200
    assert phone.get_attribute("html", "lang") == "zh-Hans"
    assert phone.evaluate("() => window.htmx && window.htmx.version") == "2.0.11"
    assert phone.text_content("h1") == "邻里积分超市"
    body_size = phone.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
    assert body_size >= 18
    assert phone.console_errors == []


def test_unknown_page_shows_a_way_home(live_server: str, phone: WatchedPage) -> None:
    response = phone.goto(f"{live_server}/no-such-page")
    assert response is not None
    assert response.status == 404
    assert phone.console_errors == [
        "Failed to load resource: the server responded with a status of 404 (Not Found)"
    ]
    phone.click("text=返回首页")
    phone.wait_for_url(f"{live_server}/")
    assert phone.text_content("h1") == "邻里积分超市"
    assert len(phone.console_errors) == 1
