"""A building head (楼栋长) on a 360 px phone in a real Chromium follows the link from /head to
their proposals and reads what became of each: 待审批, 已通过, 未通过 with the staff member's reason;
another head's proposal is not there. The page fits the phone and its targets are big enough.
Its community is its own (``head_town``) on the session's shared live database."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.browser.test_accessibility import measure, serious_violations
from tests.browser.test_staff_pages import call
from tests.web.test_head_proposals import PASSWORD, head_town

if TYPE_CHECKING:
    from tests.browser.watched import WatchedPage

pytestmark = pytest.mark.browser


def test_a_building_head_reads_their_proposals_on_a_phone(
    phone: WatchedPage, live_server: str, live_database_url: str
) -> None:
    town = call(live_database_url, lambda db: head_town(db, "head-proposals-town"))
    phone.goto(f"{live_server}/sign-in")
    phone.fill("input[name=username]", town.head.username)
    phone.fill("input[name=password]", PASSWORD)
    phone.click("button[type=submit]")
    phone.wait_for_url(f"{live_server}/head")
    phone.click("[data-my-proposals]")
    phone.wait_for_url(f"{live_server}/head/proposals")
    shown = phone.eval_on_selector_all(
        "[data-proposal]",
        "els => els.map(e => [e.dataset.proposal, e.querySelector('[data-proposal-status]').innerText])",
    )
    assert shown == [
        [str(town.awards["waiting"]), "待审批"],
        [str(town.awards["rejected"]), "未通过"],
        [str(town.awards["approved"]), "已通过"],
    ]
    reason = phone.text_content(
        f"[data-proposal='{town.awards['rejected']}'] [data-proposal-reason]"
    )
    assert "重复申报" in (reason or "")
    text = phone.inner_text("main")
    assert "吴*姨" in text and "郑*爷" not in text and "别人的提议" not in text
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 360
    assert serious_violations(phone) == []
    assert measure(phone, 44)["small"] == []
    assert phone.console_errors == []
