"""Opening balances (期初积分) send each resident a "points received" message, as an award does,
in the transaction that posts them: an approved batch writes one message per resident naming the
points and the passbook; a rejected batch, or an approval that fails part-way, writes none."""

from __future__ import annotations

import pytest

from mall.db import Database
from mall.earning import opening_approval, openings
from mall.errors import AlreadyExists
from mall.notify import inbox
from tests.shop_fixtures import SLUGS, Shop, build_shop, user

A = SLUGS["a"]


def _csv(rows: list[tuple[int, str, int]]) -> bytes:
    lines = ["姓名,电话,居民编号,存折号,积分"] + [f",,{r},{book},{pts}" for r, book, pts in rows]
    return "\r\n".join(lines).encode()


async def _batch(shop: Shop, rows: list[tuple[int, str, int]]) -> int:
    made = await openings.upload(shop.db, shop.staff, A, _csv(rows), "期初.csv", dry_run=False)
    assert made.batch_id is not None, made
    return made.batch_id


async def _received(db: Database, shop: Shop, rid: int) -> list[tuple[str, object, object]]:
    found = await inbox.messages(db, shop.resident(rid))
    return [
        (m.kind, m.params.get("points"), m.params.get("memo"))
        for m in found
        if m.kind == "points_received"
    ]


async def test_an_approved_batch_tells_each_resident(db: Database) -> None:
    shop = await build_shop(db)
    second = await user(db, "staff-2", "staff", shop.community, A)
    one = await shop.new_resident("存折户甲", 0)
    two = await shop.new_resident("存折户乙", 0)
    batch = await _batch(shop, [(one, "P-0001", 120), (two, "P-0002", 35)])
    assert await _received(db, shop, one) == []  # waiting: nothing yet
    await opening_approval.approve(db, second, batch)
    assert await _received(db, shop, one) == [("points_received", 120, "期初积分，存折号 P-0001")]
    assert await _received(db, shop, two) == [("points_received", 35, "期初积分，存折号 P-0002")]
    assert await inbox.unread(db, shop.resident(one)) == 1
    assert await shop.balance(one) == 120


async def test_a_rejected_batch_tells_nobody(db: Database) -> None:
    shop = await build_shop(db)
    second = await user(db, "staff-2", "staff", shop.community, A)
    one = await shop.new_resident("存折户丙", 0)
    batch = await _batch(shop, [(one, "P-0003", 50)])
    await opening_approval.reject(db, second, batch, "数字不对")
    assert await _received(db, shop, one) == []
    assert await shop.balance(one) == 0


async def test_an_approval_that_fails_part_way_leaves_no_message(db: Database) -> None:
    shop = await build_shop(db)
    second = await user(db, "staff-2", "staff", shop.community, A)
    one = await shop.new_resident("存折户丁", 0)
    two = await shop.new_resident("存折户戊", 0)
    both = await _batch(shop, [(one, "P-0004", 20), (two, "P-0005", 30)])
    async with db.transaction() as conn:  # as if another approval had just given ``two`` theirs
        line = await conn.fetchval(
            "SELECT id FROM mall_opening_line WHERE batch = ? AND resident = ?", both, two
        )
        await conn.execute(
            "INSERT INTO mall_opening_given (resident, line) VALUES (?, ?)", two, line
        )
    with pytest.raises(AlreadyExists):  # ``one`` was posted and told, then ``two`` was found given
        await opening_approval.approve(db, second, both)
    assert await _received(db, shop, one) == []  # rolled back with the journal
    assert await shop.balance(one) == 0
    assert await _received(db, shop, two) == []
