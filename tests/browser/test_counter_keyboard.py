"""The counter with only a keyboard, in a real Chromium against a live server (issue #19). A USB
scanner is a keyboard: it types the code fast and presses Enter. Here: a whole checkout at
1280 px with Tab, typing and Enter for a pay code and for a printed card and its PIN; reload,
Back and a second tab after a look-up (post/redirect/get, never 405); a card's Enter moves to
the PIN box, a second scan there replaces the first, a wrong PIN says the tries left; a code
scanned into the item search starts the next resident; camera scanning without HTTPS says so;
the error page's 返回首页 leads back to the counter. At 360 px and at 1280 px.

These tests open a community of their own (``keyboard``) in the live database."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
import pytest

from mall.db import Database
from mall.org import communities
from mall.people import cards, residents
from tests.browser.conftest import CHROMIUM_ARGS, chromium_path
from tests.browser.test_counter import session, signed_in
from tests.browser.test_staff_pages import call
from tests.shop_fixtures import ADMIN, give, open_outlet, stock_items, user

pytestmark = pytest.mark.browser

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

    from tests.browser.watched import WatchedPage

SLUG = "keyboard"
OUTLET = "键盘积分超市"
WIDTHS = {"phone": {"width": 360, "height": 740}, "desk": {"width": 1280, "height": 800}}


@dataclass
class Desk:
    volunteer: int
    staff: int


@pytest.fixture(scope="module")
def desk_users(live_server: str, live_database_url: str) -> Desk:
    """A community with one supermarket (goods in 日用品, a haircut in 服务), a volunteer and a
    staff member there."""

    async def work(db: Database) -> Desk:
        community = await communities.create_community(db, ADMIN, SLUG, "键盘社区")
        await communities.grant_budget(db, ADMIN, SLUG, 10_000, "", idempotency_key="b:kbd")
        async with db.connection() as conn:
            book = await conn.fetchval("SELECT book FROM mall_community WHERE id = ?", community.id)
        outlet = await open_outlet(db, community.id, book, OUTLET)
        await stock_items(db, community.id, outlet)
        vol = await user(db, "kbd-vol", "volunteer", community.id, SLUG)
        staff = await user(db, "kbd-staff", "staff", community.id, SLUG)
        assert vol.user_id is not None and staff.user_id is not None
        return Desk(volunteer=int(vol.user_id), staff=int(staff.user_id))

    return call(live_database_url, work)


def new_resident(url: str, name: str, pts: int) -> int:
    async def work(db: Database) -> int:
        rid = (await residents.create_resident(db, ADMIN, SLUG, name, None, None)).id
        if pts:
            await give(db, SLUG, rid, pts)
        return int(rid)

    return call(url, work)


def pay_code(base: str, url: str, rid: int) -> str:
    """The 20 digits the resident's phone shows under the QR code."""
    page = httpx.get(f"{base}/me/pay", cookies={"mall_session": session(url, resident_id=rid)})
    page.raise_for_status()
    digits = re.search(r"data-digits>([\d ]+)<", page.text)
    assert digits is not None
    return digits.group(1).replace(" ", "")


def card(base: str, url: str, staff: int, rid: int, pin: str) -> str:
    """A printed card that pays, made on the staff's card page of the live server (which signs
    it with its own key) and read off the print; approved by the street when the resident
    holds points."""
    with httpx.Client(base_url=base, cookies={"mall_session": session(url, user_id=staff)}) as web:
        page = web.get(f"/staff/residents/{rid}/card")
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        made = web.post(
            f"/staff/residents/{rid}/card", data={"pin": pin, "_csrf_token": token.group(1)}
        )
        assert made.status_code == 303, made.text
        printed = web.get(made.headers["location"])
    number = re.search(r"<strong data-card-number>([A-Z0-9 ]+)</strong>", printed.text)
    assert number is not None

    async def approve(db: Database) -> None:
        state = await cards.card_of(db, ADMIN, rid)
        if state is not None and state.status == "pending_approval":
            await cards.approve_card(db, ADMIN, rid)

    call(url, approve)
    return number.group(1).replace(" ", "")


def column(url: str, sql: str, *args: object) -> object:
    async def work(db: Database) -> object:
        async with db.connection() as conn:
            return await conn.fetchval(sql, *args)

    return call(url, work)


def wrong_pins(url: str, rid: int) -> int:
    sql = "SELECT failed_pins FROM mall_code WHERE resident = ? AND kind = 'card' AND revoked_at IS NULL"
    return int(str(column(url, sql, rid)))


def orders_of(url: str, rid: int) -> int:
    return int(str(column(url, "SELECT COUNT(*) FROM mall_order WHERE resident = ?", rid)))


@pytest.fixture(params=list(WIDTHS))
def width(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def counter(
    browser: Browser, live_server: str, live_database_url: str, desk_users: Desk, width: str
) -> Iterator[WatchedPage]:
    """The volunteer's counter page at ``width``, the outlet chosen, the scan field focused."""
    context, page = signed_in(
        browser,
        live_server,
        session(live_database_url, user_id=desk_users.volunteer),
        viewport=WIDTHS[width],
    )
    at_counter(page, live_server)
    yield page
    assert page.console_errors == []
    context.close()


def at_counter(page: Page, base: str) -> None:
    page.goto(f"{base}/counter")
    if page.is_visible(f"button:has-text('{OUTLET}')"):
        page.click(f"button:has-text('{OUTLET}')")
    page.wait_for_selector("[data-scan-field]")


def focused(page: Page, selector: str) -> bool:
    return bool(page.evaluate("(s) => document.activeElement.matches(s)", selector))


def scanner(page: Page, text: str) -> None:
    """A USB scanner: the code typed fast into whatever has the focus, then Enter."""
    page.keyboard.type(text, delay=2)
    page.keyboard.press("Enter")


def tab_to(page: Page, selector: str, most: int = 60) -> None:
    """Tab until ``selector`` has the focus, as a volunteer without a mouse does."""
    for _ in range(most):
        if focused(page, selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def test_reload_back_and_a_second_tab_after_a_lookup_land_on_working_pages(
    counter: WatchedPage, live_server: str, live_database_url: str
) -> None:
    rid = new_resident(live_database_url, "周文华", 40)
    code = pay_code(live_server, live_database_url, rid)
    scanner(counter, code)
    counter.wait_for_selector("#who-title:has-text('周*华')")
    here = counter.url
    assert re.fullmatch(rf"{live_server}/counter/visits/[A-Za-z0-9_-]+", here), here
    assert code not in here
    counter.reload()
    counter.wait_for_selector("#who-title:has-text('周*华')")
    assert counter.text_content("[data-available]") == "40"
    second = counter.context.new_page()
    answer = second.goto(here)
    assert answer is not None and answer.status == 200
    assert second.is_visible("#who-title:has-text('周*华')")
    second.close()
    counter.go_back()
    counter.wait_for_selector("[data-scan-field]")
    assert "405" not in (counter.text_content("main") or "")
    counter.go_forward()
    counter.wait_for_selector("#who-title:has-text('周*华')")
    assert counter.text_content("[data-available]") == "40"


def test_the_error_pages_home_button_leads_back_to_the_counter(
    counter: WatchedPage, live_server: str
) -> None:
    counter.goto(f"{live_server}/counter/visits/no-such-visit-anywhere")
    counter.console_errors.clear()  # the 404 itself is logged by the browser
    counter.click("a.button:has-text('返回首页')")
    counter.wait_for_selector("[data-scan-field]")
    assert counter.url == f"{live_server}/counter"


def test_a_scanned_card_moves_to_the_pin_box_and_enter_there_confirms(
    counter: WatchedPage, live_server: str, live_database_url: str, desk_users: Desk
) -> None:
    rid = new_resident(live_database_url, "张桂兰", 30)
    code = card(live_server, live_database_url, desk_users.staff, rid, "2580")
    scanner(counter, code)
    assert focused(counter, "[data-pin-field]")  # the code is kept, the PIN comes next
    assert counter.input_value("[data-scan-field]") == code
    assert wrong_pins(live_database_url, rid) == 0
    counter.keyboard.type("1111")
    counter.keyboard.press("Enter")
    counter.wait_for_selector("text=密码不对。还可以再试 4 次。")
    assert focused(counter, "[data-pin-field]")  # the resident types it again
    counter.keyboard.type("2580")
    counter.keyboard.press("Enter")
    counter.wait_for_selector("#who-title:has-text('张*兰')")
    assert counter.text_content("[data-available]") == "30"
    assert wrong_pins(live_database_url, rid) == 0


def test_a_second_scan_that_lands_in_the_pin_box_replaces_the_first(
    counter: WatchedPage, live_server: str, live_database_url: str, desk_users: Desk
) -> None:
    first = new_resident(live_database_url, "孙桂芳", 10)
    second = new_resident(live_database_url, "钱玉兰", 20)
    third = new_resident(live_database_url, "吴建华", 25)
    first_card = card(live_server, live_database_url, desk_users.staff, first, "2580")
    second_card = card(live_server, live_database_url, desk_users.staff, second, "1357")
    scanner(counter, first_card)
    scanner(counter, second_card)  # the focus was in the PIN box: a scan, never a PIN
    assert counter.input_value("[data-scan-field]") == second_card
    assert counter.input_value("[data-pin-field]") == ""
    assert focused(counter, "[data-pin-field]")
    counter.keyboard.type("1357")
    counter.keyboard.press("Enter")
    counter.wait_for_selector("#who-title:has-text('钱*兰')")
    assert wrong_pins(live_database_url, first) == 0 and wrong_pins(live_database_url, second) == 0
    at_counter(counter, live_server)
    scanner(counter, first_card)
    scanner(counter, pay_code(live_server, live_database_url, third))  # a phone instead
    counter.wait_for_selector("#who-title:has-text('吴*华')")
    assert wrong_pins(live_database_url, first) == 0


def test_a_code_scanned_into_the_item_search_starts_the_next_resident(
    counter: WatchedPage, live_server: str, live_database_url: str
) -> None:
    first = new_resident(live_database_url, "郑秀珍", 15)
    second = new_resident(live_database_url, "冯志强", 35)
    scanner(counter, pay_code(live_server, live_database_url, first))
    counter.wait_for_selector("#who-title:has-text('郑*珍')")
    assert focused(counter, "[data-item-search]")
    scanner(counter, pay_code(live_server, live_database_url, second))
    counter.wait_for_selector("#who-title:has-text('冯*强')")
    assert counter.text_content("[data-available]") == "35"
    assert orders_of(live_database_url, first) == 0


def desk_checkout(page: Page, base: str, url: str, rid: int, scan: list[str], left: str) -> None:
    """Scan (and PIN), find soap by typing, Tab to its quantity, type 2, Enter; the receipt;
    Enter on 下一位 comes back to the scan field. Keyboard only, from the counter page."""
    page.goto(f"{base}/counter")
    page.wait_for_selector("[data-scan-field]")
    assert focused(page, "[data-scan-field]")
    for typed in scan:
        scanner(page, typed)
    page.wait_for_selector("[data-item-search]")
    assert focused(page, "[data-item-search]")
    page.keyboard.type("香皂")
    tab_to(page, "#q-soap")
    page.keyboard.type("2")
    assert page.text_content("[data-total]") == "6"
    page.keyboard.press("Enter")
    page.wait_for_selector("text=兑换成功，请把商品交给居民")
    assert page.is_visible("text=香皂 × 2")
    assert page.text_content("dt:text-is('剩余积分') + dd") == left
    assert focused(page, "[data-next]")
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-scan-field]")
    assert focused(page, "[data-scan-field]")
    assert orders_of(url, rid) == 1


@pytest.mark.parametrize("width", ["desk"], indirect=True)
@pytest.mark.parametrize("kind", ["pay code", "card and PIN"])
def test_a_whole_checkout_with_only_the_keyboard(
    counter: WatchedPage,
    live_server: str,
    live_database_url: str,
    desk_users: Desk,
    kind: str,
) -> None:
    rid = new_resident(live_database_url, f"键盘{'甲' if kind == 'pay code' else '乙'}居民", 50)
    if kind == "pay code":
        scan = [pay_code(live_server, live_database_url, rid)]
    else:
        scan = [card(live_server, live_database_url, desk_users.staff, rid, "2580"), "2580"]
    desk_checkout(counter, live_server, live_database_url, rid, scan, "44")


def insecure_counter(browser: Browser, base: str, url: str, volunteer: int) -> tuple[Browser, str]:
    """Chromium that reaches the live server by a LAN-like name over plain HTTP (not a secure
    context, unlike 127.0.0.1)."""
    port = base.rsplit(":", 1)[1]
    other = browser.browser_type.launch(
        executable_path=chromium_path(),
        args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP counter.lan 127.0.0.1"],
    )
    return other, f"http://counter.lan:{port}"


def test_camera_scanning_without_https_says_so_and_the_scanner_still_works(
    browser: Browser, live_server: str, live_database_url: str, desk_users: Desk, width: str
) -> None:
    other, lan = insecure_counter(browser, live_server, live_database_url, desk_users.volunteer)
    try:
        context: BrowserContext
        context, page = signed_in(
            other,
            lan,
            session(live_database_url, user_id=desk_users.volunteer),
            viewport=WIDTHS[width],
            permissions=["camera"],
        )
        at_counter(page, lan)
        assert page.evaluate("() => window.isSecureContext") is False
        note = page.locator("[data-camera-note]")
        assert note.is_visible() and "摄像头扫码需要 HTTPS" in (note.text_content() or "")
        assert page.is_hidden("[data-camera]")
        rid = new_resident(live_database_url, "陈淑珍", 12)
        scanner(page, pay_code(live_server, live_database_url, rid))
        page.wait_for_selector("#who-title:has-text('陈*珍')")
        context.close()
        # a secure page in a browser without a camera API says the same
        context, page = signed_in(
            browser,
            live_server,
            session(live_database_url, user_id=desk_users.volunteer),
            viewport=WIDTHS[width],
        )
        context.add_init_script(
            "Object.defineProperty(navigator, 'mediaDevices', {value: undefined});"
        )
        at_counter(page, live_server)
        assert page.evaluate("() => window.isSecureContext") is True
        assert page.is_visible("[data-camera-note]") and page.is_hidden("[data-camera]")
        context.close()
    finally:
        other.close()
