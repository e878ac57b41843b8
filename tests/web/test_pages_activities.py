"""Recruitment call pages through HTTP: staff publish, watch check-ins, check in by code and
settle; the check-in screen's QR fragment; residents sign up; the page the QR opens checks in
only on the button's POST."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from httpx import Response
from litestar import Litestar
from litestar.testing import TestClient

from mall.db import Database
from mall.earning import activities, checkin
from mall.earning.activities import ActivityForResident
from mall.org import communities
from mall.people import auth, codes, credentials, residents
from mall.settings import get_settings
from tests import support
from tests.web.test_pages_account import ADMIN, community, csrf, is_full_page, post, signed_in

HTMX = {"HX-Request": "true"}


async def staff_desk(db: Database, client: TestClient[Litestar]) -> dict[str, Any]:
    """xingfuli with its staff signed in on ``client`` and a budget of 1000."""
    made = await community(db)
    await communities.grant_budget(db, ADMIN, "xingfuli", 1000, "预算", idempotency_key="g")
    await signed_in(db, client, made["staff"])
    return made


async def phone(db: Database, client: TestClient[Litestar], name: str = "王秀英") -> int:
    """A resident of xingfuli whose phone ``client`` is."""
    rid = (await residents.create_resident(db, ADMIN, "xingfuli", name, None, None)).id
    async with db.transaction() as conn:
        token = await auth.create_session(
            conn, "resident", resident_id=rid, ttl=auth.RESIDENT_SESSION
        )
    client.cookies.set("mall_session", token)
    return rid


async def call(
    db: Database, staff_id: int, *, capacity: int = 10, start: timedelta = timedelta(minutes=-5)
) -> int:
    staff = support.staff(staff_id, 1, "xingfuli", "xingfuli-staff")
    starts = datetime.now(UTC) + start
    made = await activities.create_activity(
        db,
        staff,
        "xingfuli",
        title="清理楼道",
        path="adding_to_good",
        points=15,
        capacity=capacity,
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        place="3栋楼下",
    )
    return made.id


def publish_form(client: TestClient[Litestar], fields: dict[str, Any]) -> Response:
    """The publish form, posted (its ``path`` field would clash with ``post``'s argument)."""
    return client.post(
        "/staff/activities", data={**fields, "_csrf_token": csrf(client)}, follow_redirects=False
    )


def current_code(activity_id: int) -> str:
    window = checkin.window_of(datetime.now(UTC))
    return codes.checkin_code(get_settings().secret_key, activity_id, window)


async def test_staff_publish_a_call_from_the_form(
    db: Database, client: TestClient[Litestar]
) -> None:
    await staff_desk(db, client)
    page = client.get("/staff/activities/new")
    assert page.status_code == 200 and "发布招募令" in page.text and "锦上添花" in page.text
    created = publish_form(
        client,
        {
            "title": "清理楼道",
            "path": "adding_to_good",
            "points": "15",
            "capacity": "2",
            "date": "2026-12-01",
            "starts": "09:00",
            "ends": "11:00",
            "place": "3栋楼下",
            "description": "带上手套",
        },
    )
    assert created.status_code == 303
    detail = client.get(created.headers["location"])
    assert "清理楼道" in detail.text and "2026-12-01 09:00 – 11:00" in detail.text
    assert "打开签到屏幕" in detail.text
    listed = client.get("/staff/activities")
    assert "清理楼道" in listed.text and "活动" in listed.text


async def test_a_bad_form_is_shown_again_with_the_error_and_nothing_is_made(
    db: Database, client: TestClient[Litestar]
) -> None:
    await staff_desk(db, client)
    for change, words in (
        ({"ends": "08:00"}, "结束时间要晚于开始时间"),
        ({"points": "很多"}, "积分"),
        ({"date": ""}, "请填写日期"),
    ):
        fields = {
            "title": "议事会",
            "path": "adding_to_good",
            "points": "5",
            "capacity": "3",
            "date": "2026-12-01",
            "starts": "09:00",
            "ends": "11:00",
            "place": "活动室",
            **change,
        }
        page = publish_form(client, fields)
        assert page.status_code == 400 and words in page.text, page.text
        assert 'value="议事会"' in page.text
    assert "还没有招募令" in client.get("/staff/activities").text


async def test_check_in_screen_shows_the_qr_and_its_url_and_renews_as_a_fragment(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await staff_desk(db, client)
    activity_id = await call(db, made["staff"])
    page = client.get(f"/staff/activities/{activity_id}/screen")
    assert page.status_code == 200 and is_full_page(page.text)
    matched = re.search(r'data-checkin-url="([^"]+)"', page.text)
    assert matched is not None
    url = matched.group(1)
    assert url.startswith(f"{get_settings().base_url}/c/K1-{activity_id}-")
    assert "<svg" in page.text and 'class="code-text">' + url in page.text
    assert 'hx-trigger="every 10s"' in page.text and "checkin-screen" in page.text
    fragment = client.get(f"/staff/activities/{activity_id}/screen", headers=HTMX)
    assert not is_full_page(fragment.text) and fragment.text.lstrip().startswith(
        '<div id="checkin-qr"'
    )


async def test_the_qr_link_checks_in_only_when_the_button_is_pressed(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await community(db)
    activity_id = await call(db, made["staff"])
    rid = await phone(db, client)
    code = current_code(activity_id)
    landing = client.get(f"/c/{code}")
    assert landing.status_code == 200 and "清理楼道" in landing.text
    assert f'action="/c/{code}"' in landing.text and "签到" in landing.text
    me = support.resident(rid, 1, "xingfuli")
    before = await activities.get_activity(db, me, activity_id)
    assert isinstance(before, ActivityForResident)
    assert before.my_checked_in_at is None
    done = post(client, f"/c/{code}")
    assert done.status_code == 303
    assert done.headers["location"] == f"/me/activities/{activity_id}/checked-in"
    success = client.get(done.headers["location"])
    assert "签到成功，活动结束后积分到账" in success.text
    again = post(client, f"/c/{code}")  # a second tap: the same success page, nothing more
    assert again.status_code == 303
    after = await activities.get_activity(db, me, activity_id)
    assert isinstance(after, ActivityForResident)
    assert after.my_checked_in_at is not None


async def test_a_phone_that_is_not_bound_is_told_so_and_how_to_get_help(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await community(db)
    activity_id = await call(db, made["staff"])
    code = current_code(activity_id)
    landing = client.get(f"/c/{code}")
    assert landing.status_code == 200 and "这部手机还没有绑定积分账户" in landing.text
    assert "激活二维码" in landing.text and f'action="/c/{code}"' not in landing.text
    assert post(client, f"/c/{code}").status_code == 403


async def test_an_old_or_forged_check_in_code_says_what_to_do(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await community(db)
    activity_id = await call(db, made["staff"])
    await phone(db, client)
    old = codes.checkin_code(
        get_settings().secret_key, activity_id, checkin.window_of(datetime.now(UTC)) - 3
    )
    expired = client.get(f"/c/{old}")
    assert expired.status_code == 410 and "请重新扫描屏幕上的二维码" in expired.text
    assert post(client, f"/c/{old}").status_code == 410
    forged = client.get(f"/c/K1-{activity_id}-1-AAAAAAAAAA")
    assert forged.status_code == 400 and "这个码无效" in forged.text


async def test_residents_sign_up_wait_and_cancel_on_their_phone(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await community(db)
    activity_id = await call(db, made["staff"], capacity=1, start=timedelta(days=1))
    await residents.create_resident(db, ADMIN, "xingfuli", "李建国", None, None)
    await phone(db, client, "张桂兰")
    listed = client.get("/me/activities")
    assert listed.status_code == 200 and "清理楼道" in listed.text
    assert post(client, f"/me/activities/{activity_id}/signup").status_code == 303
    assert "已报名" in client.get(f"/me/activities/{activity_id}").text
    await phone(db, client, "刘德华")
    detail = client.get(f"/me/activities/{activity_id}")
    assert "排队候补" in detail.text
    assert post(client, f"/me/activities/{activity_id}/signup").status_code == 303
    assert "候补第 1 位" in client.get(f"/me/activities/{activity_id}").text
    twice = post(client, f"/me/activities/{activity_id}/signup")
    assert twice.status_code == 400 and "您已经报过名了" in twice.text
    assert post(client, f"/me/activities/{activity_id}/cancel").status_code == 303
    listed_text = client.get("/me/activities").text
    assert "候补第" not in listed_text and "已取消报名" in listed_text


async def test_staff_check_in_by_code_watch_it_and_settle_after_confirming(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await staff_desk(db, client)
    activity_id = await call(db, made["staff"])
    rid = (await residents.create_resident(db, ADMIN, "xingfuli", "陈玉珍", None, None)).id
    me = support.resident(rid, 1, "xingfuli")
    pay = (await credentials.new_pay_code(db, me)).code
    done = post(client, f"/staff/activities/{activity_id}/attendance", code=pay, pin="")
    assert done.status_code == 303
    shown = client.get(done.headers["location"])
    assert "陈玉珍 已签到" in shown.text
    twice = post(client, f"/staff/activities/{activity_id}/attendance", code=pay, pin="")
    assert twice.status_code == 400 and "已经签到过了" in twice.text
    fragment = client.get(f"/staff/activities/{activity_id}", headers=HTMX)
    assert fragment.text.lstrip().startswith('<section id="attendance"')
    assert "陈玉珍" in fragment.text and "已签到：1" in fragment.text
    confirm = client.get(f"/staff/activities/{activity_id}/settle")
    assert "1 人 × 15 分 = 15 分" in confirm.text
    settled = post(client, f"/staff/activities/{activity_id}/settle")
    assert settled.status_code == 303
    assert "已结算：1 人共获得 15 分" in client.get(settled.headers["location"]).text
    statement = await residents.passbook(db, me, rid)
    assert [(e.memo, e.amount) for e in statement.entries] == [("清理楼道", 15)]


async def test_settling_beyond_the_budget_says_so_and_changes_nothing(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await community(db)  # no budget at all
    await signed_in(db, client, made["staff"])
    activity_id = await call(db, made["staff"])
    rid = (await residents.create_resident(db, ADMIN, "xingfuli", "陈玉珍", None, None)).id
    me = support.resident(rid, 1, "xingfuli")
    await checkin.check_in(db, me, activity_id, current_code(activity_id))
    refused = post(client, f"/staff/activities/{activity_id}/settle")
    assert refused.status_code == 400 and "社区积分预算不足" in refused.text
    assert (await activities.get_activity(db, me, activity_id)).status == "open"


async def test_volunteers_and_residents_cannot_open_staff_activity_pages(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await community(db, volunteer=True)
    activity_id = await call(db, made["staff"])
    await signed_in(db, client, made["volunteer"])
    assert client.get("/staff/activities").status_code == 403
    assert client.get(f"/staff/activities/{activity_id}/screen").status_code == 403
    await phone(db, client)
    assert client.get(f"/staff/activities/{activity_id}").status_code == 403
    assert post(client, f"/staff/activities/{activity_id}/settle").status_code == 403


async def test_staff_tick_names_from_the_paper_sheet_without_javascript(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await staff_desk(db, client)
    activity_id = await call(db, made["staff"])
    await communities.create_grid(db, ADMIN, "xingfuli", "g7", "七网格")
    paper = (await residents.create_resident(db, ADMIN, "xingfuli", "陈玉珍", None, "g7")).id
    await residents.create_resident(db, ADMIN, "xingfuli", "陈建华", "13700000001", None)
    found = client.get(f"/staff/activities/{activity_id}?q=陈")
    assert found.status_code == 200 and "陈玉珍" in found.text and "陈建华" in found.text
    by_grid = client.get(f"/staff/activities/{activity_id}?q=g7")
    assert "陈玉珍" in by_grid.text and "陈建华" not in by_grid.text
    refused = client.post(
        f"/staff/activities/{activity_id}/attendance/by-name",
        data={"resident": str(paper)},
        follow_redirects=False,
    )
    assert refused.status_code == 403  # no CSRF token
    done = client.post(
        f"/staff/activities/{activity_id}/attendance/by-name",
        data={"_csrf_token": csrf(client), "resident": [str(paper)], "q": "陈"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = client.get(done.headers["location"])
    assert "1 位居民已按签到表签到" in page.text and "已签到：1" in page.text
    again = client.get(f"/staff/activities/{activity_id}?q=陈玉珍")
    assert 'name="resident" value="' + str(paper) + '"' not in again.text
    nobody = client.post(
        f"/staff/activities/{activity_id}/attendance/by-name",
        data={"_csrf_token": csrf(client)},
        follow_redirects=False,
    )
    assert nobody.status_code == 400 and 'role="alert"' in nobody.text
    settled = post(client, f"/staff/activities/{activity_id}/settle")
    assert settled.status_code == 303
    statement = await residents.passbook(db, ADMIN, paper)
    assert [(e.memo, e.amount) for e in statement.entries] == [("清理楼道", 15)]


async def test_a_settlement_over_the_threshold_shows_it_waits_for_approval(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await staff_desk(db, client)
    activity_id = await call(db, made["staff"])
    rid = (await residents.create_resident(db, ADMIN, "xingfuli", "陈玉珍", None, None)).id
    async with db.transaction() as conn:
        await conn.execute("UPDATE mall_activity SET points = 150 WHERE id = ?", activity_id)
    post(client, f"/staff/activities/{activity_id}/attendance/by-name", resident=str(rid))
    settled = post(client, f"/staff/activities/{activity_id}/settle")
    assert settled.status_code == 303
    assert settled.headers["location"].startswith("/staff/awards/")
    assert client.get(settled.headers["location"]).status_code == 200
    page = client.get(f"/staff/activities/{activity_id}").text
    assert "积分须等另一名工作人员审批后发放" in page
    assert (await residents.passbook(db, ADMIN, rid)).entries == []
