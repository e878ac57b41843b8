"""Elder mode (长辈版, issue #19) on every resident page, measured in a real Chromium at 360 px:
body text at least 18 pt (24 px), every tap target at least 60 × 60 px, nothing but taps, and
axe-core (wcag2a, wcag2aa) with no serious or critical violation in elder AND normal mode."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from mall.counter import reservations
from mall.db import Database
from mall.earning import activities, submissions
from mall.org import communities
from mall.people import residents
from tests.browser.test_accessibility import AXE
from tests.browser.test_counter import session, signed_in
from tests.browser.test_staff_pages import ADMIN, call
from tests.shop_fixtures import give, open_outlet, stock_items, user
from tests.support import resident

if TYPE_CHECKING:
    from playwright.sync_api import Browser

    from tests.browser.watched import WatchedPage

pytestmark = pytest.mark.browser

SLUG = "b-elder"
PAGES = (
    "/me",
    "/me/pay",
    "/me/passbook",
    "/me/passbook/months",
    "/me/reservations",
    "/me/reservations/new",
    "/me/shop",
    "/me/activities",
    "/me/inbox",
    "/me/submissions",
    "/me/submissions/new",
    "/me/settings",
    "/me/proxies",
    "/me/orders",
    f"/c/{SLUG}/ranking",
)  # and, with ids made by the fixture: a recruitment call, a reservation and its cancel question
# True inline links in running text that stay inline (selector → why). Keep it tiny.
INLINE_OK: dict[str, str] = {}

# Text: every visible element holding its own words, and every form control, at least MIN_FONT px.
# Targets: every visible a, button, input, select, textarea, summary, and label wrapping a control,
# at least MIN_TARGET × MIN_TARGET px; a control inside a label that is big enough is tapped through
# its label, so the label is measured for it. Off-screen and 1-px (visually hidden) things are skipped.
MEASURE = """
([minFont, minTarget, inlineOk]) => {
  const shown = el => {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') return null;
    if (box.width <= 1 || box.height <= 1 || box.right <= 0 || box.bottom <= 0) return null;
    return box;
  };
  const name = el => el.outerHTML.slice(0, 80);
  const small = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (['SCRIPT', 'STYLE', 'svg', 'title'].includes(el.tagName) || el.closest('svg')) continue;
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    // radio buttons and tick boxes hold no words: their label carries the text
    const control = el.matches(
      'input:not([type=hidden]):not([type=radio]):not([type=checkbox]), select, textarea, button');
    if (!own && !control) continue;
    if (!shown(el)) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < minFont) small.push(`${name(el)}: ${size}px`);
  }
  const tiny = [];
  const targets = 'a[href], button, input:not([type=hidden]), select, textarea, summary, label';
  for (const el of document.body.querySelectorAll(targets)) {
    if (el.matches('label') && !el.querySelector('input, select, textarea')) continue;
    if (inlineOk.some(s => el.matches(s))) continue;
    const box = shown(el);
    if (!box) continue;
    const label = el.closest('label');
    if (label && label !== el) {
      const outer = label.getBoundingClientRect();
      if (outer.width >= minTarget && outer.height >= minTarget) continue;
    }
    if (box.width < minTarget || box.height < minTarget)
      tiny.push(`${name(el)}: ${Math.round(box.width)}×${Math.round(box.height)}`);
  }
  return {small, tiny, width: document.documentElement.scrollWidth};
}
"""


# No gesture beyond a tap: no page listens for swipes, drags, long presses, double taps or pinches.
GESTURES = [
    "touchstart",
    "touchmove",
    "touchend",
    "pointerdown",
    "pointermove",
    "pointerup",
    "dblclick",
    "contextmenu",
    "wheel",
    "dragstart",
    "drop",
    "gesturestart",
]
LISTEN = """
window.__listened = [];
const add = EventTarget.prototype.addEventListener;
EventTarget.prototype.addEventListener = function (type, ...rest) {
  window.__listened.push(type);
  return add.call(this, type, ...rest);
};
"""
GESTURE_MARKUP = (
    "[draggable=true], [ontouchstart], [ontouchmove], [ondblclick], [oncontextmenu], "
    "[hx-trigger*=touch], [hx-trigger*=dblclick], [hx-trigger*=contextmenu]"
)


def serious_violations(page: WatchedPage) -> list[str]:
    """axe-core's serious and critical WCAG 2 A/AA findings on the page as it is now."""
    page.evaluate(AXE)  # through DevTools, so the page's CSP does not stop it
    found = page.evaluate(
        "async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']})).violations"
    )
    return [
        f"{v['id']} ({v['impact']}): {[n['html'] for n in v['nodes']][:3]}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


@pytest.fixture(scope="module")
def resident_phone(
    browser: Browser, live_server: str, live_database_url: str
) -> Iterator[tuple[WatchedPage, tuple[str, ...]]]:
    """One phone (360 px) signed in as a resident with points, a reservation and a proposal, in a
    community with a shop and a recruitment call; it records every event listener a page adds (for
    the tap-only check). Yields the phone and the resident pages to measure."""

    async def work(db: Database) -> tuple[int, str, str, str]:
        community = await communities.create_community(db, ADMIN, SLUG, "长辈社区")
        await communities.grant_budget(db, ADMIN, SLUG, 10_000, "", idempotency_key=SLUG)
        async with db.connection() as conn:
            book = await conn.fetchval("SELECT book FROM mall_community WHERE slug = ?", SLUG)
        outlet = await open_outlet(db, community.id, book, "长辈积分超市")
        await stock_items(db, community.id, outlet)
        rid = (await residents.create_resident(db, ADMIN, SLUG, "孙桂芳", None, None)).id
        for points in (12, 8, 30):
            await give(db, SLUG, rid, points)
        me = resident(rid, community.id, SLUG, "孙桂芳")
        held = await reservations.reserve(
            db, me, outlet, [("oil", 1), ("soap", 2)], idempotency_key="elder", req_hash="h"
        )
        await submissions.file(db, me, "proposal", "楼道灯坏了", "三号楼二单元的楼道灯不亮。")
        staff = await user(db, f"{SLUG}-staff", "staff", community.id, SLUG)
        starts = datetime.now(UTC) + timedelta(days=2)
        call_made = await activities.create_activity(
            db,
            staff,
            SLUG,
            title="敬老院陪护",
            path="timely_help",
            points=20,
            capacity=10,
            starts_at=starts,
            ends_at=starts + timedelta(hours=3),
            place="敬老院",
            hours_tenths=25,
        )
        return (
            rid,
            f"/me/activities/{call_made.id}",
            f"/me/reservations/{held.id}",
            f"/me/reservations/{held.id}/cancel",
        )

    rid, *more = call(live_database_url, work)
    context, page = signed_in(
        browser,
        live_server,
        session(live_database_url, resident_id=rid),
        viewport={"width": 360, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page.add_init_script(LISTEN)
    yield page, (*PAGES, *more)
    context.close()


@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
def test_every_resident_page_meets_the_bar_in_elder_mode_and_passes_axe_in_both(
    live_server: str, resident_phone: tuple[WatchedPage, tuple[str, ...]], elder: bool
) -> None:
    phone, pages = resident_phone
    phone.context.clear_cookies(name="elder")
    if elder:
        phone.context.add_cookies([{"name": "elder", "value": "1", "url": live_server}])
    problems: dict[str, list[str]] = {}
    for path in pages:
        response = phone.goto(f"{live_server}{path}")
        assert response is not None and response.ok, path
        found = [f"axe {v}" for v in serious_violations(phone)]
        assert (phone.get_attribute("html", "class") or "") == ("elder" if elder else ""), path
        listened = phone.evaluate("() => window.__listened")
        assert "click" in listened or "submit" in listened, f"{path}: listeners not recorded"
        found += [f"listens for {e}" for e in GESTURES if e in listened]
        if phone.locator(GESTURE_MARKUP).count():
            found.append("markup asks for a gesture beyond a tap")
        if elder:
            sizes = phone.evaluate(MEASURE, [24, 60, list(INLINE_OK)])
            found += [f"text under 18 pt: {s}" for s in sizes["small"]]
            found += [f"target under 60×60: {s}" for s in sizes["tiny"]]
            if sizes["width"] > 360:
                found.append(f"scrolls sideways: {sizes['width']} px")
        if found:
            problems[path] = found
    assert problems == {}, "\n".join(f"{p}:\n  " + "\n  ".join(f) for p, f in problems.items())
    assert phone.console_errors == []
