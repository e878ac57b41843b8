"""A building head (楼栋长) on a 360 px phone in a real Chromium: signs in, sees only their
buildings' residents (their own record not tickable), ticks a neighbour who helped, and sends an
award that waits for staff; the page fits the phone and its targets are big enough."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from mall.db import Database
from mall.earning import rules
from mall.org import communities
from mall.people import residents, users
from tests.browser.test_accessibility import measure, serious_violations
from tests.browser.test_staff_pages import call
from tests.shop_fixtures import ADMIN

if TYPE_CHECKING:
    from tests.browser.watched import WatchedPage

pytestmark = pytest.mark.browser

SLUG = "head-town"
PASSWORD = "a long enough password"


def build(url: str) -> dict[str, int]:
    async def work(db: Database) -> dict[str, int]:
        await communities.create_community(db, ADMIN, SLUG, "楼长社区")
        await communities.grant_budget(db, ADMIN, SLUG, 1000, "", idempotency_key="head")
        await rules.create_rule(db, ADMIN, SLUG, "helped", "帮邻居办事", "timely_help", 5)

        async def resident(name: str, building: str) -> int:
            made = await residents.create_resident(
                db, ADMIN, SLUG, name, None, None, building=building, unit="2"
            )
            return made.id

        made = {
            "own": await resident("周楼长", "3"),
            "neighbour": await resident("吴阿姨", "3"),
            "elsewhere": await resident("郑大爷", "5"),
        }
        await users.create_user(
            db,
            ADMIN,
            "head-zhou",
            PASSWORD,
            "building_head",
            SLUG,
            resident_id=made["own"],
            buildings=["3"],
        )
        return made

    return call(url, work)


def awards(url: str) -> list[tuple[str, list[int]]]:
    async def work(db: Database) -> list[tuple[str, list[int]]]:
        async with db.connection() as conn:
            rows = await conn.fetch(
                "SELECT a.id, a.status FROM mall_award a JOIN mall_community c "
                "ON c.id = a.community WHERE c.slug = ? ORDER BY a.id",
                SLUG,
            )
            out = []
            for r in rows:
                lines = await conn.fetch(
                    "SELECT resident FROM mall_award_line WHERE award = ? ORDER BY id", r["id"]
                )
                out.append((r["status"], [int(x["resident"]) for x in lines]))
            return out

    return call(url, work)


def test_a_building_head_proposes_an_award_on_a_phone(
    phone: WatchedPage, live_server: str, live_database_url: str
) -> None:
    made = build(live_database_url)
    phone.goto(f"{live_server}/sign-in")
    phone.fill("input[name=username]", "head-zhou")
    phone.fill("input[name=password]", PASSWORD)
    phone.click("button[type=submit]")
    phone.wait_for_url(f"{live_server}/head")
    text = phone.inner_text("main")
    assert "吴阿姨" in text and "周楼长" in text and "郑大爷" not in text
    assert phone.is_disabled(f"input[value='{made['own']}']")
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 360
    assert serious_violations(phone) == []
    assert measure(phone, 44)["small"] == []

    phone.check(f"input[value='{made['neighbour']}']")
    phone.select_option("#f-rule", "helped")
    phone.fill("#f-memo", "帮独居老人取药")
    phone.click("button:has-text('提交给工作人员审核')")
    phone.wait_for_selector("[data-sent]")
    assert "审核通过后才发放积分" in (phone.text_content("[data-sent]") or "")
    assert awards(live_database_url) == [("pending_approval", [made["neighbour"]])]
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 360
    assert phone.console_errors == []
