"""The resident's pages through HTTP: binding a phone by activation link, home, pay code,
passbook with its infinite-scroll fragment, settings and elder mode, and who may see them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from litestar import Litestar
from litestar.testing import TestClient

import ledger
from mall.db import Database
from mall.org import communities, points
from mall.people import codes, credentials, residents
from mall.settings import get_settings
from tests.web.test_pages_account import (
    ADMIN,
    community,
    is_full_page,
    post,
    signed_in,
)

HTMX = {"HX-Request": "true"}


async def resident_with_points(db: Database, awards: int = 3) -> tuple[int, str]:
    """王秀英 of xingfuli with ``awards`` awards of 10, 11, 12, ... points and 5 set aside;
    returns her id and a fresh activation code."""
    await communities.create_community(db, ADMIN, "xingfuli", "幸福里社区")
    rid = (await residents.create_resident(db, ADMIN, "xingfuli", "王秀英", None, None)).id
    await communities.grant_budget(db, ADMIN, "xingfuli", 10_000, "年度预算", idempotency_key="g")
    async with db.transaction() as conn:
        book = await conn.fetchval("SELECT book FROM mall_community WHERE slug = ?", "xingfuli")
        for n in range(awards):
            await ledger.post_journal(
                conn,
                book,
                "award",
                [(points.BUDGET, -(10 + n)), (points.wallet(rid), 10 + n)],
                idempotency_key=f"award:{n}",
                path="adding_to_good",
                memo=f"清理楼道 {n}",
            )
        if awards:
            await ledger.place_hold(
                conn,
                book,
                points.wallet(rid),
                5,
                expires_at=datetime.now(UTC) + timedelta(days=3),
                idempotency_key="hold",
                memo="预约：食用油",
            )
    return rid, (await credentials.issue_activation(db, ADMIN, rid)).code


async def phone_of(db: Database, client: TestClient[Litestar], awards: int = 3) -> int:
    rid, code = await resident_with_points(db, awards)
    assert post(client, f"/a/{code}").status_code == 303
    return rid


async def test_activation_link_shows_one_big_button_and_binds_nothing_yet(
    db: Database, client: TestClient[Litestar]
) -> None:
    _, code = await resident_with_points(db)
    page = client.get(f"/a/{code}")
    assert page.status_code == 200 and is_full_page(page.text)
    assert "在这部手机上使用" in page.text and f'action="/a/{code}"' in page.text
    assert "mall_session" not in page.headers.get("set-cookie", "")
    await credentials.check_activation(db, code)  # still unused


async def test_tapping_the_button_binds_the_phone_for_a_long_time(
    db: Database, client: TestClient[Litestar]
) -> None:
    _, code = await resident_with_points(db)
    response = post(client, f"/a/{code}")
    assert response.status_code == 303 and response.headers["location"] == "/me"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("mall_session=") and "HttpOnly" in cookie
    matched = re.search(r"Max-Age=(\d+)", cookie)
    assert matched is not None
    assert int(matched.group(1)) >= 365 * 86400
    home = client.get("/me")
    assert home.status_code == 200 and "王秀英" in home.text


async def test_binding_without_the_csrf_token_is_refused(
    db: Database, client: TestClient[Litestar]
) -> None:
    _, code = await resident_with_points(db)
    client.get(f"/a/{code}")
    assert client.post(f"/a/{code}", follow_redirects=False).status_code == 403
    await credentials.check_activation(db, code)


async def test_a_used_code_says_so_and_what_to_do(
    db: Database, client: TestClient[Litestar]
) -> None:
    _, code = await resident_with_points(db)
    post(client, f"/a/{code}")
    # the phone it bound, scanning it again, is told so and sent to its points (issue #19)
    mine = client.get(f"/a/{code}", follow_redirects=False)
    assert mine.status_code == 303 and mine.headers["location"] == "/me?activated=1"
    assert "已激活" in client.get("/me?activated=1").text
    assert post(client, f"/a/{code}").status_code == 303
    # any other phone is refused, saying what to do
    client.cookies.clear()
    again = client.get(f"/a/{code}")
    assert again.status_code == 409 and "这个码已经用过了" in again.text
    assert "请向社区工作人员要一个新的激活二维码" in again.text
    assert post(client, f"/a/{code}").status_code == 409


async def test_an_expired_or_forged_code_says_so_and_what_to_do(
    db: Database, client: TestClient[Litestar]
) -> None:
    _, code = await resident_with_points(db)
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE mall_code SET expires_at = ? WHERE kind = ?",
            datetime.now(UTC) - timedelta(minutes=1),
            codes.ACTIVATION,
        )
    expired = client.get(f"/a/{code}")
    assert expired.status_code == 410 and "已过期" in expired.text
    assert "请向社区工作人员要一个新的激活二维码" in expired.text
    forged = client.get(f"/a/{code[:-1]}{'A' if code[-1] != 'A' else 'B'}")
    assert forged.status_code == 400 and "这个码无效" in forged.text
    assert post(client, f"/a/{code}").status_code == 410


def test_signed_out_resident_pages_explain_how_to_start(client: TestClient[Litestar]) -> None:
    for path in ("/me", "/me/pay", "/me/passbook", "/me/settings"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/start"
    start = client.get("/start")
    assert start.status_code == 200 and "激活二维码" in start.text


def test_signed_out_pay_code_polling_is_sent_to_the_start_page(
    client: TestClient[Litestar],
) -> None:
    response = client.get("/me/pay", headers=HTMX, follow_redirects=False)
    assert response.headers["hx-redirect"] == "/start"


async def test_staff_cannot_open_resident_pages(db: Database, client: TestClient[Litestar]) -> None:
    await signed_in(db, client, (await community(db))["staff"])
    for path in ("/me", "/me/pay", "/me/passbook"):
        assert client.get(path).status_code == 403


async def test_home_shows_balance_available_held_and_recent_entries(
    db: Database, client: TestClient[Litestar]
) -> None:
    await phone_of(db, client, awards=8)
    page = client.get("/me")
    assert page.headers["cache-control"] == "no-store"
    snapshot = re.search(r'<section id="snapshot" data-snapshot.*?</section>', page.text, re.S)
    assert snapshot is not None
    # awards 10..17 = 108, 5 of them set aside: the headline is what can be spent (可用积分),
    # with what is held for reservations (预约冻结) beside it, as on the passbook and receipt
    figure = re.search(r'class="balance-figure" data-available>(\d+)<', snapshot.group(0))
    assert figure is not None and figure.group(1) == "103"
    assert "可用积分" in snapshot.group(0) and "预约冻结" in snapshot.group(0)
    assert re.search(r"data-held>5<", snapshot.group(0))
    entries = re.findall(r'<li class="entry">', snapshot.group(0))
    assert len(entries) == 5
    assert "支出 −5" in snapshot.group(0) and "收入 +17" in snapshot.group(0)
    assert 'href="/me/pay"' in page.text and 'href="/me/passbook"' in page.text


async def test_elder_mode_is_offered_on_the_first_visit_then_remembered(
    db: Database, client: TestClient[Litestar]
) -> None:
    await phone_of(db, client)
    first = client.get("/me")
    assert "使用长辈模式" in first.text and "保持标准大小" in first.text
    assert '<html lang="zh-Hans" class="">' in first.text
    chosen = post(client, "/me/preferences", elder="1", next="/me")
    assert chosen.status_code == 303 and chosen.headers["location"] == "/me"
    assert "elder=1" in chosen.headers["set-cookie"]
    after = client.get("/me")
    assert '<html lang="zh-Hans" class="elder">' in after.text and "使用长辈模式" not in after.text
    post(client, "/me/preferences", elder="0", next="/me")
    standard = client.get("/me")
    assert 'class="elder"' not in standard.text and "使用长辈模式" not in standard.text


async def test_settings_switch_elder_mode_and_language(
    db: Database, client: TestClient[Litestar]
) -> None:
    await phone_of(db, client)
    page = client.get("/me/settings")
    assert page.status_code == 200 and "开启长辈模式" in page.text
    post(client, "/me/preferences", elder="1", lang="en", next="/me/settings")
    english = client.get("/me/settings")
    assert '<html lang="en" class="elder">' in english.text
    assert "Turn elder mode off" in english.text


def test_preferences_never_send_anyone_off_site(client: TestClient[Litestar]) -> None:
    response = post(client, "/me/preferences", elder="1", next="https://evil.example/")
    assert response.headers["location"] == "/me"


def test_preferences_without_the_csrf_token_are_refused(client: TestClient[Litestar]) -> None:
    client.get("/start")
    response = client.post("/me/preferences", data={"elder": "1"}, follow_redirects=False)
    assert response.status_code == 403


async def test_pay_code_page_shows_a_fresh_qr_and_grouped_digits(
    db: Database, client: TestClient[Litestar]
) -> None:
    await phone_of(db, client)
    page = client.get("/me/pay")
    assert page.status_code == 200 and is_full_page(page.text)
    assert page.headers["cache-control"] == "no-store" and "HX-Request" in page.headers[
        "vary"
    ].split(",")
    assert 'hx-trigger="every 45s"' in page.text and "<svg" in page.text
    matched = re.search(r"data-digits>([\d ]+)<", page.text)
    assert matched is not None
    digits = matched.group(1)
    assert re.fullmatch(r"\d{4}( \d{4}){4}", digits)
    assert codes.parse(get_settings().secret_key, digits.replace(" ", "")).kind == codes.PAY
    fragment = client.get("/me/pay", headers=HTMX)
    assert not is_full_page(fragment.text)
    assert fragment.text.lstrip().startswith('<div id="paycode"') and "<svg" in fragment.text
    assert 'hx-trigger="every 45s"' in fragment.text
    matched = re.search(r"data-digits>([\d ]+)<", fragment.text)
    assert matched is not None
    assert matched.group(1) != digits


async def test_passbook_scrolls_on_newest_first_with_words_and_signs(
    db: Database, client: TestClient[Litestar]
) -> None:
    await phone_of(db, client, awards=24)  # 24 awards and a hold: 25 entries, 20 a page
    page = client.get("/me/passbook")
    assert page.status_code == 200 and is_full_page(page.text)
    assert page.text.count('<li class="entry">') == 20
    first = re.findall(r'class="amount (?:in|out)">([^<]+)<', page.text)
    assert first[:2] == ["支出 −5", "收入 +33"]
    more = re.search(r'hx-get="(/me/passbook\?before=\d+)" hx-trigger="revealed"', page.text)
    assert more is not None
    assert f'href="{more.group(1)}"' in page.text  # the same page without JavaScript
    rest = client.get(more.group(1), headers=HTMX)
    assert not is_full_page(rest.text) and rest.text.count('<li class="entry">') == 5
    assert 'hx-trigger="revealed"' not in rest.text
    assert re.findall(r'class="amount (?:in|out)">([^<]+)<', rest.text)[-1] == "收入 +10"
    assert "余额 10" in rest.text
    plain = client.get(more.group(1))
    assert is_full_page(plain.text) and "回到最新" in plain.text


async def test_a_resident_can_sign_this_phone_out_from_settings(
    db: Database, client: TestClient[Litestar]
) -> None:
    await phone_of(db, client)
    settings = client.get("/me/settings")
    assert 'action="/sign-out"' in settings.text and "在这部手机上退出" in settings.text
    token = client.cookies.get("mall_session")
    assert token is not None
    left = post(client, "/sign-out")
    assert left.status_code == 303 and left.headers["location"] == "/start"
    client.cookies.set(
        "mall_session", token
    )  # the old token is dead on the server, not just forgotten
    assert client.get("/me", follow_redirects=False).headers["location"].startswith("/start")
