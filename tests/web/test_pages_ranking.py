"""Volunteer hours and the ranking (积分榜) as pages (issue #20): staff publish an activity with
hours and correct one attendee's; the resident's page shows this year's hours; the settings page
opts in and out; the public ranking page shows only those who opted in, masked, and never a full
name in its source; the statistics pages count the hours."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient

from mall.access import Staff
from mall.db import Database
from mall.earning import checkin, sheet
from mall.people import auth
from tests import support
from tests.web.test_pages_account import post, signed_in
from tests.web.test_pages_activities import call, phone, publish_form, staff_desk
from tests.web.test_pages_stats import workbook_of


async def as_phone_of(db: Database, client: TestClient[Litestar], resident_id: int) -> None:
    """``client`` becomes the phone of ``resident_id``."""
    async with db.transaction() as conn:
        token = await auth.create_session(
            conn, "resident", resident_id=resident_id, ttl=auth.RESIDENT_SESSION
        )
    client.cookies.set("mall_session", token)


def staff_of(made: dict[str, object]) -> Staff:
    return support.staff(
        int(str(made["staff"])), int(str(made["id"])), "xingfuli", "xingfuli-staff"
    )


async def test_staff_publish_with_hours_and_a_bad_number_is_shown_again(
    db: Database, client: TestClient[Litestar]
) -> None:
    await staff_desk(db, client)
    fields = {
        "title": "敬老院陪护",
        "path": "timely_help",
        "points": "15",
        "hours": "2.5",
        "capacity": "5",
        "date": "2026-12-01",
        "starts": "09:00",
        "ends": "11:30",
        "place": "敬老院",
    }
    assert "每位参加者记多少志愿时长" in client.get("/staff/activities/new").text
    bad = publish_form(client, {**fields, "hours": "2.55"})
    assert bad.status_code == 400 and "最多一位小数" in bad.text
    assert "敬老院陪护" not in client.get("/staff/activities").text
    made = publish_form(client, fields)
    assert made.status_code == 303
    detail = client.get(made.headers["location"])
    assert "志愿时长" in detail.text and "2.5 小时" in detail.text


async def test_staff_correct_one_attendee_and_the_resident_sees_the_year_s_hours(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await staff_desk(db, client)
    staff = staff_of(made)
    activity_id = await call(db, int(str(made["staff"])))
    async with db.transaction() as conn:
        await conn.execute("UPDATE mall_activity SET hours_tenths = 30 WHERE id = ?", activity_id)
    rid = await phone(db, client, "李秀兰")
    other = await phone(db, client, "张建国")
    await sheet.record_attendance_by_name(db, staff, activity_id, [rid, other])
    await signed_in(db, client, int(str(made["staff"])))
    page = client.get(f"/staff/activities/{activity_id}")
    assert "修改一位参加者的志愿时长" in page.text
    refused = post(client, f"/staff/activities/{activity_id}/hours", resident=str(rid), hours="x")
    assert refused.status_code == 400 and "最多一位小数" in refused.text
    done = post(client, f"/staff/activities/{activity_id}/hours", resident=str(rid), hours="1.5")
    assert done.status_code == 303
    assert "1.5 小时" in client.get(done.headers["location"]).text
    await checkin.settle(db, staff, activity_id)
    await phone(db, client, "王不参加")
    assert "0.0 小时" in client.get("/me").text
    await as_phone_of(db, client, rid)
    home = client.get("/me")
    assert "志愿时长" in home.text and "1.5 小时" in home.text


async def test_opting_in_and_out_of_the_ranking_from_settings(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await staff_desk(db, client)
    staff = staff_of(made)
    activity_id = await call(db, int(str(made["staff"])))
    async with db.transaction() as conn:
        await conn.execute("UPDATE mall_activity SET hours_tenths = 20 WHERE id = ?", activity_id)
    shown = await phone(db, client, "赵文静")
    hidden = await phone(db, client, "钱多多")
    await sheet.record_attendance_by_name(db, staff, activity_id, [shown, hidden])
    await checkin.settle(db, staff, activity_id)
    board = client.get("/c/xingfuli/ranking")
    assert board.status_code == 200 and "暂时还没有人上榜" in board.text
    settings = client.get("/me/settings")  # the phone is 钱多多's, who stays out
    assert "现在：不显示。" in settings.text and 'href="/c/xingfuli/ranking"' in settings.text
    refused = client.post("/me/ranking", data={"show": "1"}, follow_redirects=False)
    assert refused.status_code == 403
    await as_phone_of(db, client, shown)
    assert post(client, "/me/ranking", show="1").status_code == 303
    assert "现在：在积分榜上显示。" in client.get("/me/settings").text
    for by in ("points", "hours"):
        page = client.get(f"/c/xingfuli/ranking?by={by}")
        assert "赵**" in page.text and "15 分" in page.text and "2.0 小时" in page.text
        assert "赵文静" not in page.text and "钱" not in page.text
    assert "no-cache" in client.get("/c/xingfuli/ranking").headers["cache-control"]
    assert post(client, "/me/ranking", show="0").status_code == 303
    assert "赵**" not in client.get("/c/xingfuli/ranking").text
    assert client.get("/c/xingfuli/ranking?by=name").status_code == 400
    assert client.get("/c/nowhere/ranking").status_code == 404
    assert 'href="/c/xingfuli/ranking"' in client.get("/c/xingfuli/notice").text
    client.cookies.delete("mall_session")
    signed_out = post(client, "/me/ranking", show="1")
    assert signed_out.status_code == 303 and signed_out.headers["location"].startswith("/start")
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT COUNT(*) FROM mall_resident WHERE ranking_opt_in") == 0


async def test_staff_cannot_opt_anyone_in(db: Database, client: TestClient[Litestar]) -> None:
    made = await staff_desk(db, client)
    await phone(db, client, "孙文")
    await signed_in(db, client, int(str(made["staff"])))
    assert post(client, "/me/ranking", show="1").status_code == 403
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT COUNT(*) FROM mall_resident WHERE ranking_opt_in") == 0


async def test_the_statistics_pages_and_the_workbook_count_volunteer_hours(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await staff_desk(db, client)
    staff = staff_of(made)
    activity_id = await call(db, int(str(made["staff"])))
    async with db.transaction() as conn:
        await conn.execute("UPDATE mall_activity SET hours_tenths = 25 WHERE id = ?", activity_id)
    people = [await phone(db, client, name) for name in ("周一", "周二")]
    await sheet.record_attendance_by_name(db, staff, activity_id, people)
    await checkin.settle(db, staff, activity_id)
    await signed_in(db, client, int(str(made["staff"])))
    page = client.get("/staff/stats")
    assert "各途径志愿时长" in page.text
    hours_part = page.text.split('id="s-hours"')[1].split("</section>")[0]
    assert "锦上添花" in hours_part and ">5.0<" in hours_part
    book = workbook_of(client.get("/staff/reports/monthly.xlsx"))
    figures = book.get_sheet_by_name("概况").to_python()
    assert dict(zip(figures[0], figures[1], strict=True))["志愿时长"] == 5.0
    months = book.get_sheet_by_name("按月发放积分").to_python()
    assert months[0][-1] == "志愿时长" and months[1][-1] == 5.0
    by_path = book.get_sheet_by_name("各途径志愿时长").to_python()
    assert ["幸福里社区", "锦上添花", 5.0] in by_path
