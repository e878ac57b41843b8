"""Announcements reach residents registered later: a resident registered (or moved into the grid
or building) after an announcement finds it in their inbox, and the unread count agrees; one of
another grid, building or community does not, nor a closed record, nor an announcement older than
``inbox.CATCH_UP``. Each copy is written once, even by two readers at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from mall.db import Database
from mall.notify import announcements, inbox
from mall.org import communities
from mall.people import lifecycle, residents
from tests.shop_fixtures import ADMIN, SLUGS, Shop, build_shop

A, B = SLUGS["a"], SLUGS["b"]


async def _town(db: Database) -> Shop:
    """The shop's two communities, ``a`` with grids g1 and g2, and four announcements of ``a``:
    to everyone, to grid g1, to building 3, and to building 3 of grid g1 (older first)."""
    shop = await build_shop(db)
    for code in ("g1", "g2"):
        await communities.create_grid(db, ADMIN, A, code, f"网格{code}")
    await communities.create_grid(db, ADMIN, B, "g1", "网格g1")
    await announcements.publish(db, ADMIN, A, "全体通知", "周六义诊")
    await announcements.publish(db, ADMIN, A, "网格通知", "网格开会", grid="g1")
    await announcements.publish(db, ADMIN, A, "楼栋通知", "3号楼停水", building="3")
    await announcements.publish(db, ADMIN, A, "楼栋网格通知", "电梯检修", grid="g1", building="3")
    return shop


async def _titles(db: Database, shop: Shop, rid: int, community: str = "a") -> list[str]:
    found = await inbox.messages(db, shop.resident(rid, community))
    return sorted(m.title for m in found if m.kind == "announcement")


async def test_a_resident_registered_later_finds_the_announcements_of_their_scope(
    db: Database,
) -> None:
    shop = await _town(db)
    late = (await residents.create_resident(db, ADMIN, A, "新来的", None, "g1", building="3")).id
    me = shop.resident(late)
    assert await inbox.unread(db, me) == 4  # the home screen's count, before the inbox is opened
    assert await _titles(db, shop, late) == ["全体通知", "楼栋网格通知", "楼栋通知", "网格通知"]
    assert await inbox.unread(db, me) == 4  # read again: nothing written twice
    found = await inbox.messages(db, me)
    await inbox.mark_read(db, me, [found[0].id])
    assert await inbox.unread(db, me) == 3  # each copy has its own read state
    other = (await residents.create_resident(db, ADMIN, A, "老住户", None, "g1", building="3")).id
    assert await inbox.unread(db, shop.resident(other)) == 4  # another's reading is not theirs


async def test_only_the_announcements_of_their_grid_and_building(db: Database) -> None:
    shop = await _town(db)
    nowhere = (await residents.create_resident(db, ADMIN, A, "无网格", None, None)).id
    grid2 = (await residents.create_resident(db, ADMIN, A, "二网格", None, "g2", building="3")).id
    grid1 = (await residents.create_resident(db, ADMIN, A, "一网格", None, "g1", building="4")).id
    stranger = (
        await residents.create_resident(db, ADMIN, B, "外社区", None, "g1", building="3")
    ).id
    assert await _titles(db, shop, nowhere) == ["全体通知"]
    assert await _titles(db, shop, grid2) == ["全体通知", "楼栋通知"]
    assert await _titles(db, shop, grid1) == ["全体通知", "网格通知"]
    assert await _titles(db, shop, stranger, "b") == []
    assert await inbox.unread(db, shop.resident(stranger, "b")) == 0


async def test_moving_into_a_building_brings_its_announcements(db: Database) -> None:
    shop = await _town(db)
    mover = (await residents.create_resident(db, ADMIN, A, "搬家的", None, "g2", building="4")).id
    assert await _titles(db, shop, mover) == ["全体通知"]
    await lifecycle.update_resident(db, ADMIN, mover, {"grid": "g1", "building": "3"})
    assert await inbox.unread(db, shop.resident(mover)) == 4
    assert await _titles(db, shop, mover) == ["全体通知", "楼栋网格通知", "楼栋通知", "网格通知"]


async def test_old_announcements_and_closed_records_are_left_alone(db: Database) -> None:
    shop = await _town(db)
    async with db.transaction() as conn:  # the grid's announcement was sent 31 days ago
        old = inbox.now() - inbox.CATCH_UP - timedelta(days=1)
        await conn.execute(
            "UPDATE mall_announcement SET created_at = ? WHERE title = ?", old, "网格通知"
        )
    late = (await residents.create_resident(db, ADMIN, A, "新来的", None, "g1")).id
    assert await _titles(db, shop, late) == ["全体通知"]
    closed = (await residents.create_resident(db, ADMIN, A, "已注销", None, None)).id
    await lifecycle.close_resident(db, ADMIN, closed, "搬走了")
    assert await inbox.catch_up(db, closed) == 0
    async with db.connection() as conn:
        n = await conn.fetchval("SELECT COUNT(*) FROM mall_message WHERE resident = ?", closed)
    assert n == 0


async def test_two_readers_at_once_write_each_copy_once(db: Database) -> None:
    shop = await _town(db)
    late = (await residents.create_resident(db, ADMIN, A, "新来的", None, "g1", building="3")).id
    written = await asyncio.gather(*(inbox.catch_up(db, late) for _ in range(3)))
    assert sum(written) == 4
    assert await inbox.unread(db, shop.resident(late)) == 4


async def test_late_announcements_sit_by_when_they_were_sent_and_page_once_each(
    db: Database,
) -> None:
    shop = await _town(db)
    late = (await residents.create_resident(db, ADMIN, A, "新来的", None, "g1", building="3")).id
    async with db.transaction() as conn:  # points reach them before they ever open the inbox
        await inbox.post(
            conn, community_id=shop.community, resident_id=late, kind="points_received",
            points=5, memo="参加议事会",
        )  # fmt: skip
    me = shop.resident(late)
    seen, before = [], None
    while True:
        page = await inbox.messages(db, me, limit=2, before=before)
        seen += [m.kind if m.kind != "announcement" else m.title for m in page]
        if len(page) < 2:
            break
        before = page[-1].id
    assert seen == ["points_received", "楼栋网格通知", "楼栋通知", "网格通知", "全体通知"]


async def test_the_inbox_page_has_the_late_announcements_and_their_unread_count(
    db: Database,
) -> None:
    """``inbox.page`` (GET /me/inbox and its page) catches up once and reads both together."""
    shop = await _town(db)
    late = (await residents.create_resident(db, ADMIN, A, "新来的", None, "g1", building="3")).id
    me = shop.resident(late)
    first = await inbox.page(db, me, limit=2)
    assert [m.title for m in first.messages] == ["楼栋网格通知", "楼栋通知"]  # newest first
    assert first.unread == 4
    again = await inbox.page(db, me, limit=50)
    assert len(again.messages) == 4 and again.unread == 4  # nothing written twice
    older = await inbox.page(db, me, before=first.messages[-1].id)
    assert [m.title for m in older.messages] == ["网格通知", "全体通知"]
