"""Staff pages in a real Chromium: sign in, find and register a resident, print an activation QR.

The helpers at the top (the live server's database, people made through ``mall`` services, a
staff sign-in) are shared by ``test_resident_pages`` and ``test_accessibility``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

import pytest

import ledger
from mall.db import Database, open_database
from mall.org import communities, points
from mall.people import residents, users
from tests import support

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

T = TypeVar("T")
PASSWORD = "browser staff password"
ADMIN = support.admin("b")


def call(url: str, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run ``work(db)`` on its own event loop in a thread (Playwright holds this thread's loop)."""

    async def run() -> T:
        db = open_database(url)
        try:
            return await work(db)
        finally:
            await db.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


def community_with_staff(url: str, slug: str, name: str) -> str:
    """A community and its staff member; returns the staff username."""

    async def work(db: Database) -> None:
        await communities.create_community(db, ADMIN, slug, name)
        await users.create_user_unchecked(db, f"{slug}-staff", PASSWORD, "staff", slug)

    call(url, work)
    return f"{slug}-staff"


def resident_with_points(url: str, slug: str, name: str, awards: int) -> int:
    """A resident with ``awards`` awards of 10, 11, 12, ... points and 5 of them set aside."""

    async def work(db: Database) -> int:
        rid = (await residents.create_resident(db, ADMIN, slug, name, None, None)).id
        await communities.grant_budget(db, ADMIN, slug, 10_000, "", idempotency_key=f"{rid}")
        async with db.transaction() as conn:
            book = await conn.fetchval("SELECT book FROM mall_community WHERE slug = ?", slug)
            for n in range(awards):
                await ledger.post_journal(
                    conn,
                    book,
                    "award",
                    [(points.BUDGET, -(10 + n)), (points.wallet(rid), 10 + n)],
                    idempotency_key=f"{rid}:award:{n}",
                    path="adding_to_good",
                    memo=f"响应招募令：清理楼道 {n}",
                )
            await ledger.place_hold(
                conn,
                book,
                points.wallet(rid),
                5,
                expires_at=datetime.now(UTC) + timedelta(days=3),
                idempotency_key=f"{rid}:hold",
                memo="预约：食用油一桶",
            )
        return rid

    return call(url, work)


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/sign-in")
    page.fill("#f-username", username)
    page.fill("#f-password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/staff/residents")


def issue_activation(page: Page, base: str, resident_id: int) -> str:
    """As signed-in staff: issue an activation QR (the server signs it) and read its URL."""
    page.goto(f"{base}/staff/residents/{resident_id}")
    page.click(f"form[action='/staff/residents/{resident_id}/activation'] button")
    page.wait_for_url(f"{base}/staff/residents/{resident_id}/activation")
    text = page.text_content(".code-text")
    assert text is not None
    return text.strip()


@pytest.fixture
def desk(browser: Browser) -> Iterator[Page]:
    """A staff member's desktop browser."""
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="zh-CN")
    yield context.new_page()
    context.close()


def test_staff_signs_in_registers_a_resident_and_prints_the_activation_qr(
    live_server: str, live_database_url: str, desk: Page
) -> None:
    url = live_database_url
    staff = community_with_staff(url, "b-staff", "和平社区")
    desk.goto(f"{live_server}/staff/residents")
    desk.wait_for_url(f"{live_server}/sign-in?next=/staff/residents")
    desk.fill("#f-username", staff)
    desk.fill("#f-password", "not the password")
    desk.click("main button[type=submit]")
    alert = desk.text_content("[role=alert]")
    assert alert is not None
    assert alert.strip() == "未完成： 用户名或密码不对。"
    assert desk.input_value("#f-username") == staff
    sign_in(desk, live_server, staff)
    desk.click("nav >> text=登记")
    desk.wait_for_url(f"{live_server}/staff/residents/new")
    desk.fill("#f-name", "赵淑芬")
    desk.fill("#f-phone", "13700000009")
    desk.click("main button[type=submit]")
    desk.wait_for_url(re.compile(r".*/staff/residents/\d+$"))
    assert desk.text_content("h1") == "赵淑芬"
    resident_id = int(desk.url.rsplit("/", 1)[1])

    printed = issue_activation(desk, live_server, resident_id)
    assert re.fullmatch(rf"{re.escape(live_server)}/a/A1[A-Z2-7]{{39}}", printed)
    assert desk.is_visible(".qr svg") and desk.is_visible("text=有效期到")
    assert desk.text_content("h1") == "赵*芬 的激活二维码"
    assert desk.is_visible("header.bar") and desk.is_visible("nav")

    desk.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")
    desk.click("button[data-print]")
    assert desk.evaluate("() => window.printed") == 1

    desk.emulate_media(media="print")
    assert not desk.is_visible("button[data-print]")
    assert not desk.is_visible("header.bar") and not desk.is_visible("nav")
    assert not desk.is_visible("text=重新发放激活二维码")
    assert desk.is_visible(".qr svg") and desk.is_visible(".code-text")
    qr_width = desk.evaluate(
        "() => document.querySelector('.qr svg').getBoundingClientRect().width"
    )
    assert qr_width > 250  # about 9 cm on paper
    desk.emulate_media(media="screen")
    assert desk.is_visible("header.bar")


def test_live_search_narrows_the_list_as_staff_type(
    live_server: str, live_database_url: str, desk: Page
) -> None:
    url = live_database_url
    staff = community_with_staff(url, "b-search", "长青社区")

    async def two(db: Database) -> None:
        await residents.create_resident(db, ADMIN, "b-search", "孙长林", "13600000001", None)
        await residents.create_resident(db, ADMIN, "b-search", "马秀兰", "13600000002", None)

    call(url, two)
    sign_in(desk, live_server, staff)
    assert desk.is_visible("#results >> text=孙长林") and desk.is_visible("#results >> text=马秀兰")
    desk.fill("#f-q", "秀兰")
    desk.wait_for_url(f"{live_server}/staff/residents?q=%E7%A7%80%E5%85%B0&grid=")
    desk.wait_for_selector("#results >> text=孙长林", state="detached")
    assert desk.is_visible("#results >> text=马秀兰")
    assert desk.evaluate("() => document.querySelectorAll('header.bar').length") == 1
