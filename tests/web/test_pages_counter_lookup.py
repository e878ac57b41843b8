"""Looking a resident up at the counter as post/redirect/get, through HTTP without JavaScript
(issue #19): a scan answers 303 to its visit's page, which a reload or a second tab opens again
and whose URL holds neither the pay code nor the card; only the volunteer who scanned opens it;
a printed card waits for its PIN there, a wrong PIN says how many tries are left, and a code
that landed in the PIN box is a new scan; a refused confirm comes back to the page with the
choice kept; error pages of the counter lead back to the counter. Staff see a locked card and
unlock it; the printed card shows its number."""

from __future__ import annotations

import contextlib
import re

from litestar import Litestar
from litestar.testing import TestClient

from mall.db import Database
from mall.errors import Invalid
from mall.people import auth, credentials
from tests.web.test_pages_counter import alert, at_counter, choose, form


def visit_of(location: str, *secrets: str) -> str:
    """The visit's path from a 303, which holds none of ``secrets`` (codes)."""
    assert re.fullmatch(r"/counter/visits/[A-Za-z0-9_-]{20,}", location), location
    for secret in secrets:
        assert secret not in location
    return location


async def signed_in_as(db: Database, client: TestClient[Litestar], user_id: int | None) -> None:
    async with db.transaction() as conn:
        token = await auth.create_session(conn, "web", user_id=user_id, ttl=auth.STAFF_SESSION)
    client.cookies.set("mall_session", token)


async def test_a_scan_redirects_to_a_page_that_reloads_and_opens_in_a_second_tab(
    db: Database, client: TestClient[Litestar]
) -> None:
    shop = await at_counter(db, client)
    rid = await shop.new_resident("王秀英", 50)
    choose(client, shop)
    code = await shop.pay_code(rid)
    posted = form(client, "/counter/scan", {"code": code})
    assert posted.status_code == 303
    page = visit_of(posted.headers["location"], code)
    first, reload = client.get(page), client.get(page)
    for shown in (first, reload):
        assert shown.status_code == 200 and "王*英" in shown.text
        assert 'data-available="50"' in shown.text and "no-store" in shown.headers["cache-control"]
    boosted = client.get(page, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert boosted.status_code == 200 and "王*英" in boosted.text  # Back, as htmx restores it
    assert client.get("/counter/scan").status_code == 405  # the POST's URL is never shown


async def test_only_the_volunteer_who_scanned_opens_the_visit(
    db: Database, client: TestClient[Litestar]
) -> None:
    shop = await at_counter(db, client)
    rid = await shop.new_resident("王秀英", 50)
    choose(client, shop)
    page = form(client, "/counter/scan", {"code": await shop.pay_code(rid)}).headers["location"]
    for other in (shop.staff.user_id, shop.staff_b.user_id):
        await signed_in_as(db, client, other)
        refused = client.get(page)
        assert refused.status_code == 404 and "王*英" not in refused.text
        assert 'href="/counter"' in refused.text  # 返回首页 goes back to the counter
        assert "返回首页" in refused.text
    guessed = client.get("/counter/visits/not-a-visit-token-at-all")
    assert guessed.status_code == 404


async def test_a_card_waits_for_its_pin_and_a_wrong_one_says_the_tries_left(
    db: Database, client: TestClient[Litestar]
) -> None:
    shop = await at_counter(db, client)
    rid = await shop.new_resident("张桂兰", 20)
    card = await shop.card(rid, "2580")
    choose(client, shop)
    posted = form(client, "/counter/scan", {"code": card})  # the scanner's Enter, no PIN yet
    page = visit_of(posted.headers["location"], card)
    waiting = client.get(page)
    assert alert(waiting.text) is None and "请居民自己输入积分卡密码" in waiting.text
    token = page.rsplit("/", 1)[1]
    assert f'name="visit" value="{token}"' in waiting.text
    assert re.search(r'id="f-pin"[^>]* autofocus required', waiting.text)  # the PIN box first
    assert card not in waiting.text  # the card stays on the server
    wrong = form(client, "/counter/scan", {"visit": token, "pin": "1111"})
    assert wrong.headers["location"] == page
    again = client.get(page)
    assert alert(again.text) == "未完成： 密码不对。还可以再试 4 次。"
    assert "张*兰" not in again.text
    right = form(client, "/counter/scan", {"visit": token, "pin": "2580"})
    assert right.headers["location"] == page
    served = client.get(page)
    assert '<h1 id="who-title" class="compact">张*兰</h1>' in served.text
    assert f'name="visit" value="{token}"' in served.text


async def test_a_code_in_the_pin_box_is_a_new_scan_never_a_pin(
    db: Database, client: TestClient[Litestar]
) -> None:
    shop = await at_counter(db, client)
    first = await shop.new_resident("张桂兰", 20)
    second = await shop.new_resident("李建国", 30)
    card = await shop.card(first, "2580")
    choose(client, shop)
    page = form(client, "/counter/scan", {"code": card}).headers["location"]
    token = page.rsplit("/", 1)[1]
    pay = await shop.pay_code(second)
    form(client, "/counter/scan", {"visit": token, "pin": pay})  # scanned into the PIN box
    served = client.get(page)
    assert "李*国" in served.text and alert(served.text) is None
    async with db.connection() as conn:
        tried = await conn.fetchval(
            "SELECT failed_pins FROM mall_code WHERE resident = ? AND kind = 'card'", first
        )
    assert tried == 0


async def test_a_refused_confirm_comes_back_to_the_visit_with_the_choice_kept(
    db: Database, client: TestClient[Litestar]
) -> None:
    shop = await at_counter(db, client)
    rid = await shop.new_resident("李海", 500)
    choose(client, shop)
    code = await shop.pay_code(rid)
    page = form(client, "/counter/scan", {"code": code}).headers["location"]
    token = page.rsplit("/", 1)[1]
    shown = client.get(page).text
    key = re.search(r'name="key" value="([^"]+)"', shown)
    assert key is not None
    order = {"code": code, "visit": token, "key": key.group(1), "q_rice": "6"}
    refused = form(client, "/counter/orders", order)
    assert refused.status_code == 303 and refused.headers["location"] == page
    again = client.get(page)
    assert alert(again.text) == "未完成： 大米只剩 5 件了。"
    assert 'id="q-rice" name="q_rice" type="number"' in again.text
    assert re.search(r'id="q-rice"[^>]*value="6"', again.text)  # the volunteer's choice is kept
    key = re.search(r'name="key" value="([^"]+)"', again.text)
    assert key is not None
    paid = form(client, "/counter/orders", {**order, "key": key.group(1), "q_rice": "1"})
    assert paid.status_code == 303 and paid.headers["location"].startswith("/counter/orders/")
    back = client.get(page)  # Back after the receipt: the desk, naming the order
    assert back.status_code == 200 and "这位居民已经兑换完成" in back.text
    assert f'href="{paid.headers["location"]}"' in back.text
    assert await shop.balance(rid) == 480


async def test_staff_see_a_locked_card_and_unlock_it(
    db: Database, client: TestClient[Litestar]
) -> None:
    shop = await at_counter(db, client, "staff")
    rid = await shop.new_resident("张桂兰", 0)
    card = await shop.card(rid, "2580")
    for _ in range(credentials.MAX_WRONG_PINS):
        with contextlib.suppress(Invalid):  # each wrong PIN is refused; the lock is tested
            await credentials.resident_for_card(db, shop.volunteer, card, "0000")
    page = client.get(f"/staff/residents/{rid}")
    assert "积分卡已锁住" in page.text and f"/staff/residents/{rid}/card/unlock" in page.text
    for who in (shop.volunteer.user_id, shop.staff_b.user_id):
        await signed_in_as(db, client, who)
        refused = form(client, f"/staff/residents/{rid}/card/unlock", {})
        assert refused.status_code in (403, 404)
    await signed_in_as(db, client, shop.staff.user_id)
    done = form(client, f"/staff/residents/{rid}/card/unlock", {})
    assert done.status_code == 303
    assert "积分卡已锁住" not in client.get(f"/staff/residents/{rid}").text
    assert await credentials.resident_for_card(db, shop.volunteer, card, "2580") == rid
    again = form(client, f"/staff/residents/{rid}/card/unlock", {})
    assert again.status_code == 400 and "没有被锁住" in again.text


async def test_the_printed_card_shows_its_number_for_typing(
    db: Database, client: TestClient[Litestar]
) -> None:
    shop = await at_counter(db, client, "staff")
    rid = await shop.new_resident("张桂兰", 0)
    made = form(client, f"/staff/residents/{rid}/card", {"pin": "2580"})
    assert made.status_code == 303
    printed = client.get(made.headers["location"])
    number = re.search(r"<strong data-card-number>([A-Z0-9 ]+)</strong>", printed.text)
    assert number is not None and "卡号" in printed.text
    typed = number.group(1).lower()  # as a volunteer types it, groups and all
    await signed_in_as(db, client, shop.volunteer.user_id)
    choose(client, shop)
    page = form(client, "/counter/scan", {"code": typed, "pin": "2580"}).headers["location"]
    assert "张*兰" in client.get(page).text
