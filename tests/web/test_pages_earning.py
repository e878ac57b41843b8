"""Earning pages through HTTP: the staff dashboard, issuing points (also by pay code, and a double
tap posting once), approvals, rules, the submissions queue and decisions, and the residents'
submission form and list; CSRF and who may see them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from httpx import Response
from litestar import Litestar
from litestar.testing import TestClient

import ledger
from mall.access import Principal
from mall.db import Database
from mall.earning import awards, rules, submissions
from mall.org import communities, points
from mall.people import auth, credentials, residents, users
from tests import support
from tests.web.test_pages_account import (
    ADMIN,
    PASSWORD,
    community,
    csrf,
    is_full_page,
    post,
    signed_in,
)

SLUG = "xingfuli"


async def place(db: Database, client: TestClient[Litestar]) -> dict[str, Any]:
    """xingfuli with two staff members (the client signed in as the first), three residents,
    a budget of 500, a rule of 10 points and one of 60 needing approval above 50."""
    made = await community(db)
    second = await users.create_user_unchecked(db, "xingfuli-staff2", PASSWORD, "staff", SLUG)
    await signed_in(db, client, made["staff"])
    people = [
        (await residents.create_resident(db, ADMIN, SLUG, name, phone, None)).id
        for name, phone in (("王秀英", "13800000001"), ("李建国", None), ("张桂兰", None))
    ]
    await communities.grant_budget(db, ADMIN, SLUG, 500, "预算", idempotency_key="b")
    await rules.create_rule(db, ADMIN, SLUG, "meeting", "参加议事会", "adding_to_good", 10)
    await rules.create_rule(
        db, ADMIN, SLUG, "mediate", "调解纠纷成功", "settling_disputes", 60, approval_threshold=50
    )
    return {"staff": made["staff"], "staff2": second.id, "residents": people, "id": made["id"]}


def staff_principal(info: dict[str, Any], who: str = "staff") -> Principal:
    return support.staff(info[who], info["id"], SLUG, who)


async def wallet(db: Database, resident_id: int) -> int:
    async with db.connection() as conn:
        book = await conn.fetchval("SELECT book FROM mall_community WHERE slug = ?", SLUG)
        return (await ledger.get_balance(conn, book, points.wallet(resident_id))).balance


def key_of(page: str) -> str:
    matched = re.search(r'name="key" value="([^"]+)"', page)
    assert matched is not None
    return matched.group(1)


def issue(
    client: TestClient[Litestar], key: str, rule: str, ids: list[int], memo: str = "参加议事会"
) -> Response:
    data = [("_csrf_token", csrf(client)), ("key", key), ("rule", rule), ("memo", memo)]
    data += [("resident", str(i)) for i in ids]
    return client.post(
        "/staff/awards",
        content=urlencode(data).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )


async def test_the_dashboard_shows_the_budget_and_overdue_submissions_first(
    db: Database, client: TestClient[Litestar]
) -> None:
    info = await place(db, client)
    filer = support.resident(info["residents"][0], info["id"], SLUG)
    late = await submissions.file(db, filer, "dispute", "楼道堆物", "")
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE mall_submission SET due_at = ? WHERE id = ?",
            datetime.now(UTC) - timedelta(days=1),
            late.id,
        )
    page = client.get("/staff/earning")
    assert page.status_code == 200 and is_full_page(page.text)
    assert "500 分" in page.text and "已超过办结期限" in page.text
    assert page.text.index("楼道堆物") < page.text.index("积分预算")
    assert 'class="overdue"' in page.text


async def test_issuing_points_to_several_residents_posts_one_award(
    db: Database, client: TestClient[Litestar]
) -> None:
    info = await place(db, client)
    form = client.get("/staff/awards/new")
    assert form.status_code == 200 and all(n in form.text for n in ("王秀英", "李建国", "张桂兰"))
    done = issue(client, key_of(form.text), "meeting", info["residents"][:2])
    assert done.status_code == 303 and done.headers["location"].startswith("/staff/awards/")
    result = client.get(done.headers["location"])
    assert "已发放" in result.text and "王秀英" in result.text
    assert [await wallet(db, r) for r in info["residents"]] == [10, 10, 0]


async def test_a_double_tap_posts_once(db: Database, client: TestClient[Litestar]) -> None:
    info = await place(db, client)
    key = key_of(client.get("/staff/awards/new").text)
    first = issue(client, key, "meeting", info["residents"][:1])
    second = issue(client, key, "meeting", info["residents"][:1])
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert await wallet(db, info["residents"][0]) == 10


async def test_issuing_without_the_csrf_token_is_refused(
    db: Database, client: TestClient[Litestar]
) -> None:
    info = await place(db, client)
    key = key_of(client.get("/staff/awards/new").text)
    response = client.post(
        "/staff/awards",
        data={"key": key, "rule": "meeting", "memo": "x", "resident": str(info["residents"][0])},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert await wallet(db, info["residents"][0]) == 0


async def test_an_award_refused_shows_the_form_again_with_the_choice_kept(
    db: Database, client: TestClient[Litestar]
) -> None:
    info = await place(db, client)
    key = key_of(client.get("/staff/awards/new").text)
    refused = issue(client, key, "meeting", info["residents"][:1], memo="")
    assert refused.status_code == 400 and "请写明原因" in refused.text
    assert re.search(rf'value="{info["residents"][0]}" checked', refused.text)
    assert key_of(refused.text) == key
    assert issue(client, key, "meeting", info["residents"][:1]).status_code == 303


async def test_a_resident_is_found_by_pay_code_without_using_it_up(
    db: Database, client: TestClient[Litestar]
) -> None:
    info = await place(db, client)
    me = support.resident(info["residents"][2], info["id"], SLUG)
    code = (await credentials.new_pay_code(db, me)).code
    found = post(client, "/staff/awards/find", code=code)
    assert found.status_code == 303
    assert f"picked={info['residents'][2]}" in found.headers["location"]
    page = client.get(found.headers["location"])
    assert re.search(rf'value="{info["residents"][2]}" checked', page.text)
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT used_at FROM mall_code WHERE kind = 'pay'") is None
    wrong = post(client, "/staff/awards/find", code="12345678901234567890")
    assert wrong.status_code == 400 and "无效" in wrong.text


async def test_a_large_award_waits_and_only_another_staff_member_approves_it(
    db: Database, client: TestClient[Litestar]
) -> None:
    info = await place(db, client)
    key = key_of(client.get("/staff/awards/new").text)
    done = issue(client, key, "mediate", info["residents"][:1], memo="调解漏水")
    award_page = client.get(done.headers["location"])
    assert "等待审核" in award_page.text
    award_id = int(done.headers["location"].rsplit("/", 1)[1])
    mine = client.get("/staff/approvals")
    assert "调解漏水" in mine.text and f"/staff/awards/{award_id}/approve" not in mine.text
    refused = post(client, f"/staff/awards/{award_id}/approve")
    assert refused.status_code == 403 and "另一位工作人员" in refused.text
    await signed_in(db, client, info["staff2"])
    assert f"/staff/awards/{award_id}/approve" in client.get("/staff/approvals").text
    approved = post(client, f"/staff/awards/{award_id}/approve")
    assert approved.status_code == 303
    assert await wallet(db, info["residents"][0]) == 60
    again = post(client, f"/staff/awards/{award_id}/approve")
    assert again.status_code == 409
    assert await wallet(db, info["residents"][0]) == 60


async def test_an_award_not_approved_needs_a_reason(
    db: Database, client: TestClient[Litestar]
) -> None:
    info = await place(db, client)
    award = await awards.create_award(
        db,
        staff_principal(info, "staff2"),
        SLUG,
        "mediate",
        info["residents"][:1],
        "调解",
        idempotency_key="k",
    )
    assert post(client, f"/staff/awards/{award.id}/reject", reason="").status_code == 400
    done = post(client, f"/staff/awards/{award.id}/reject", reason="重复申报")
    assert done.status_code == 303
    assert "没有等待审核" in client.get("/staff/approvals").text
    page = client.get(f"/staff/awards/{award.id}").text  # the maker reads why
    assert "<dt>未通过的原因</dt><dd>重复申报</dd>" in page


async def test_staff_create_rules_on_the_rules_page(
    db: Database, client: TestClient[Litestar]
) -> None:
    await place(db, client)

    def create(**fields: str) -> Response:
        data = {"_csrf_token": csrf(client), "path": "timely_help"} | fields
        return client.post("/staff/rules", data=data, follow_redirects=False)

    made = create(name="完成微心愿", code="wish", points="20", daily_cap="", monthly_cap="100")
    assert made.status_code == 303
    page = client.get("/staff/rules")
    assert "完成微心愿" in page.text and "每月最多 100 分" in page.text
    bad = create(name="坏", code="bad", points="0")
    assert bad.status_code == 400 and 'role="alert"' in bad.text and 'value="坏"' in bad.text
    # not listed (the page's random CSRF token may well contain "bad", so look for the entry)
    assert '<span class="note">(bad)</span>' not in client.get("/staff/rules").text
    assert '<span class="note">(wish)</span>' in client.get("/staff/rules").text


async def test_residents_file_and_follow_their_submissions(
    db: Database, client: TestClient[Litestar]
) -> None:
    info = await place(db, client)
    async with db.transaction() as conn:
        token = await auth.create_session(
            conn, "resident", resident_id=info["residents"][0], ttl=auth.RESIDENT_SESSION
        )
    client.cookies.set("mall_session", token)
    assert "/me/submissions" in client.get("/me").text
    form = client.get("/me/submissions/new")
    assert form.status_code == 200 and "<textarea" in form.text
    bad = post(client, "/me/submissions", kind="wish", title="", body="")
    assert bad.status_code == 400 and 'role="alert"' in bad.text
    sent = post(client, "/me/submissions", kind="wish", title="想学用智能手机", body="教教我")
    assert sent.status_code == 303
    mine = client.get(sent.headers["location"])
    assert "想学用智能手机" in mine.text and "微心愿" in mine.text and "待受理" in mine.text
    assert client.get("/staff/submissions").status_code == 403


async def test_staff_decide_a_micro_wish_and_choose_whom_the_points_go_to(
    db: Database, client: TestClient[Litestar]
) -> None:
    info = await place(db, client)
    filer, helper = info["residents"][0], info["residents"][1]
    me = support.resident(filer, info["id"], SLUG)
    wish = await submissions.file(db, me, "wish", "帮我换灯泡", "")
    queue = client.get("/staff/submissions?status=open")
    assert "帮我换灯泡" in queue.text
    detail = client.get(f"/staff/submissions/{wish.id}")
    assert 'name="helper"' in detail.text and 'value="meeting"' in detail.text
    assert 'name="reward_to" value="helper" checked' in detail.text
    refused = post(client, f"/staff/submissions/{wish.id}/decision", decision="reject")
    assert refused.status_code == 400 and "请写明原因" in refused.text
    done = post(
        client,
        f"/staff/submissions/{wish.id}/decision",
        decision="resolve",
        reason="已换好",
        rule="meeting",
        helper=str(helper),
    )
    assert done.status_code == 303
    assert (await wallet(db, filer), await wallet(db, helper)) == (0, 10)
    page = client.get(f"/staff/submissions/{wish.id}")
    assert "已办结" in page.text and "李建国" in page.text and 'name="decision"' not in page.text
    other = await submissions.file(db, me, "wish", "帮我修水管", "")
    done = post(
        client,
        f"/staff/submissions/{other.id}/decision",
        decision="resolve",
        reason="修好了",
        rule="meeting",
        helper=str(helper),
        reward_to="filer",
    )
    assert done.status_code == 303
    assert (await wallet(db, filer), await wallet(db, helper)) == (10, 10)


async def test_staff_change_the_days_per_kind(db: Database, client: TestClient[Litestar]) -> None:
    await place(db, client)
    done = post(client, "/staff/submissions/deadlines", dispute="2", proposal="7", wish="14")
    assert done.status_code == 303
    assert 'value="2"' in client.get("/staff/submissions").text
    bad = post(client, "/staff/submissions/deadlines", dispute="0", proposal="7", wish="14")
    assert bad.status_code == 400 and 'role="alert"' in bad.text


async def test_volunteers_and_residents_cannot_open_staff_earning_pages(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await community(db, volunteer=True)
    await signed_in(db, client, made["volunteer"])
    for path in ("/staff/earning", "/staff/awards/new", "/staff/approvals", "/staff/rules"):
        assert client.get(path).status_code == 403, path


async def test_the_issue_page_finds_and_keeps_anyone_of_the_community_not_only_the_first_200(
    db: Database, client: TestClient[Litestar]
) -> None:
    info = await place(db, client)
    await communities.create_grid(db, ADMIN, SLUG, "g9", "九网格")
    for i in range(205):
        await residents.create_resident(db, ADMIN, SLUG, f"阿{i:03}", None, None)
    late = (await residents.create_resident(db, ADMIN, SLUG, "龙小明", "13600000009", "g9")).id
    first = client.get("/staff/awards/new")
    assert "龙小明" not in first.text  # the list without a search shows the first 200 by name
    for q in ("龙", "0009", "g9", "九网格"):
        assert "龙小明" in client.get(f"/staff/awards/new?q={q}").text, q
    picked = client.get(f"/staff/awards/new?picked={late}")
    assert re.search(rf'value="{late}" checked', picked.text)
    page = client.get(f"/staff/awards/new?picked={late}").text
    done = issue(client, key_of(page), "meeting", [late])
    assert done.status_code == 303
    assert await wallet(db, late) == 10
    assert info["residents"]
