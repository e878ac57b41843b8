"""Staff and volunteer sign-in, sign-out, password change and the volunteers' page, through HTTP.

The helpers at the top (a community with its staff, signing in, the CSRF token) are shared by the
other ``test_pages_*`` modules.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from httpx import Response
from litestar import Litestar
from litestar.testing import TestClient

from mall.db import Database
from mall.org import communities
from mall.people import auth, users
from tests import support

PASSWORD = "correct horse battery"
ADMIN = support.admin("test-admin")


async def community(
    db: Database, slug: str = "xingfuli", name: str = "幸福里社区", *, volunteer: bool = False
) -> dict[str, Any]:
    """A community with a staff member ``<slug>-staff`` (and a volunteer ``<slug>-vol``); their
    user ids are ``staff`` and ``volunteer``. Each password costs an argon2 hash: only as needed."""
    created = msgspec.structs.asdict(await communities.create_community(db, ADMIN, slug, name))
    staff = await users.create_user_unchecked(db, f"{slug}-staff", PASSWORD, "staff", slug)
    created["staff"] = staff.id
    if volunteer:
        vol = await users.create_user_unchecked(db, f"{slug}-vol", PASSWORD, "volunteer", slug)
        created["volunteer"] = vol.id
    return created


async def signed_in(db: Database, client: TestClient[Litestar], user_id: int) -> None:
    """The client holds a session of the user, without an argon2 check (that is tested above)."""
    async with db.transaction() as conn:
        token = await auth.create_session(conn, "web", user_id=user_id, ttl=auth.STAFF_SESSION)
    client.cookies.set("mall_session", token)


def csrf(client: TestClient[Litestar]) -> str:
    """The CSRF token a page would put in its forms (any GET sets the cookie)."""
    if not client.cookies.get("csrftoken"):
        client.get("/sign-in")
    return client.cookies["csrftoken"]


def post(client: TestClient[Litestar], path: str, **data: str) -> Response:
    return client.post(path, data={**data, "_csrf_token": csrf(client)}, follow_redirects=False)


def sign_in(
    client: TestClient[Litestar], username: str, password: str = PASSWORD, next: str = ""
) -> Response:
    return post(client, "/sign-in", username=username, password=password, next=next)


def is_full_page(text: str) -> bool:
    return text.lstrip().startswith("<!doctype html>") and "</html>" in text


def test_sign_in_page_is_a_chinese_form_with_a_csrf_token(client: TestClient[Litestar]) -> None:
    page = client.get("/sign-in")
    assert page.status_code == 200 and is_full_page(page.text)
    assert "工作人员和志愿者登录" in page.text
    assert re.search(r'name="_csrf_token" value="[0-9a-f]{128}"', page.text)
    assert 'autocomplete="current-password"' in page.text


async def test_staff_sign_in_sets_an_httponly_session_and_lands_on_residents(
    db: Database, client: TestClient[Litestar]
) -> None:
    await community(db)
    response = sign_in(client, "xingfuli-staff")
    assert response.status_code == 303 and response.headers["location"] == "/staff/residents"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("mall_session=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert client.get("/staff/residents").status_code == 200


async def test_wrong_password_shows_the_form_again_with_the_username_kept(
    db: Database, client: TestClient[Litestar]
) -> None:
    await community(db)
    response = sign_in(client, "xingfuli-staff", "wrong password!")
    assert response.status_code == 400
    assert "用户名或密码不对" in response.text and 'role="alert"' in response.text
    assert 'value="xingfuli-staff"' in response.text
    assert "mall_session" not in response.headers.get("set-cookie", "")


async def test_five_wrong_passwords_stop_this_browser_and_say_so(
    db: Database, client: TestClient[Litestar]
) -> None:
    await community(db)
    for _ in range(5):
        assert sign_in(client, "xingfuli-staff", "wrong password!").status_code == 400
    stopped = sign_in(client, "xingfuli-staff")
    assert stopped.status_code == 429 and "操作太频繁，请过几分钟再试" in stopped.text


def test_sign_in_without_the_csrf_token_is_refused(client: TestClient[Litestar]) -> None:
    client.get("/sign-in")
    response = client.post(
        "/sign-in", data={"username": "a", "password": "b"}, follow_redirects=False
    )
    assert response.status_code == 403


async def test_sign_in_returns_to_the_page_asked_for_but_never_to_another_site(
    db: Database, client: TestClient[Litestar]
) -> None:
    await community(db)
    asked = sign_in(client, "xingfuli-staff", next="/staff/audit")
    assert asked.headers["location"] == "/staff/audit"
    elsewhere = sign_in(client, "xingfuli-staff", next="//evil.example/")
    assert elsewhere.headers["location"] == "/staff/residents"


async def test_sign_out_ends_the_session(db: Database, client: TestClient[Litestar]) -> None:
    await signed_in(db, client, (await community(db))["staff"])
    response = post(client, "/sign-out")
    assert response.status_code == 303 and response.headers["location"] == "/sign-in"
    again = client.get("/staff/residents", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].startswith("/sign-in")


async def test_signed_out_sign_out_is_refused_without_csrf(client: TestClient[Litestar]) -> None:
    client.get("/sign-in")
    assert client.post("/sign-out", follow_redirects=False).status_code == 403


async def test_volunteer_lands_on_their_page_and_is_refused_staff_pages(
    db: Database, client: TestClient[Litestar]
) -> None:
    await community(db, volunteer=True)
    response = sign_in(client, "xingfuli-vol")
    assert response.headers["location"] == "/volunteer"
    page = client.get("/volunteer")
    assert page.status_code == 200 and "幸福里社区" in page.text and "打开兑换台" in page.text
    for path in ("/staff/residents", "/staff/residents/new", "/staff/audit"):
        refused = client.get(path)
        assert refused.status_code == 403 and "没有权限" in refused.text


async def test_staff_are_not_volunteers(db: Database, client: TestClient[Litestar]) -> None:
    await signed_in(db, client, (await community(db))["staff"])
    assert client.get("/volunteer").status_code == 403


async def test_password_change_checks_both_copies_and_the_current_password(
    db: Database, client: TestClient[Litestar]
) -> None:
    await signed_in(db, client, (await community(db))["staff"])
    assert client.get("/account/password").status_code == 200
    new = "a much longer password"
    mismatch = post(client, "/account/password", current=PASSWORD, new=new, repeat=new + "x")
    assert mismatch.status_code == 400 and "两次输入的新密码不一样" in mismatch.text
    wrong = post(client, "/account/password", current="not it at all", new=new, repeat=new)
    assert wrong.status_code == 400 and "当前密码不对" in wrong.text
    short = post(client, "/account/password", current=PASSWORD, new="short", repeat="short")
    assert short.status_code == 400 and "密码至少要 10 个字符" in short.text
    done = post(client, "/account/password", current=PASSWORD, new=new, repeat=new)
    assert done.status_code == 303
    assert "密码已修改" in client.get(done.headers["location"]).text
    post(client, "/sign-out")
    assert sign_in(client, "xingfuli-staff", new).status_code == 303


def test_signed_out_password_page_sends_to_sign_in(client: TestClient[Litestar]) -> None:
    response = client.get("/account/password", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=/account/password"
