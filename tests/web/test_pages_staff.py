"""Staff pages through HTTP: the residents list and its live-search fragment, registering a
resident, a resident's page, the activation QR and card print pages, the audit log, and who may
see them."""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from mall.db import Database
from mall.org import communities
from mall.people import credentials, residents, users
from tests.web.test_pages_account import (
    ADMIN,
    community,
    is_full_page,
    post,
    signed_in,
)

HTMX = {"HX-Request": "true"}


async def staff_with_residents(
    db: Database, client: TestClient[Litestar]
) -> list[residents.Registered]:
    """Signed in as xingfuli's staff, with three residents there and one in another community."""
    await signed_in(db, client, (await community(db))["staff"])
    await communities.create_grid(db, ADMIN, "xingfuli", "g1", "一网格")
    made = [
        await residents.create_resident(db, ADMIN, "xingfuli", "王秀英", "13800000001", "g1"),
        await residents.create_resident(db, ADMIN, "xingfuli", "李建国", "13900000002", None),
        await residents.create_resident(db, ADMIN, "xingfuli", "张桂兰", None, "g1"),
    ]
    await communities.create_community(db, ADMIN, "heping", "和平社区")
    made.append(await residents.create_resident(db, ADMIN, "heping", "周丽华", None, None))
    return made


def test_signed_out_staff_page_sends_to_sign_in_and_back(client: TestClient[Litestar]) -> None:
    response = client.get("/staff/residents?q=王", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in?next=/staff/residents%3Fq%3D")


def test_signed_out_htmx_request_is_told_to_load_the_sign_in_page(
    client: TestClient[Litestar],
) -> None:
    response = client.get("/staff/residents", headers=HTMX, follow_redirects=False)
    assert response.status_code == 200
    assert response.headers["hx-redirect"].startswith("/sign-in?next=")


async def test_residents_list_is_a_page_and_its_results_a_fragment(
    db: Database, client: TestClient[Litestar]
) -> None:
    await staff_with_residents(db, client)
    page = client.get("/staff/residents")
    assert page.status_code == 200 and is_full_page(page.text)
    assert (
        "HX-Request" in page.headers["vary"].split(",")
        and page.headers["cache-control"] == "no-store"
    )
    assert all(name in page.text for name in ("王秀英", "李建国", "张桂兰"))
    assert "周丽华" not in page.text
    assert 'hx-get="/staff/residents"' in page.text and 'action="/staff/residents"' in page.text
    fragment = client.get("/staff/residents?q=李", headers=HTMX)
    assert not is_full_page(fragment.text) and fragment.text.lstrip().startswith(
        '<section id="results"'
    )
    assert "李建国" in fragment.text and "王秀英" not in fragment.text


async def test_search_finds_by_name_phone_or_grid(
    db: Database, client: TestClient[Litestar]
) -> None:
    await staff_with_residents(db, client)

    def names(query: str) -> list[str]:
        text = client.get(f"/staff/residents?{query}", headers=HTMX).text
        return re.findall(r'<a href="/staff/residents/\d+">([^<]+)</a>', text)

    assert names("q=秀") == ["王秀英"]
    assert names("q=1390000") == ["李建国"]
    assert sorted(names("grid=g1")) == sorted(["王秀英", "张桂兰"])
    assert names("q=周") == []
    assert "没有找到" in client.get("/staff/residents?q=周").text


async def test_going_back_in_history_gets_the_whole_page_not_the_fragment(
    db: Database, client: TestClient[Litestar]
) -> None:
    await staff_with_residents(db, client)
    restore = client.get(
        "/staff/residents?q=李", headers={**HTMX, "HX-History-Restore-Request": "true"}
    )
    assert is_full_page(restore.text) and "李建国" in restore.text


async def test_registering_a_resident_leads_to_their_page(
    db: Database, client: TestClient[Litestar]
) -> None:
    await signed_in(db, client, (await community(db))["staff"])
    assert "登记居民" in client.get("/staff/residents/new").text
    response = post(client, "/staff/residents", name="黄明", phone="138 0000 0003", grid="")
    assert response.status_code == 303
    assert re.fullmatch(r"/staff/residents/\d+", response.headers["location"])
    page = client.get(response.headers["location"])
    assert page.status_code == 200 and "黄明" in page.text and "13800000003" in page.text


async def test_a_registration_error_keeps_what_was_typed(
    db: Database, client: TestClient[Litestar]
) -> None:
    await signed_in(db, client, (await community(db))["staff"])
    response = post(client, "/staff/residents", name="黄明", phone="12345", grid="nowhere")
    assert response.status_code == 400 and is_full_page(response.text)
    assert "手机号是以 1 开头的 11 位数字" in response.text and 'role="alert"' in response.text
    assert 'value="黄明"' in response.text and 'value="12345"' in response.text
    assert 'value="nowhere"' in response.text
    no_grid = post(client, "/staff/residents", name="黄明", phone="", grid="nowhere")
    assert no_grid.status_code == 400 and "本社区没有这个网格编号" in no_grid.text


async def test_registering_without_the_csrf_token_is_refused(
    db: Database, client: TestClient[Litestar]
) -> None:
    await signed_in(db, client, (await community(db))["staff"])
    response = client.post("/staff/residents", data={"name": "黄明"}, follow_redirects=False)
    assert response.status_code == 403
    assert "黄明" not in client.get("/staff/residents").text


async def test_a_resident_page_shows_balance_and_ways_to_bind(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await staff_with_residents(db, client)
    page = client.get(f"/staff/residents/{made[0].id}")
    assert page.status_code == 200 and "王秀英" in page.text and "0 分" in page.text
    assert f'action="/staff/residents/{made[0].id}/activation"' in page.text


async def test_another_communitys_resident_is_not_found(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await staff_with_residents(db, client)
    other = made[3].id
    for path in ("", "/activation", "/card"):
        assert client.get(f"/staff/residents/{other}{path}").status_code == 404
    assert post(client, f"/staff/residents/{other}/activation").status_code == 404
    assert post(client, f"/staff/residents/{other}/card", pin="4821").status_code == 404


async def test_activation_qr_page_shows_the_qr_the_link_and_the_expiry(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await staff_with_residents(db, client)
    rid = made[0].id
    before = client.get(f"/staff/residents/{rid}/activation")
    assert "<svg" not in before.text and "重新发放" in before.text
    issued = post(client, f"/staff/residents/{rid}/activation")
    assert issued.status_code == 303
    assert issued.headers["location"] == f"/staff/residents/{rid}/activation"
    assert f"Path=/staff/residents/{rid}/" in issued.headers["set-cookie"]
    page = client.get(issued.headers["location"])
    assert page.status_code == 200 and "王*英" in page.text
    assert '<svg aria-hidden="true"' in page.text and 'role="img"' in page.text
    url = re.search(r"http://[^\s<]+/a/(A1[A-Z2-7]{39})", page.text)
    assert url is not None and "有效期到" in page.text
    assert client.get(issued.headers["location"]).text.count(url.group(1)) == 1
    # the code is genuine: the resident's phone can use it
    await credentials.check_activation(db, url.group(1))
    assert "@media print" in client.get("/static/css/app.css").text


async def test_a_printed_card_needs_a_pin_that_is_hard_to_guess(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await staff_with_residents(db, client)
    rid = made[0].id
    form = client.get(f"/staff/residents/{rid}/card")
    assert form.status_code == 200 and 'name="pin"' in form.text and "<svg" not in form.text
    easy = post(client, f"/staff/residents/{rid}/card", pin="1234")
    assert easy.status_code == 400 and "太容易被猜到" in easy.text
    short = post(client, f"/staff/residents/{rid}/card", pin="12")
    assert short.status_code == 400 and "4 到 6 位数字" in short.text
    made_card = post(client, f"/staff/residents/{rid}/card", pin="4821")
    assert made_card.status_code == 303
    card = client.get(made_card.headers["location"])
    assert "<svg" in card.text and "王*英" in card.text and "幸福里社区" in card.text
    assert "4821" not in card.text


async def test_audit_log_lists_what_staff_did_newest_first(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await staff_with_residents(db, client)
    post(client, f"/staff/residents/{made[1].id}/activation")
    page = client.get("/staff/audit")
    assert page.status_code == 200
    actions = re.findall(r"<strong>([^<]+)</strong>", page.text)
    assert actions[:2] == ["发放激活二维码", "登记居民"]
    assert "xingfuli-staff" in page.text and "周丽华" not in page.text


async def test_a_resident_session_cannot_open_staff_pages(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await staff_with_residents(db, client)
    code = (await credentials.issue_activation(db, ADMIN, made[0].id)).code
    client.cookies.clear()
    assert post(client, f"/a/{code}").status_code == 303
    for path in ("/staff/residents", f"/staff/residents/{made[0].id}", "/staff/audit"):
        assert client.get(path).status_code == 403


async def test_a_street_administrator_names_the_community_to_work_in(
    db: Database, client: TestClient[Litestar]
) -> None:
    await staff_with_residents(db, client)
    admin = await users.create_user_unchecked(db, "street-admin", "street admin pw", "admin", None)
    await signed_in(db, client, admin.id)
    ask = client.get("/staff/residents")
    assert ask.status_code == 200 and 'name="community"' in ask.text and "王秀英" not in ask.text
    heping = client.get("/staff/residents?community=heping")
    assert "周丽华" in heping.text and "王秀英" not in heping.text
    registered = post(client, "/staff/residents", name="吴国庆", community="heping")
    assert registered.status_code == 303
    assert "吴国庆" in client.get("/staff/residents?community=heping").text
    assert "登记居民" in client.get("/staff/audit?community=heping").text


def test_every_audited_action_has_words_on_the_activity_log_page() -> None:
    """The log shows an action in plain words, never as a code such as ``award.approve``."""
    import ast
    from pathlib import Path

    from web.pages.staff import ACTIONS

    recorded: set[Any] = set()
    for path in (Path(__file__).resolve().parents[2] / "mall").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "record"):
                continue
            action = node.args[2] if len(node.args) > 2 else None
            if isinstance(action, ast.Constant):
                recorded.add(action.value)
            elif isinstance(
                action, ast.IfExp
            ):  # "objection.uphold" if ... else "objection.dismiss"
                recorded |= {
                    branch.value
                    for branch in (action.body, action.orelse)
                    if isinstance(branch, ast.Constant)
                }
            elif isinstance(action, ast.JoinedStr):  # f"stock.{reason}", for the API's reasons
                recorded |= {f"stock.{r}" for r in STOCK_REASONS}
    assert recorded, "no audit.record call found: the scan is broken"
    assert sorted(recorded - set(ACTIONS)) == []


STOCK_REASONS = ("receipt", "donation", "stocktake", "adjustment")  # POST /outlets/{id}/stock
