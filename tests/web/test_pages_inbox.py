"""The inbox, announcements and the rating as pages, without JavaScript: staff write an
announcement (escaped in every page that shows it, in the page source too), the resident sees the
unread count at home, reads it and marks it read; a resolved submission's filer rates it once
with big star buttons, and staff see the rating; another community's staff see none of it."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from litestar import Litestar
from litestar.testing import TestClient
from python_calamine import CalamineWorkbook

from mall.days import today
from mall.db import Database
from mall.earning import ratings, submissions
from mall.notify import announcements, inbox
from mall.people import auth, users
from tests import support
from tests.web.test_pages_account import ADMIN, PASSWORD, community, post, signed_in
from tests.web.test_pages_earning import SLUG, place
from tests.web.test_pages_notice import as_resident

SCRIPT = "<script>alert('x')</script>"
IMG = '<img src=x onerror="alert(1)">'


async def phone_of(db: Database, client: TestClient[Litestar], rid: int) -> None:
    """``client`` is now the phone of resident ``rid``."""
    async with db.transaction() as conn:
        token = await auth.create_session(
            conn, "resident", resident_id=rid, ttl=auth.RESIDENT_SESSION
        )
    client.cookies.set("mall_session", token)


async def test_staff_announce_and_the_text_is_escaped_everywhere(
    db: Database, client: TestClient[Litestar]
) -> None:
    info = await place(db, client)
    page = client.get("/staff/announcements")
    assert page.status_code == 200 and 'action="/staff/announcements"' in page.text
    sent = post(
        client, "/staff/announcements", title=f"通知{SCRIPT}", body=f"正文{IMG}\n第二行", to="all"
    )
    assert sent.status_code == 303, sent.text
    listed = client.get(sent.headers["location"])
    assert 'class="done"' in listed.text
    assert (await announcements.community_announcements(db, ADMIN, SLUG))[0].recipients == 3
    assert SCRIPT not in listed.text and IMG not in listed.text
    assert "&lt;script&gt;" in listed.text and "&lt;img src=x onerror=" in listed.text
    await phone_of(db, client, info["residents"][0])
    home = client.get("/me")
    assert 'href="/me/inbox"' in home.text and 'data-unread="1"' in home.text
    messages = client.get("/me/inbox")
    assert messages.status_code == 200
    assert SCRIPT not in messages.text and IMG not in messages.text
    assert "通知&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in messages.text
    assert 'class="message unread"' in messages.text


async def test_a_grid_announcement_with_an_unknown_grid_is_refused_and_nothing_sent(
    db: Database, client: TestClient[Litestar]
) -> None:
    await place(db, client)
    refused = post(
        client, "/staff/announcements", title="网格通知", body="正文", to="grid", grid="zz"
    )
    assert refused.status_code == 400 and 'role="alert"' in refused.text
    assert "网格通知" in refused.text  # the form keeps what was typed
    assert await announcements.community_announcements(db, ADMIN, SLUG) == []


async def test_the_resident_marks_messages_read(db: Database, client: TestClient[Litestar]) -> None:
    await place(db, client)
    for title in ("第一条", "第二条"):
        await announcements.publish(db, ADMIN, SLUG, title, "内容")
    rid = await as_resident(db, client)
    async with db.connection() as conn:
        cid = int(await conn.fetchval("SELECT id FROM mall_community WHERE slug = ?", SLUG))
    me = support.resident(rid, cid, SLUG)
    # published before this resident existed: they find them too (inbox.CATCH_UP)
    assert "第一条" in client.get("/me/inbox").text
    await announcements.publish(db, ADMIN, SLUG, "第三条", "内容")
    await announcements.publish(db, ADMIN, SLUG, "第四条", "内容")
    page = client.get("/me/inbox")
    assert page.text.count('class="message unread"') == 4
    assert post(client, "/me/inbox/read", id="x1").status_code == 303  # a bad id marks nothing
    assert client.get("/me/inbox").text.count('class="message unread"') == 4
    newest = (await inbox.messages(db, me))[0]
    assert newest.title == "第四条"
    assert post(client, "/me/inbox/read", id=str(newest.id)).status_code == 303
    assert client.get("/me/inbox").text.count('class="message unread"') == 3
    assert post(client, "/me/inbox/read").status_code == 303
    page = client.get("/me/inbox")
    assert 'class="message unread"' not in page.text and "第四条" in page.text
    assert 'data-unread="' not in client.get("/me").text


async def test_the_filer_rates_a_resolved_submission_once_and_staff_see_it(
    db: Database, client: TestClient[Litestar]
) -> None:
    info = await place(db, client)
    rid = await as_resident(db, client)
    me = support.resident(rid, info["id"], SLUG)
    made = await submissions.file(db, me, "dispute", "楼道堆物", "")
    mine = client.get("/me/submissions")
    assert f'action="/me/submissions/{made.id}/rating"' not in mine.text  # not resolved yet
    early = post(client, f"/me/submissions/{made.id}/rating", stars="5")
    assert early.status_code == 400 and 'role="alert"' in early.text
    await submissions.decide(db, ADMIN, made.id, "resolve", reason="已清理")
    mine = client.get("/me/submissions")
    assert f'action="/me/submissions/{made.id}/rating"' in mine.text
    assert mine.text.count('name="stars"') == 5
    done = post(client, f"/me/submissions/{made.id}/rating", stars="4", comment=f"很好{SCRIPT}")
    assert done.status_code == 303
    shown = client.get(done.headers["location"])
    assert 'class="rating-given"' in shown.text
    assert SCRIPT not in shown.text and "很好&lt;script&gt;" in shown.text
    assert f'action="/me/submissions/{made.id}/rating"' not in shown.text
    again = post(client, f"/me/submissions/{made.id}/rating", stars="1")
    assert again.status_code == 409
    assert (await submissions.get(db, me, made.id)).stars == 4
    for bad in ("0", "6", "x", ""):
        other = await submissions.file(db, me, "wish", f"想学{bad}", "")
        await submissions.decide(db, ADMIN, other.id, "resolve")
        assert post(client, f"/me/submissions/{other.id}/rating", stars=bad).status_code == 400
        assert (await submissions.get(db, me, other.id)).stars is None
    await signed_in(db, client, info["staff"])
    staff_page = client.get(f"/staff/submissions/{made.id}")
    assert staff_page.status_code == 200 and "很好&lt;script&gt;" in staff_page.text
    assert SCRIPT not in staff_page.text


async def test_another_communitys_staff_neither_announce_nor_read(
    db: Database, client: TestClient[Litestar]
) -> None:
    await place(db, client)
    await announcements.publish(db, ADMIN, SLUG, "幸福里的通知", "内容")
    other = await community(db, "heping", "和平社区")
    await signed_in(db, client, other["staff"])
    page = client.get("/staff/announcements")
    assert page.status_code == 200 and "幸福里的通知" not in page.text
    assert client.get(f"/staff/announcements?community={SLUG}").text.count("幸福里的通知") == 0
    sent = post(client, "/staff/announcements", title="越权", body="内容", community=SLUG)
    assert sent.status_code == 303  # staff always write to their own community
    assert [a.title for a in await announcements.community_announcements(db, ADMIN, SLUG)] == [
        "幸福里的通知"
    ]
    assert client.get("/me/inbox", follow_redirects=False).status_code in (302, 303, 401, 403)


async def test_the_street_overview_flags_overdue_submissions_by_community(
    db: Database, client: TestClient[Litestar]
) -> None:
    info = await place(db, client)
    await community(db, "heping", "和平社区")
    me = support.resident(info["residents"][0], info["id"], SLUG)
    late = await submissions.file(db, me, "dispute", "楼上漏水", "")
    await submissions.file(db, me, "proposal", "加装路灯", "")  # not yet due
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE mall_submission SET due_at = ? WHERE id = ?",
            datetime.now(UTC) - timedelta(hours=1),
            late.id,
        )
    await users.create_user_unchecked(db, "street-admin", PASSWORD, "admin", None)
    async with db.transaction() as conn:
        uid = await conn.fetchval("SELECT id FROM mall_user WHERE username = 'street-admin'")
    await signed_in(db, client, int(uid))
    page = client.get("/admin")
    assert page.status_code == 200
    assert 'class="overdue-box"' in page.text
    assert f'href="/staff/submissions?community={SLUG}"' in page.text
    assert 'class="num overdue" data-label="超期未办">1<' in page.text
    await submissions.decide(db, ADMIN, late.id, "reject", reason="不属于社区职责")
    assert 'class="overdue-box"' not in client.get("/admin").text


async def test_the_staff_statistics_and_the_monthly_workbook_report_the_ratings(
    db: Database, client: TestClient[Litestar]
) -> None:
    info = await place(db, client)
    me = support.resident(info["residents"][0], info["id"], SLUG)
    for stars in (5, 2):
        made = await submissions.file(db, me, "dispute", f"楼道堆物{stars}", "")
        await submissions.decide(db, ADMIN, made.id, "resolve")
        await ratings.rate(db, me, made.id, stars)
    page = client.get("/staff/stats")
    assert page.status_code == 200
    assert "居民评价了 2 件已办结的事项，平均 3.5 星。" in page.text
    assert "居民对办结事项的评价" in page.text
    response = client.get(f"/staff/reports/monthly.xlsx?month={today():%Y-%m}")
    assert response.status_code == 200
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    rows = book.get_sheet_by_name("概况").to_python()
    figures = dict(zip(rows[0], rows[1], strict=True))
    assert (figures["评价数"], figures["平均评分"]) == (2, 3.5)
    by_month = book.get_sheet_by_name("居民对办结事项的评价").to_python()
    assert ["幸福里社区", f"{today():%Y-%m}", 2, 3.5] in by_month
