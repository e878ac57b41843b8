"""The trust policy as pages: staff read it on their dashboard in plain Chinese, a street
administrator changes it with a plain form reached from the community's page, staff cannot, and
a bad number changes nothing."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient

from mall.db import Database
from mall.org import policy
from mall.people import users
from tests.web.test_pages_account import ADMIN, PASSWORD, community, is_full_page, post, signed_in

FORM = "/admin/communities/xingfuli/policy"


async def settings(db: Database) -> tuple[int, int, int]:
    found = await policy.get_policy(db, ADMIN, "xingfuli")
    return found.approval_threshold, found.activity_max_points, found.objection_days


async def test_staff_see_the_policy_on_their_dashboard_in_chinese(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await community(db)
    await signed_in(db, client, made["staff"])
    page = client.get("/staff/earning")
    assert page.status_code == 200 and is_full_page(page.text)
    assert "信任规则" in page.text and "最多直接发给同一位居民 100 积分" in page.text
    assert "每人最多得 200 积分" in page.text and "7 天内" in page.text
    assert FORM not in page.text
    assert client.get(FORM).status_code == 403


async def test_an_administrator_changes_the_policy_from_the_communitys_page(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await community(db)
    admin = await users.create_user_unchecked(db, "street-admin", PASSWORD, "admin", None)
    await signed_in(db, client, admin.id)
    assert FORM in client.get("/admin/communities/xingfuli").text
    assert FORM in client.get("/staff/earning?community=xingfuli").text
    form = client.get(FORM)
    assert form.status_code == 200 and f'action="{FORM}"' in form.text
    done = post(
        client, FORM, approval_threshold="60", activity_max_points="150", objection_days="10"
    )
    assert done.status_code == 303 and done.headers["location"] == FORM + "?saved=1"
    assert "规则已保存" in client.get(done.headers["location"]).text
    assert await settings(db) == (60, 150, 10)
    await signed_in(db, client, made["staff"])
    assert "最多直接发给同一位居民 60 积分" in client.get("/staff/earning").text


async def test_a_bad_number_shows_the_form_again_and_changes_nothing(
    db: Database, client: TestClient[Litestar]
) -> None:
    await community(db)
    admin = await users.create_user_unchecked(db, "street-admin", PASSWORD, "admin", None)
    await signed_in(db, client, admin.id)
    for bad in (
        {"objection_days": "0"},
        {"approval_threshold": "十"},
        {"activity_max_points": "-5"},
    ):
        fields = {
            "approval_threshold": "60",
            "activity_max_points": "150",
            "objection_days": "10",
        } | bad
        shown = post(client, FORM, **fields)
        assert shown.status_code == 400 and 'role="alert"' in shown.text
    assert await settings(db) == (100, 200, 7)


async def test_staff_cannot_change_the_policy(db: Database, client: TestClient[Litestar]) -> None:
    made = await community(db)
    await signed_in(db, client, made["staff"])
    assert post(client, FORM, approval_threshold="100000").status_code == 403
    assert await settings(db) == (100, 200, 7)


async def test_an_administrator_sets_points_expiry_and_staff_read_it_in_plain_words(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await community(db)
    admin = await users.create_user_unchecked(db, "street-admin", PASSWORD, "admin", None)
    await signed_in(db, client, admin.id)
    assert 'name="expiry" value="never" checked' in client.get(FORM).text
    for bad in ({"expiry": "sometimes"}, {"expiry": "months", "expiry_months": "121"}):
        shown = post(client, FORM, **({"expiry_months": "12"} | bad))
        assert shown.status_code == 400 and 'role="alert"' in shown.text
    assert (await policy.get_policy(db, ADMIN, "xingfuli")).expiry == "never"
    done = post(client, FORM, expiry="months", expiry_months="6")
    assert done.status_code == 303
    found = await policy.get_policy(db, ADMIN, "xingfuli")
    assert (found.expiry, found.expiry_months) == ("months", 6)
    await signed_in(db, client, made["staff"])
    assert "积分自获得之日起 6 个月后过期" in client.get("/staff/earning").text
    await policy.set_policy(db, ADMIN, "xingfuli", expiry="year_end")
    assert "12 月 31 日" in client.get("/staff/earning").text
