"""Reversing an award through the staff pages: the 撤销 button on the award, a confirmation page
with the reason (no JavaScript needed), POST → 303 back to the award, which shows who reversed it,
when and why; a double tap reverses once; refusals show the form again and change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from httpx import Response
from litestar import Litestar
from litestar.testing import TestClient

import ledger
from mall.db import Database
from mall.earning import awards
from mall.org import communities, points
from mall.people import users
from tests.web.test_pages_account import ADMIN, PASSWORD, csrf, signed_in
from tests.web.test_pages_earning import SLUG, key_of, place, staff_principal, wallet


async def posted(db: Database, client: TestClient[Litestar]) -> tuple[dict[str, Any], int]:
    """``place`` and a posted award of 10 points to its first two residents, made by the second
    staff member; the client is signed in as the first."""
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
    return info, made.id


def send(client: TestClient[Litestar], award_id: int, key: str, reason: str) -> Response:
    data = [("_csrf_token", csrf(client)), ("key", key), ("reason", reason)]
    return client.post(
        f"/staff/awards/{award_id}/reverse",
        content=urlencode(data).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )


async def journals(db: Database) -> int:
    async with db.connection() as conn:
        return int(await conn.fetchval("SELECT COUNT(*) FROM ledger_journal"))


async def test_staff_confirm_with_a_reason_and_the_award_shows_as_reversed(
    db: Database, client: TestClient[Litestar]
) -> None:
    info, award_id = await posted(db, client)
    page = client.get(f"/staff/awards/{award_id}")
    assert f'href="/staff/awards/{award_id}/reverse">撤销</a>' in page.text
    confirm = client.get(f"/staff/awards/{award_id}/reverse")
    assert confirm.status_code == 200 and "撤销这次发放" in confirm.text
    assert 'name="reason"' in confirm.text and "王秀英" in confirm.text
    done = send(client, award_id, key_of(confirm.text), "误发")
    assert done.status_code == 303 and done.headers["location"] == f"/staff/awards/{award_id}"
    shown = client.get(done.headers["location"]).text
    assert "已撤销" in shown and "误发" in shown and "xingfuli-staff" in shown
    assert f"/staff/awards/{award_id}/reverse" not in shown
    assert [await wallet(db, r) for r in info["residents"]] == [0, 0, 0]
    resident = client.get(f"/staff/residents/{info['residents'][0]}").text
    assert "撤销：误发" in resident and "更正" in resident


async def test_staff_find_a_posted_award_among_the_latest_on_the_approvals_page(
    db: Database, client: TestClient[Litestar]
) -> None:
    _, award_id = await posted(db, client)
    listed = client.get("/staff/approvals").text
    assert "最近的发放" in listed
    assert f'<a href="/staff/awards/{award_id}">参加议事会 · 20 分 · 已发放</a>' in listed
    send(client, award_id, key_of(client.get(f"/staff/awards/{award_id}/reverse").text), "误发")
    assert "参加议事会 · 20 分 · 已撤销</a>" in client.get("/staff/approvals").text


async def test_a_double_tap_reverses_once(db: Database, client: TestClient[Litestar]) -> None:
    _, award_id = await posted(db, client)
    key = key_of(client.get(f"/staff/awards/{award_id}/reverse").text)
    first = send(client, award_id, key, "误发")
    count = await journals(db)
    second = send(client, award_id, key, "误发")
    assert first.status_code == second.status_code == 303
    assert await journals(db) == count
    assert "已经撤销过了" in client.get(f"/staff/awards/{award_id}/reverse").text
    again = send(client, award_id, "another-key", "误发")
    assert again.status_code == 409 and "已经撤销过了" in again.text


async def test_a_refused_reversal_shows_the_form_again_and_changes_nothing(
    db: Database, client: TestClient[Litestar]
) -> None:
    info, award_id = await posted(db, client)
    first = info["residents"][0]
    async with db.transaction() as conn:
        book = await conn.fetchval("SELECT book FROM mall_community WHERE slug = ?", SLUG)
        await ledger.place_hold(
            conn,
            book,
            points.wallet(first),
            5,
            expires_at=datetime.now(UTC) + timedelta(days=1),
            idempotency_key="reserve",
        )
    key = key_of(client.get(f"/staff/awards/{award_id}/reverse").text)
    count = await journals(db)
    refused = send(client, award_id, key, "误发")
    assert refused.status_code == 409 and "王秀英现在只有 5 分可用" in refused.text
    assert key_of(refused.text) == key and 'value="误发"' in refused.text
    empty = send(client, award_id, key, "")
    assert empty.status_code == 400 and "请写明原因" in empty.text
    assert await journals(db) == count
    assert "已撤销" not in client.get(f"/staff/awards/{award_id}").text


async def test_without_the_csrf_token_nothing_is_reversed(
    db: Database, client: TestClient[Litestar]
) -> None:
    info, award_id = await posted(db, client)
    key = key_of(client.get(f"/staff/awards/{award_id}/reverse").text)
    response = client.post(
        f"/staff/awards/{award_id}/reverse",
        data={"key": key, "reason": "误发"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert await wallet(db, info["residents"][0]) == 10


async def test_staff_of_another_community_and_volunteers_cannot_reverse(
    db: Database, client: TestClient[Litestar]
) -> None:
    info, award_id = await posted(db, client)
    await communities.create_community(db, ADMIN, "other", "别的社区")
    stranger = await users.create_user_unchecked(db, "other-staff", PASSWORD, "staff", "other")
    await signed_in(db, client, stranger.id)
    assert client.get(f"/staff/awards/{award_id}/reverse").status_code == 404
    assert send(client, award_id, "k1", "误发").status_code == 404
    volunteer = await users.create_user_unchecked(db, "xf-vol", PASSWORD, "volunteer", SLUG)
    await signed_in(db, client, volunteer.id)
    assert client.get(f"/staff/awards/{award_id}/reverse").status_code == 403
    assert send(client, award_id, "k2", "误发").status_code == 403
    assert await wallet(db, info["residents"][0]) == 10
