"""Staff pages that change a resident's record: the edit form, closing with a reason and a tick,
merging a duplicate found by name or phone, and the residents list paging and marking closed
records."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient

import ledger
from mall.db import Database
from mall.org import communities, points
from mall.people import residents, users
from tests.web.test_pages_account import ADMIN, PASSWORD, community, post, signed_in
from tests.web.test_pages_staff import staff_with_residents


async def give(db: Database, slug: str, rid: int, amount: int) -> None:
    await communities.grant_budget(db, ADMIN, slug, amount, "预算", idempotency_key=f"b{rid}")
    async with db.transaction() as conn:
        book = await conn.fetchval("SELECT book FROM mall_community WHERE slug = ?", slug)
        await ledger.post_journal(
            conn,
            book,
            "award",
            [(points.BUDGET, -amount), (points.wallet(rid), amount)],
            idempotency_key=f"give:{rid}",
            memo="奖励",
        )


async def test_the_edit_form_corrects_the_record_and_keeps_what_was_typed_on_error(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await staff_with_residents(db, client)
    rid = made[0].id
    page = client.get(f"/staff/residents/{rid}")
    assert f'href="/staff/residents/{rid}/edit"' in page.text and "修改档案" in page.text
    form = client.get(f"/staff/residents/{rid}/edit")
    assert form.status_code == 200 and 'value="王秀英"' in form.text
    bad = post(
        client,
        f"/staff/residents/{rid}/edit",
        name="王秀瑛",
        phone="12345",
        grid="g1",
        building="",
        unit="",
    )
    assert bad.status_code == 400 and 'role="alert"' in bad.text and 'value="12345"' in bad.text
    taken = post(
        client,
        f"/staff/residents/{rid}/edit",
        name="王秀瑛",
        phone="13900000002",  # 李建国's
        grid="g1",
        building="",
        unit="",
    )
    assert taken.status_code == 409 and "合并这两份档案" in taken.text
    done = post(
        client,
        f"/staff/residents/{rid}/edit",
        name="王秀瑛",
        phone="13800000009",
        grid="",
        building="3",
        unit="2",
    )
    assert done.status_code == 303 and done.headers["location"] == f"/staff/residents/{rid}"
    shown = client.get(f"/staff/residents/{rid}").text
    assert "王秀瑛" in shown and "13800000009" in shown and "楼栋" in shown


async def test_closing_needs_a_reason_and_a_tick_then_the_page_says_closed(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await staff_with_residents(db, client)
    rid = made[0].id
    await give(db, "xingfuli", rid, 25)
    form = client.get(f"/staff/residents/{rid}/close")
    assert form.status_code == 200 and "25" in form.text and 'name="confirm"' in form.text
    unticked = post(client, f"/staff/residents/{rid}/close", reason="搬离社区")
    assert unticked.status_code == 400 and "请勾选确认框" in unticked.text
    assert 'value="搬离社区"' in unticked.text
    no_reason = post(client, f"/staff/residents/{rid}/close", reason=" ", confirm="yes")
    assert no_reason.status_code == 400 and 'role="alert"' in no_reason.text
    done = post(client, f"/staff/residents/{rid}/close", reason="搬离社区", confirm="yes")
    assert done.status_code == 303
    page = client.get(f"/staff/residents/{rid}").text
    assert "这份档案已注销" in page and "搬离社区" in page and "档案注销，积分退回社区" in page
    assert f"/staff/residents/{rid}/edit" not in page
    assert client.get(f"/staff/residents/{rid}/edit", follow_redirects=False).status_code == 303
    again = post(client, f"/staff/residents/{rid}/close", reason="再次", confirm="yes")
    assert again.status_code == 410
    listed = client.get("/staff/residents?q=王秀英").text
    assert "已注销" in listed
    live = client.get("/staff/residents?q=王秀英&status=open").text
    assert f'href="/staff/residents/{rid}"' not in live and "没有找到" in live


async def test_merging_finds_the_record_to_keep_and_moves_the_points(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await staff_with_residents(db, client)
    duplicate = (
        await residents.create_resident(db, ADMIN, "xingfuli", "王秀英", "13800000011", None)
    ).id
    keep = made[0].id
    await give(db, "xingfuli", duplicate, 30)
    found = client.get(f"/staff/residents/{duplicate}/merge", params={"q": "王秀英"})
    assert found.status_code == 200
    assert f'value="{keep}"' in found.text and f'value="{duplicate}"' not in found.text
    unticked = post(
        client, f"/staff/residents/{duplicate}/merge", into=str(keep), reason="重复登记", q="王秀英"
    )
    assert unticked.status_code == 400 and "请勾选确认框" in unticked.text
    elsewhere = made[3].id  # 周丽华 of 和平社区
    across = post(
        client,
        f"/staff/residents/{duplicate}/merge",
        into=str(elsewhere),
        reason="重复登记",
        confirm="yes",
    )
    assert across.status_code == 404
    done = post(
        client,
        f"/staff/residents/{duplicate}/merge",
        into=str(keep),
        reason="重复登记",
        confirm="yes",
    )
    assert done.status_code == 303 and done.headers["location"] == f"/staff/residents/{keep}"
    assert "30 分" in client.get(f"/staff/residents/{keep}").text
    gone = client.get(f"/staff/residents/{duplicate}").text
    assert "这份档案已注销" in gone and f'href="/staff/residents/{keep}"' in gone


async def test_the_residents_list_pages_through_the_whole_community(
    db: Database, client: TestClient[Litestar]
) -> None:
    await signed_in(db, client, (await community(db))["staff"])
    for n in range(55):
        await residents.create_resident(db, ADMIN, "xingfuli", f"居民{n:02d}", None, None)
    first = client.get("/staff/residents?q=居民")
    assert "居民49" in first.text and "居民50" not in first.text
    assert "offset=50" in first.text
    second = client.get("/staff/residents?q=居民&offset=50")
    assert "居民54" in second.text and "居民49" not in second.text and "offset=" not in second.text


async def test_volunteers_and_other_communities_cannot_use_the_forms(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await staff_with_residents(db, client)
    other = made[3].id
    for path in ("/edit", "/close", "/merge"):
        assert client.get(f"/staff/residents/{other}{path}").status_code == 404
    assert (
        post(client, f"/staff/residents/{other}/close", reason="x", confirm="yes").status_code
        == 404
    )
    vol = await users.create_user_unchecked(db, "xingfuli-vol", PASSWORD, "volunteer", "xingfuli")
    await signed_in(db, client, vol.id)
    mine = made[0].id
    assert client.get(f"/staff/residents/{mine}/close").status_code == 403
    assert (
        post(client, f"/staff/residents/{mine}/close", reason="x", confirm="yes").status_code == 403
    )
    shown = await residents.get_resident(db, ADMIN, mine)
    assert shown.closed_at is None


async def head_accounts(db: Database) -> list[tuple[str, str, int]]:
    async with db.connection() as conn:
        rows = await conn.fetch(
            "SELECT username, role, resident FROM mall_user WHERE role = 'building_head'"
        )
    return [(r["username"], r["role"], r["resident"]) for r in rows]


async def test_staff_make_a_resident_a_building_head_from_the_residents_page(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await staff_with_residents(db, client)
    rid = made[0].id
    page = client.get(f"/staff/residents/{rid}")
    assert f'action="/staff/residents/{rid}/building-head"' in page.text
    form = {"username": "xingfuli-head", "password": PASSWORD}
    bad = post(client, f"/staff/residents/{rid}/building-head", **form, buildings=" ")
    assert bad.status_code == 400 and 'role="alert"' in bad.text
    assert await head_accounts(db) == []
    done = post(client, f"/staff/residents/{rid}/building-head", **form, buildings="3，5号楼")
    assert done.status_code == 303 and done.headers["location"] == f"/staff/residents/{rid}?head=1"
    assert await head_accounts(db) == [("xingfuli-head", "building_head", rid)]
    async with db.connection() as conn:
        served = await conn.fetch(
            "SELECT b.building FROM mall_user_building b JOIN mall_user u ON u.id = b.user_id "
            "WHERE u.username = 'xingfuli-head' ORDER BY b.building"
        )
    assert [r["building"] for r in served] == ["3", "5号楼"]


async def test_no_building_head_for_another_community_or_by_a_volunteer(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await staff_with_residents(db, client)
    form = {"username": "heping-head", "password": PASSWORD, "buildings": "1"}
    assert post(client, f"/staff/residents/{made[3].id}/building-head", **form).status_code == 404
    vol = await users.create_user_unchecked(db, "xingfuli-vol", PASSWORD, "volunteer", "xingfuli")
    await signed_in(db, client, vol.id)
    assert post(client, f"/staff/residents/{made[0].id}/building-head", **form).status_code == 403
    assert await head_accounts(db) == []
