"""The staff pages that import a resident roster: upload, a preview naming each bad row, the
confirmation that creates them all from the file kept server-side, and the template."""

from __future__ import annotations

import io

import python_calamine
from httpx import Response
from litestar import Litestar
from litestar.testing import TestClient

from mall.db import Database
from mall.org import communities
from mall.people import residents, users
from tests.api.test_roster import csv_bytes
from tests.web.test_pages_account import ADMIN, PASSWORD, community, csrf, post, signed_in
from tests.web.test_pages_staff import staff_with_residents


def upload(client: TestClient[Litestar], data: bytes, name: str = "名单.csv") -> Response:
    return client.post(
        "/staff/residents/import",
        data={"_csrf_token": csrf(client)},
        files={"file": (name, data)},
        follow_redirects=False,
    )


def token_of(page: str) -> str:
    marker = 'name="token" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


async def found(db: Database, name: str) -> int:
    async with db.connection() as conn:
        return int(await conn.fetchval("SELECT COUNT(*) FROM mall_resident WHERE name = ?", name))


async def test_preview_then_confirm_registers_every_row(
    db: Database, client: TestClient[Litestar]
) -> None:
    await staff_with_residents(db, client)
    listing = client.get("/staff/residents").text
    assert 'href="/staff/residents/import"' in listing
    data = csv_bytes(
        [["姓名", "电话", "网格"], ["页面导入甲", "13700000001", "一网格"], ["页面导入乙", "", ""]]
    )
    preview = upload(client, data)
    assert preview.status_code == 200, preview.text
    assert "页面导入甲" in preview.text and "2 行可以导入" in preview.text.replace("\n", "")
    assert await found(db, "页面导入甲") == 0
    token = token_of(preview.text)
    done = post(client, "/staff/residents/import/confirm", token=token)
    assert done.status_code == 200 and "已登记 2 位居民" in done.text, done.text
    assert await found(db, "页面导入甲") == 1 and await found(db, "页面导入乙") == 1
    again = post(client, "/staff/residents/import/confirm", token=token)
    assert again.status_code == 400 and "已过期" in again.text
    assert await found(db, "页面导入甲") == 1


async def test_bad_rows_are_named_in_large_type_and_nothing_can_be_confirmed(
    db: Database, client: TestClient[Litestar]
) -> None:
    await staff_with_residents(db, client)
    data = csv_bytes(
        [["姓名", "电话"], ["好人", "13700000002"], ["", "13700000003"], ["重号", "13800000001"]]
    )
    preview = upload(client, data)
    assert preview.status_code == 200
    assert 'class="notice-table row-errors"' in preview.text
    assert "第 3 行" in preview.text and "缺少姓名" in preview.text
    assert "第 4 行" in preview.text and "已经登记过" in preview.text
    assert 'name="token"' not in preview.text
    assert await found(db, "好人") == 0


async def test_a_file_refused_whole_is_said_beside_the_form(
    db: Database, client: TestClient[Litestar]
) -> None:
    await staff_with_residents(db, client)
    refused = upload(client, b"\x89PNG\r\n", "photo.png")
    assert refused.status_code == 400 and 'role="alert"' in refused.text
    assert ".xlsx" in refused.text


async def test_another_staff_members_token_confirms_nothing(
    db: Database, client: TestClient[Litestar]
) -> None:
    await staff_with_residents(db, client)
    preview = upload(client, csv_bytes([["姓名"], ["别人的文件"]]))
    token = token_of(preview.text)
    client.cookies.clear()
    other = await community(db, "anle", "安乐社区")
    await signed_in(db, client, other["staff"])
    stolen = post(client, "/staff/residents/import/confirm", token=token)
    assert stolen.status_code == 400 and "已过期" in stolen.text
    assert await found(db, "别人的文件") == 0


async def test_the_templates_hold_the_header_row(
    db: Database, client: TestClient[Litestar]
) -> None:
    await staff_with_residents(db, client)
    book = client.get("/staff/residents/import/template.xlsx")
    assert book.status_code == 200 and "attachment" in book.headers["content-disposition"]
    sheet = python_calamine.CalamineWorkbook.from_object(io.BytesIO(book.content))
    rows = sheet.get_sheet_by_index(0).to_python()
    assert rows[0] == ["姓名", "电话", "网格", "楼栋", "单元"]
    text = client.get("/staff/residents/import/template.csv").content
    assert text.startswith(b"\xef\xbb\xbf") and "姓名,电话,网格".encode() in text
    assert residents.PHONE.match(str(rows[1][1]))


async def test_opening_balances_are_uploaded_by_one_and_approved_by_another(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await staff_with_residents(db, client)
    await communities.grant_budget(db, ADMIN, "xingfuli", 500, "预算", idempotency_key="open")
    rid = made[0].id
    data = csv_bytes(
        [["姓名", "电话", "存折号", "积分"], ["王秀英", "13800000001", "No.0007", "88"]]
    )
    preview = client.post(
        "/staff/opening-balances",
        data={"_csrf_token": csrf(client)},
        files={"file": ("期初.csv", data)},
        follow_redirects=False,
    )
    assert preview.status_code == 200 and "No.0007" in preview.text, preview.text
    sent = post(client, "/staff/opening-balances/confirm", token=token_of(preview.text))
    assert sent.status_code == 303, sent.text
    page = client.get(sent.headers["location"]).text
    assert "等待审核" in page and "/approve" not in page  # the uploader sees no approve button
    refused = post(client, sent.headers["location"] + "/approve")
    assert refused.status_code == 403 and "另一位工作人员" in refused.text
    other = await users.create_user_unchecked(db, "xingfuli-two", PASSWORD, "staff", "xingfuli")
    await signed_in(db, client, other.id)
    page = client.get(sent.headers["location"]).text
    assert "/approve" in page
    done = post(client, sent.headers["location"] + "/approve")
    assert done.status_code == 303
    assert "已审批" in client.get(sent.headers["location"]).text
    shown = client.get(f"/staff/residents/{rid}").text
    assert "期初积分" in shown and "No.0007" in shown
