"""The public notice (公示) and objections as pages, without JavaScript: the public page and its
printable A4 version with a QR code (no full name, phone or resident id in the source), a
resident's objection form and list, staff's list, decision page and dashboard."""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from mall.db import Database
from mall.earning import awards
from mall.people import auth, residents
from mall.reports import objections
from tests import support
from tests.web.test_pages_account import ADMIN, post, signed_in
from tests.web.test_pages_earning import SLUG, place, staff_principal, wallet

PEOPLE = (("王秀英", "13800000001"), ("李建国", None), ("张桂兰", None))


async def noticed(db: Database, client: TestClient[Litestar]) -> tuple[dict[str, Any], int, int]:
    """``place`` with a posted award of 10 points to its first two residents (by the second
    staff member); returns the place, the award and the first resident's entry."""
    info = await place(db, client)
    made = await awards.create_award(
        db,
        staff_principal(info, "staff2"),
        SLUG,
        "meeting",
        info["residents"][:2],
        "参加议事会",
        idempotency_key="k",
    )
    async with db.connection() as conn:
        entry = await conn.fetchval(
            "SELECT id FROM mall_award_line WHERE award = ? AND resident = ?",
            made.id,
            info["residents"][0],
        )
    return info, made.id, int(entry)


async def as_resident(db: Database, client: TestClient[Litestar], name: str = "钱多多") -> int:
    """A new resident of xingfuli whose phone ``client`` now is."""
    rid = (await residents.create_resident(db, ADMIN, SLUG, name, None, None)).id
    async with db.transaction() as conn:
        token = await auth.create_session(
            conn, "resident", resident_id=rid, ttl=auth.RESIDENT_SESSION
        )
    client.cookies.set("mall_session", token)
    return rid


def leaks(text: str, ids: list[int]) -> list[str]:
    found = [name for name, _ in PEOPLE if name in text]
    found += [phone for _, phone in PEOPLE if phone and phone in text]
    found += [f"/residents/{i}" for i in ids if f"/residents/{i}" in text]
    return found


async def test_anyone_reads_the_notice_with_masked_names_and_no_personal_data(
    db: Database, client: TestClient[Litestar]
) -> None:
    info, _, entry = await noticed(db, client)
    client.cookies.clear()
    page = client.get(f"/c/{SLUG}/notice")
    assert page.status_code == 200
    assert "max-age=60" in page.headers["cache-control"]
    assert "王**" in page.text and "李**" in page.text and "参加议事会" in page.text
    assert f'href="/c/{SLUG}/notice/{entry}/object"' in page.text
    assert leaks(page.text, info["residents"]) == []
    printed = client.get(f"/c/{SLUG}/notice/print")
    assert printed.status_code == 200 and "<svg" in printed.text and "<table" in printed.text
    assert f"/c/{SLUG}/notice" in printed.text
    assert leaks(printed.text, info["residents"]) == []


def test_an_unknown_community_or_bad_dates_get_a_plain_error_page(
    client: TestClient[Litestar],
) -> None:
    assert client.get("/c/nowhere/notice").status_code == 404
    assert client.get(f"/c/{SLUG}/notice?from=not-a-day").status_code == 400


async def test_a_signed_out_visitor_who_objects_is_sent_to_sign_in(
    db: Database, client: TestClient[Litestar]
) -> None:
    _, _, entry = await noticed(db, client)
    client.cookies.clear()
    sent = client.get(f"/c/{SLUG}/notice/{entry}/object", follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == "/start"


async def test_a_resident_objects_and_reads_staffs_reply_on_me(
    db: Database, client: TestClient[Litestar]
) -> None:
    info, award_id, entry = await noticed(db, client)
    await as_resident(db, client)
    form = client.get(f"/c/{SLUG}/notice/{entry}/object")
    assert form.status_code == 200 and 'name="reason"' in form.text and "王**" in form.text
    empty = post(client, f"/c/{SLUG}/notice/{entry}/object", reason="")
    assert empty.status_code == 400 and 'name="reason"' in empty.text
    sent = post(client, f"/c/{SLUG}/notice/{entry}/object", reason="他那天不在")
    assert sent.status_code == 303 and sent.headers["location"] == "/me/objections"
    again = post(client, f"/c/{SLUG}/notice/{entry}/object", reason="他那天不在")
    assert again.status_code == 409
    mine = client.get("/me/objections").text
    assert "他那天不在" in mine and "等待答复" in mine
    staff = staff_principal(info)
    (found,) = await objections.community_objections(db, staff, SLUG)
    await objections.decide(db, staff, found.id, "dismiss", "签到表有记录")
    mine = client.get("/me/objections").text
    assert "签到表有记录" in mine and "不予采纳" in mine
    assert award_id


async def test_staff_see_open_objections_on_the_dashboard_and_uphold_one(
    db: Database, client: TestClient[Litestar]
) -> None:
    info, award_id, entry = await noticed(db, client)
    objector = await residents.create_resident(db, ADMIN, SLUG, "钱多多", None, None)
    filed = await objections.file(
        db, support.resident(objector.id, info["id"], SLUG), entry, "重复申报"
    )
    await signed_in(db, client, info["staff"])
    dashboard = client.get("/staff/earning").text
    assert f'href="/staff/objections/{filed.id}"' in dashboard and "重复申报" in dashboard
    assert f"/c/{SLUG}/notice" in dashboard and "<svg" in dashboard
    listed = client.get("/staff/objections").text
    assert "钱多多" in listed and "重复申报" in listed
    page = client.get(f"/staff/objections/{filed.id}").text
    assert 'value="uphold"' in page and 'value="dismiss"' in page and 'name="reply"' in page
    no_reply = post(client, f"/staff/objections/{filed.id}/decision", decision="uphold", reply="")
    assert no_reply.status_code == 400
    assert [await wallet(db, r) for r in info["residents"][:2]] == [10, 10]
    done = post(
        client, f"/staff/objections/{filed.id}/decision", decision="uphold", reply="核实属实"
    )
    assert done.status_code == 303
    assert [await wallet(db, r) for r in info["residents"][:2]] == [0, 0]
    shown = client.get(done.headers["location"]).text
    assert "核实属实" in shown and 'value="uphold"' not in shown
    twice = post(client, f"/staff/objections/{filed.id}/decision", decision="dismiss", reply="好")
    assert twice.status_code == 409
    client.cookies.clear()
    public = client.get(f"/c/{SLUG}/notice").text
    assert re.search(r'class="reversed"', public) and "已撤销" in public
    assert award_id


async def test_the_audit_log_names_the_objection_actions_in_words(
    db: Database, client: TestClient[Litestar]
) -> None:
    info, _, entry = await noticed(db, client)
    objector = await residents.create_resident(db, ADMIN, SLUG, "钱多多", None, None)
    filed = await objections.file(
        db, support.resident(objector.id, info["id"], SLUG), entry, "重复申报"
    )
    await objections.decide(db, staff_principal(info), filed.id, "dismiss", "已核实")
    await signed_in(db, client, info["staff"])
    log = client.get("/staff/audit").text
    assert "objection.dismiss" not in log and "objection.file" not in log
