"""The resident's pay code on a 360-px phone (issue #19): the screen kept awake and a brightness
hint, an offline pay code when the network is gone that the counter accepts (and no code once
the offline windows ran out), and re-scanning one's own activation paper."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

import ledger
from mall.db import Database
from mall.org import communities, points
from mall.people import auth, residents
from tests import support
from tests.browser.test_staff_pages import call
from tests.shop_fixtures import open_outlet, stock_items, user

if TYPE_CHECKING:
    from tests.browser.watched import WatchedPage

pytestmark = pytest.mark.browser

ADMIN = support.admin("phone-a")
SLUG = "b-pay-code"

#: a stand-in for the Wake Lock API (headless Chromium refuses the real one): it records each
#: request, and the test plays the browser dropping the lock when the page is hidden
FAKE_WAKE_LOCK = """
(() => {
  window.__locks = [];
  let visibility = "visible";
  Object.defineProperty(document, "visibilityState", { get: () => visibility });
  window.__hide = () => {
    visibility = "hidden";
    for (const lock of window.__locks) lock.drop();
    document.dispatchEvent(new Event("visibilitychange"));
  };
  window.__show = () => {
    visibility = "visible";
    document.dispatchEvent(new Event("visibilitychange"));
  };
  Object.defineProperty(navigator, "wakeLock", { value: {
    request: async (type) => {
      const lock = new EventTarget();
      lock.type = type;
      lock.released = false;
      lock.drop = () => {
        if (!lock.released) { lock.released = true; lock.dispatchEvent(new Event("release")); }
      };
      lock.release = async () => lock.drop();
      window.__locks.push(lock);
      return lock;
    },
  } });
})();
"""


async def token_of(db: Database, username: str, role: str, community_id: int) -> str:
    """A bearer token of a new user of the community (the server signs codes with its own key,
    so the tests ask it over the API, as a counter would)."""
    made = await user(db, username, role, community_id, SLUG)
    async with db.transaction() as conn:
        return await auth.create_session(conn, "api", user_id=made.user_id, ttl=auth.API_TOKEN)


@pytest.fixture(scope="module")
def community(live_database_url: str) -> dict[str, Any]:
    """The community, with a supermarket, soap on its shelf, a volunteer's and a staff
    member's bearer tokens."""

    async def make(db: Database) -> dict[str, Any]:
        made = await communities.create_community(db, ADMIN, SLUG, "和睦社区")
        await communities.grant_budget(db, ADMIN, SLUG, 10_000, "", idempotency_key=SLUG)
        async with db.connection() as conn:
            book = await conn.fetchval("SELECT book FROM mall_community WHERE slug = ?", SLUG)
        outlet = await open_outlet(db, made.id, book, "和睦积分超市")
        await stock_items(db, made.id, outlet)
        return {
            "book": book,
            "outlet": outlet,
            "volunteer": await token_of(db, "pay-code-vol", "volunteer", made.id),
            "staff": await token_of(db, "pay-code-staff", "staff", made.id),
        }

    return call(live_database_url, make)


def resident(
    live_server: str, url: str, community: dict[str, Any], name: str, pts: int
) -> tuple[int, str]:
    """A resident with ``pts`` points and an unused activation paper: ``(id, its path)``."""

    async def make(db: Database) -> int:
        rid = (await residents.create_resident(db, ADMIN, SLUG, name, None, None)).id
        async with db.transaction() as conn:
            await ledger.post_journal(
                conn,
                community["book"],
                "award",
                [(points.BUDGET, -pts), (points.wallet(rid), pts)],
                idempotency_key=f"pay-code:{rid}",
                path="adding_to_good",
                memo="清理楼道",
            )
        return rid

    rid = call(url, make)
    paper = httpx.post(
        f"{live_server}/api/v1/residents/{rid}/activation",
        headers={"Authorization": f"Bearer {community['staff']}"},
    )
    assert paper.status_code == 201, paper.text
    return rid, f"/a/{paper.json()['code']}"


def activate(phone: WatchedPage, live_server: str, paper: str) -> None:
    phone.goto(f"{live_server}{paper}")
    phone.click("button:has-text('在这部手机上使用')")
    phone.wait_for_url(f"{live_server}/me")


def counter_pays(live_server: str, community: dict[str, Any], digits: str, key: str) -> Any:
    """A volunteer at the counter types the code in: the server's answer."""
    return httpx.post(
        f"{live_server}/api/v1/outlets/{community['outlet']}/orders",
        headers={"Authorization": f"Bearer {community['volunteer']}", "Idempotency-Key": key},
        json={"code": digits, "lines": [{"sku": "soap", "quantity": 1}]},
    )


def test_re_scanning_ones_own_activation_paper_opens_my_points(
    live_server: str, live_database_url: str, community: dict[str, Any], phone: WatchedPage
) -> None:
    _, paper = resident(live_server, live_database_url, community, "周淑兰", 20)
    activate(phone, live_server, paper)
    phone.goto(f"{live_server}{paper}")  # the same paper, scanned again on the same phone
    phone.wait_for_url(f"{live_server}/me?activated=1")
    assert "已激活" in (phone.text_content("#activated") or "")
    assert phone.is_visible("#snapshot .balance-figure")
    assert phone.locator(".error").count() == 0
    # another phone scanning the used paper is still refused, clearly
    other = phone.context.browser.new_context(locale="zh-CN")  # type: ignore[union-attr]
    try:
        stranger = other.new_page()
        stranger.goto(f"{live_server}{paper}")
        assert stranger.url == f"{live_server}{paper}"
        assert stranger.is_visible("h1 >> text=这个二维码不能使用")
        assert stranger.is_visible(".error")
        assert stranger.locator("#activated").count() == 0
    finally:
        other.close()
    assert phone.console_errors == []


def test_the_pay_page_keeps_the_screen_awake_and_asks_for_a_bright_screen(
    live_server: str, live_database_url: str, community: dict[str, Any], phone: WatchedPage
) -> None:
    phone.add_init_script(FAKE_WAKE_LOCK)
    _, paper = resident(live_server, live_database_url, community, "吴国华", 20)
    activate(phone, live_server, paper)
    assert phone.evaluate("window.__locks.length") == 0  # not on the balance page
    phone.click("text=出示付款码")
    phone.wait_for_url(f"{live_server}/me/pay")
    assert phone.is_visible("text=请调亮屏幕")
    phone.wait_for_function("() => window.__locks.length === 1")
    assert phone.evaluate("window.__locks[0].type") == "screen"
    phone.evaluate("window.__hide()")  # the browser drops the lock while the page is hidden
    phone.evaluate("window.__show()")
    phone.wait_for_function("() => window.__locks.length === 2 && !window.__locks[1].released")
    phone.click("main a.button.secondary[href='/me/pay']")  # a fresh pay page: one lock held
    phone.wait_for_url(f"{live_server}/me/pay")
    phone.wait_for_timeout(300)
    assert phone.evaluate("window.__locks.filter((l) => !l.released).length") == 1
    phone.click("nav a[href='/me']")  # leaving the pay page lets the screen sleep
    phone.wait_for_url(f"{live_server}/me")
    phone.wait_for_function("() => window.__locks.every((l) => l.released)")
    assert phone.console_errors == []


def test_offline_the_pay_page_shows_an_offline_code_the_counter_accepts_until_they_run_out(
    live_server: str, live_database_url: str, community: dict[str, Any], phone: WatchedPage
) -> None:
    phone.clock.install()
    _, paper = resident(live_server, live_database_url, community, "郑玉梅", 30)
    activate(phone, live_server, paper)
    phone.goto(f"{live_server}/me/pay")
    phone.wait_for_function(
        "() => (JSON.parse(localStorage.getItem('mall.offline') || 'null') || {codes: []})"
        ".codes.length === 10"
    )
    kept = phone.evaluate("JSON.parse(localStorage.getItem('mall.offline')).codes")
    assert phone.is_hidden("#offline-pay")

    phone.context.set_offline(True)
    phone.clock.fast_forward("00:04")  # the page's next request fails
    phone.wait_for_selector("#offline-pay:not([hidden])")
    assert "无网络，离线付款码" in (phone.text_content("#offline-pay h2") or "")
    assert phone.is_hidden("#paycode")  # the online code is not shown as if it still held
    shown = phone.text_content("[data-offline-digits]")
    assert shown is not None and shown == kept[0]["digits"]
    assert phone.is_visible("[data-offline-qr] svg")
    left = phone.text_content("[data-offline-left]") or ""
    assert left.startswith(("2:", "3:"))

    typed = shown.replace(" ", "")
    receipt = counter_pays(live_server, community, typed, "offline-1")
    assert receipt.status_code == 201, receipt.text
    assert receipt.json()["total"] == 3 and receipt.json()["balance_after"] == 27
    again = counter_pays(live_server, community, typed, "offline-2")  # the same code again
    assert again.status_code == 409 and again.json()["code"] == "code_used"

    phone.clock.fast_forward("03:00")  # the next window: the next code
    phone.wait_for_function(
        "d => document.querySelector('[data-offline-digits]').textContent === d",
        arg=kept[1]["digits"],
    )
    phone.clock.fast_forward("30:00")  # every window has ended: no code at all, said plainly
    phone.wait_for_selector("[data-offline-none]:not([hidden])")
    assert phone.is_hidden("[data-offline-code]")
    assert phone.locator("[data-offline-qr] svg").count() == 0
    assert (phone.text_content("[data-offline-digits]") or "") == ""
    assert phone.is_hidden("#paycode")
    phone.context.set_offline(False)


def test_opened_without_network_the_offline_page_shows_the_offline_code(
    live_server: str, live_database_url: str, community: dict[str, Any], phone: WatchedPage
) -> None:
    _, paper = resident(live_server, live_database_url, community, "冯建军", 10)
    activate(phone, live_server, paper)
    phone.wait_for_function(
        "async () => { await navigator.serviceWorker.ready; "
        "return navigator.serviceWorker.controller !== null; }"
    )
    phone.wait_for_function("() => localStorage.getItem('mall.offline') !== null")
    kept = phone.evaluate("JSON.parse(localStorage.getItem('mall.offline')).codes")
    phone.context.set_offline(True)
    phone.goto(f"{live_server}/me/pay")
    assert phone.text_content("h1") == "现在没有连上网络"
    phone.wait_for_selector("#offline-pay:not([hidden])")
    assert phone.text_content("[data-offline-digits]") == kept[0]["digits"]
    assert phone.is_visible("[data-offline-qr] svg")
    phone.context.set_offline(False)


def test_a_refunded_order_reads_as_a_refund_in_the_passbook(
    live_server: str, live_database_url: str, community: dict[str, Any], phone: WatchedPage
) -> None:
    _, paper = resident(live_server, live_database_url, community, "陈桂芳", 20)
    activate(phone, live_server, paper)
    phone.goto(f"{live_server}/me/pay")
    digits = (phone.text_content("[data-digits]") or "").replace(" ", "")
    paid = counter_pays(live_server, community, digits, "refund-1")
    assert paid.status_code == 201, paid.text
    refund = httpx.post(
        f"{live_server}/api/v1/orders/{paid.json()['id']}/refund",
        headers={"Authorization": f"Bearer {community['staff']}", "Idempotency-Key": "r-1"},
    )
    assert refund.status_code == 201, refund.text
    phone.goto(f"{live_server}/me/passbook")
    entries = phone.text_content("ol.passbook") or ""
    assert "退款" in entries and "更正" not in entries
    assert phone.console_errors == []
