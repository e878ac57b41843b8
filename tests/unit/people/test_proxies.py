"""Proxies (代领): a resident names a family member or neighbour who may pay and collect for them
at the counter with their own code; the grant's scope is attacked from every side."""

from __future__ import annotations

import pytest

from mall.access import audit
from mall.counter import checkout, lookup, reservations
from mall.counter.values import Receipt
from mall.db import Database
from mall.errors import AccountClosed, AlreadyExists, Forbidden, Invalid, NotFound
from mall.people import credentials, lifecycle, passbooks, proxies
from tests.shop_fixtures import ADMIN, Shop, build_shop, clean


async def buy(
    shop: Shop,
    code: str,
    on_behalf_of: int | None,
    key: str,
    lines: list[tuple[str, int]] | None = None,
) -> Receipt:
    return await checkout.checkout(
        shop.db,
        shop.volunteer,
        shop.outlet,
        code=code,
        lines=lines or [("soap", 2)],
        idempotency_key=key,
        req_hash=key,
        on_behalf_of=on_behalf_of,
    )


async def test_a_proxy_pays_from_the_resident_s_points_and_both_passbooks_show_it(
    db: Database,
) -> None:
    shop = await build_shop(db)
    grandma = await shop.new_resident("张晓明", 100)
    son = await shop.new_resident("李强", 40)
    await proxies.grant(db, shop.resident(grandma), grandma, son)
    code = await shop.pay_code(son)
    visit = await lookup.lookup(db, shop.volunteer, shop.outlet, code)
    assert [p.id for p in visit.principals] == [grandma]
    visit = await lookup.lookup(db, shop.volunteer, shop.outlet, code, on_behalf_of=grandma)
    assert visit.resident.id == grandma and visit.available == 100
    assert visit.proxy is not None and visit.proxy.id == son
    receipt = await buy(shop, code, grandma, "p1")
    assert receipt.total == 6 and receipt.balance_after == 94
    assert await shop.balance(grandma) == 94 and await shop.balance(son) == 40
    mine = await passbooks.passbook(db, shop.resident(grandma), grandma)
    assert mine.entries[0].amount == -6 and mine.entries[0].collected_by == "李*"
    theirs = await passbooks.passbook(db, shop.resident(son), son)
    assert theirs.entries[0].kind == passbooks.PROXY and theirs.entries[0].amount == 0
    assert theirs.entries[0].on_behalf_of == "张*明" and theirs.entries[0].balance_after == 40
    assert [e.amount for e in theirs.entries] == [0, 40]
    await clean(db)


async def test_a_proxy_without_a_grant_or_after_it_ended_moves_nothing(db: Database) -> None:
    shop = await build_shop(db)
    grandma = await shop.new_resident("张晓明", 100)
    son = await shop.new_resident("李强", 40)
    with pytest.raises(Forbidden):
        await buy(shop, await shop.pay_code(son), grandma, "p1")
    with pytest.raises(Forbidden):
        await lookup.lookup(
            db, shop.volunteer, shop.outlet, await shop.pay_code(son), on_behalf_of=grandma
        )
    await proxies.grant(db, shop.staff, grandma, son)
    await proxies.end(db, shop.resident(grandma), grandma, son)
    with pytest.raises(Forbidden):
        await buy(shop, await shop.pay_code(son), grandma, "p2")
    # a grant the other way round is no grant
    await proxies.grant(db, shop.resident(son), son, grandma)
    with pytest.raises(Forbidden):
        await buy(shop, await shop.pay_code(son), grandma, "p3")
    assert await shop.balance(grandma) == 100 and await shop.balance(son) == 40
    assert await shop.level("soap") == 50
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT COUNT(*) FROM mall_order") == 0
    await clean(db)


async def test_a_proxy_of_another_community_is_refused_everywhere(db: Database) -> None:
    shop = await build_shop(db)
    grandma = await shop.new_resident("张晓明", 100)
    stranger = await shop.new_resident("赵六", 40, community="b")
    with pytest.raises(NotFound):
        await proxies.grant(db, shop.resident(grandma), grandma, stranger)
    with pytest.raises(NotFound):
        await proxies.grant(db, shop.staff_b, grandma, stranger)
    with pytest.raises(NotFound):  # staff of b cannot name a's resident for b's
        await proxies.grant(db, shop.staff_b, stranger, grandma)
    # b's code at a's counter for a's resident: never a payment, and forbidden (API.md)
    code = await shop.pay_code(stranger, community="b")
    with pytest.raises(Forbidden):
        await buy(shop, code, grandma, "x1")
    assert await shop.balance(grandma) == 100
    await clean(db)


async def test_grants_are_checked_and_audited(db: Database) -> None:
    shop = await build_shop(db)
    grandma = await shop.new_resident("张晓明", 100)
    son = await shop.new_resident("李强", 40)
    other = await shop.new_resident("王五", 0)
    with pytest.raises(Invalid):
        await proxies.grant(db, shop.resident(grandma), grandma, grandma)
    with pytest.raises(NotFound):  # a resident names proxies only for themselves
        await proxies.grant(db, shop.resident(other), grandma, son)
    with pytest.raises(Forbidden):
        await proxies.grant(db, shop.volunteer, grandma, son)
    await proxies.grant(db, shop.resident(grandma), grandma, son)
    with pytest.raises(AlreadyExists):
        await proxies.grant(db, shop.staff, grandma, son)
    with pytest.raises(NotFound):
        await proxies.end(db, shop.resident(grandma), grandma, other)
    found = await proxies.grants(db, shop.staff, grandma)
    assert [g.proxy_id for g in found.proxies] == [son] and found.principals == []
    await proxies.end(db, shop.staff, grandma, son)
    assert (await proxies.grants(db, shop.resident(grandma), grandma)).proxies == []
    async with db.connection() as conn:
        logged = await audit.entries(conn, shop.community)
    assert [e.action for e in logged if e.action.startswith("proxy.")] == [
        "proxy.end",
        "proxy.grant",
    ]
    await lifecycle.close_resident(db, ADMIN, other, "搬走了")
    with pytest.raises(AccountClosed):
        await proxies.grant(db, shop.resident(grandma), grandma, other)


async def test_a_proxy_collects_a_reservation_only_under_a_grant(db: Database) -> None:
    shop = await build_shop(db)
    grandma = await shop.new_resident("张晓明", 100)
    son = await shop.new_resident("李强", 0)
    made = await reservations.reserve(
        db, shop.resident(grandma), shop.outlet, [("oil", 1)], idempotency_key="r", req_hash="r"
    )
    code = await shop.pay_code(son)
    with pytest.raises(Forbidden):
        await reservations.collect(db, shop.volunteer, made.id, code=code, on_behalf_of=grandma)
    await proxies.grant(db, shop.staff, grandma, son)
    done = await reservations.collect(db, shop.volunteer, made.id, code=code, on_behalf_of=grandma)
    assert done.total == 10 and done.balance_after == 90
    theirs = await passbooks.passbook(db, shop.resident(son), son)
    assert [(e.kind, e.on_behalf_of) for e in theirs.entries] == [("proxy", "张*明")]
    await clean(db)


async def test_a_proxy_of_another_community_cannot_collect_a_reservation(db: Database) -> None:
    """b's resident at a's counter, naming a's resident whose reservation waits: ``forbidden``
    before the code is even checked (a revoked code too, which would otherwise be refused as
    such); the reservation stays held, the points held, no code used and no order written."""
    shop = await build_shop(db)
    grandma = await shop.new_resident("张晓明", 100)
    stranger = await shop.new_resident("赵六", 40, community="b")
    made = await reservations.reserve(
        db, shop.resident(grandma), shop.outlet, [("oil", 1)], idempotency_key="r", req_hash="r"
    )
    revoked = await shop.pay_code(stranger, community="b")
    for _ in range(credentials.MAX_LIVE_PAY_CODES):  # a fourth live code revokes the first
        code = await shop.pay_code(stranger, community="b")
    before = await shop.balance(grandma)  # less what the reservation holds
    for tried in (code, revoked):
        with pytest.raises(Forbidden):
            await reservations.collect(
                db, shop.volunteer, made.id, code=tried, on_behalf_of=grandma
            )
    async with db.connection() as conn:
        status = await conn.fetchval("SELECT status FROM mall_reservation WHERE id = ?", made.id)
        orders = await conn.fetchval("SELECT COUNT(*) FROM mall_order")
        used = await conn.fetchval("SELECT COUNT(*) FROM mall_code WHERE used_at IS NOT NULL")
    assert (status, orders, used) == ("held", 0, 0)
    assert await shop.balance(grandma) == before
    await clean(db)
