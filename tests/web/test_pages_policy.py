"""The trust policy as pages: staff read it on their dashboard in plain Chinese, a street
administrator changes it with a plain form, staff cannot, and a bad number changes nothing."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient

from mall.db import Database
from mall.org import policy
from mall.people import users
from tests.web.test_pages_account import ADMIN, PASSWORD, community, is_full_page, post, signed_in


async def test_staff_see_the_policy_on_their_dashboard_in_chinese(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await community(db)
    await signed_in(db, client, made["staff"])
    page = client.get("/staff/earning")
    assert page.status_code == 200 and is_full_page(page.text)
    assert "100" in page.text and "200" in page.text and "信任规则" in page.text
    assert 'action="/staff/policy"' not in page.text
    shown = client.get("/staff/policy")
    assert shown.status_code == 200 and 'action="/staff/policy"' not in shown.text


async def test_an_administrator_changes_the_policy_and_staff_see_it(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await community(db)
    admin = await users.create_user_unchecked(db, "street-admin", PASSWORD, "admin", None)
    await signed_in(db, client, admin.id)
    dashboard = client.get("/staff/earning?community=xingfuli")
    assert "/staff/policy?community=xingfuli" in dashboard.text
    form = client.get("/staff/policy?community=xingfuli")
    assert form.status_code == 200 and 'action="/staff/policy"' in form.text
    done = post(
        client,
        "/staff/policy",
        community="xingfuli",
        approval_threshold="60",
        activity_max_points="150",
        objection_days="10",
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/staff/policy?community=xingfuli&saved=1"
    found = await policy.get_policy(db, ADMIN, "xingfuli")
    assert (found.approval_threshold, found.activity_max_points, found.objection_days) == (
        60,
        150,
        10,
    )
    await signed_in(db, client, made["staff"])
    assert "60" in client.get("/staff/earning").text


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
        shown = post(client, "/staff/policy", community="xingfuli", **fields)
        assert shown.status_code == 400 and 'role="alert"' in shown.text
    found = await policy.get_policy(db, ADMIN, "xingfuli")
    assert (found.approval_threshold, found.activity_max_points, found.objection_days) == (
        100,
        200,
        7,
    )


async def test_staff_cannot_change_the_policy(db: Database, client: TestClient[Litestar]) -> None:
    made = await community(db)
    await signed_in(db, client, made["staff"])
    refused = post(client, "/staff/policy", community="xingfuli", approval_threshold="100000")
    assert refused.status_code == 403
    assert (await policy.get_policy(db, ADMIN, "xingfuli")).approval_threshold == 100
