"""A resident's record over its life through the services: correct, close, merge; every entry
point refuses a closed record; closing races checkouts without a negative balance."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import ledger
from mall.counter import checkout, lookup, reservations
from mall.counter.values import Receipt
from mall.db import Database
from mall.earning import awards, rules
from mall.errors import (
    AccountClosed,
    AlreadyExists,
    Forbidden,
    InsufficientPoints,
    Invalid,
    NotFound,
    SelfDealing,
)
from mall.org import points
from mall.people import auth, code_lookup, credentials, lifecycle, residents
from mall.verify import check
from tests.shop_fixtures import ADMIN, SLUGS, Shop, build_shop, clean
from tests.support import race

A = SLUGS["a"]


async def check_out(
    shop: Shop, code: str, key: str, pin: str | None = None, db: Database | None = None
) -> Any:
    lines = [("soap", 1)]
    return await checkout.checkout(
        db or shop.db,
        shop.volunteer,
        shop.outlet,
        code=code,
        pin=pin,
        lines=lines,
        idempotency_key=key,
        req_hash=ledger.request_hash({"code": code, "lines": lines, "pin": pin}),
    )


async def budget(shop: Shop) -> int:
    async with shop.db.connection() as conn:
        return (await ledger.get_balance(conn, shop.book, points.BUDGET)).balance


async def count(db: Database, sql: str, *args: Any) -> int:
    async with db.connection() as conn:
        return int(await conn.fetchval(sql, *args))


async def test_correcting_a_record_checks_as_registering_and_audits_before_and_after(
    db: Database,
) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("王秀英", 0)
    changed = await lifecycle.update_resident(
        db,
        shop.staff,
        rid,
        {"name": " 王秀瑛 ", "phone": "138-0000-1111", "building": "3", "unit": "2"},
    )
    assert (changed.name, changed.phone, changed.building, changed.unit) == (
        "王秀瑛",
        "13800001111",
        "3",
        "2",
    )
    async with db.connection() as conn:
        detail = await conn.fetchval(
            "SELECT detail FROM mall_audit WHERE action = 'resident.update' ORDER BY id DESC"
        )
    logged = json.loads(detail)
    assert logged["before"]["name"] == "王秀英" and logged["after"]["name"] == "王秀瑛"
    assert logged["before"]["phone"] is None and logged["after"]["phone"] == "13800001111"
    for bad in ({"name": ""}, {"phone": "12345"}, {"grid": "nowhere"}, {"age": "80"}):
        with pytest.raises(Invalid):
            await lifecycle.update_resident(db, shop.staff, rid, bad)
    cleared = await lifecycle.update_resident(db, shop.staff, rid, {"phone": None, "unit": ""})
    assert (cleared.name, cleared.phone, cleared.building, cleared.unit) == (
        "王秀瑛",
        None,
        "3",
        None,
    )


async def test_a_phone_another_open_record_has_is_already_exists(db: Database) -> None:
    shop = await build_shop(db)
    one = await shop.new_resident("王秀英", 0)
    two = await shop.new_resident("王秀瑛", 0)
    await lifecycle.update_resident(db, shop.staff, one, {"phone": "13800001111"})
    with pytest.raises(AlreadyExists):
        await lifecycle.update_resident(db, shop.staff, two, {"phone": "13800001111"})
    await lifecycle.close_resident(db, shop.staff, one, "搬离社区")
    await lifecycle.update_resident(db, shop.staff, two, {"phone": "13800001111"})


async def test_another_community_or_role_cannot_change_a_record(db: Database) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("王秀英", 10)
    with pytest.raises(NotFound):
        await lifecycle.update_resident(db, shop.staff_b, rid, {"name": "李四"})
    with pytest.raises(NotFound):
        await lifecycle.close_resident(db, shop.staff_b, rid, "搬离")
    with pytest.raises(Forbidden):
        await lifecycle.close_resident(db, shop.volunteer, rid, "搬离")
    with pytest.raises(Forbidden):
        await lifecycle.merge_residents(db, shop.resident(rid), rid, rid, "重复")
    assert await shop.balance(rid) == 10


async def test_closing_returns_the_available_points_and_stops_every_entry_point(
    db: Database,
) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("王秀英", 40)
    before = await budget(shop)
    code = await shop.pay_code(rid)
    card = await shop.card(rid, "2580")
    activation = (await credentials.issue_activation(db, shop.staff, rid)).code
    async with db.transaction() as conn:
        token = await auth.create_session(
            conn, "resident", resident_id=rid, ttl=auth.RESIDENT_SESSION
        )
    await rules.create_rule(db, ADMIN, A, "r", "议事会", "adding_to_good", 5)

    closed = await lifecycle.close_resident(db, shop.staff, rid, "搬离社区")
    assert closed.returned == 40
    assert await shop.balance(rid) == 0 and await budget(shop) == before + 40
    statement = await residents.passbook(db, shop.staff, rid)
    assert statement.entries[0].kind == "closure" and "搬离社区" in statement.entries[0].memo
    shown = await residents.get_resident(db, shop.staff, rid)
    assert shown.closed_at is not None and shown.closed_reason == "搬离社区"

    assert await auth.principal_for(db, token) is None
    refusals: list[Callable[[], Awaitable[Any]]] = [
        lambda: check_out(shop, code, "k1"),
        lambda: check_out(shop, card, "k2", pin="2580"),
        lambda: lookup.lookup(db, shop.volunteer, shop.outlet, code),
        lambda: code_lookup.find_resident_by_code(db, shop.staff, code),
        lambda: credentials.activate(db, activation),
        lambda: credentials.issue_card(db, shop.staff, rid, "1357"),
        lambda: credentials.issue_activation(db, shop.staff, rid),
        lambda: awards.create_award(db, shop.staff, A, "r", [rid], "奖励", idempotency_key="a"),
        lambda: lifecycle.update_resident(db, shop.staff, rid, {"name": "王秀瑛"}),
        lambda: lifecycle.close_resident(db, shop.staff, rid, "再次"),
        lambda: reservations.reserve(
            db, shop.resident(rid), shop.outlet, [("soap", 1)], idempotency_key="r", req_hash="h"
        ),
    ]
    for refused in refusals:
        with pytest.raises(AccountClosed):
            await refused()
    assert await shop.balance(rid) == 0 and await budget(shop) == before + 40
    assert await count(db, "SELECT COUNT(*) FROM mall_order WHERE resident = ?", rid) == 0
    await clean(db)


async def test_an_award_waiting_for_approval_is_not_posted_to_a_closed_record(
    db: Database,
) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("王秀英", 0)
    await rules.create_rule(
        db, ADMIN, A, "big", "调解纠纷", "settling_disputes", 50, approval_threshold=40
    )
    made = await awards.create_award(db, shop.staff, A, "big", [rid], "调解", idempotency_key="a")
    assert made.status == "pending_approval"
    await lifecycle.close_resident(db, shop.staff, rid, "去世")
    with pytest.raises(AccountClosed):
        await awards.approve(db, ADMIN, made.id)
    assert await shop.balance(rid) == 0


async def test_closing_waits_for_reservations_to_be_cancelled(db: Database) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("王秀英", 40)
    held = await reservations.reserve(
        db, shop.resident(rid), shop.outlet, [("soap", 2)], idempotency_key="r", req_hash="h"
    )
    with pytest.raises(lifecycle.ReservationsWaiting):
        await lifecycle.close_resident(db, shop.staff, rid, "搬离")
    shown = await residents.get_resident(db, shop.staff, rid)
    assert (shown.closed_at, shown.held, shown.available) == (None, 6, 34)
    await reservations.cancel(db, shop.staff, held.id)
    assert (await lifecycle.close_resident(db, shop.staff, rid, "搬离")).returned == 40
    await clean(db)


async def test_closing_with_release_cancels_the_reservations_in_the_same_transaction(
    db: Database,
) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("王秀英", 40)
    keep = await shop.new_resident("王秀英", 0)
    shelf = await shop.level("soap")
    for key in ("r1", "r2"):
        await reservations.reserve(
            db, shop.resident(rid), shop.outlet, [("soap", 2)], idempotency_key=key, req_hash=key
        )
    assert await shop.level("soap") == shelf - 4
    merged = await lifecycle.merge_residents(
        db, shop.staff, rid, keep, "重复", release=reservations.cancel_waiting
    )
    assert merged.moved == 40 and await shop.balance(keep) == 40
    assert await shop.level("soap") == shelf
    assert await count(db, "SELECT COUNT(*) FROM mall_reservation WHERE status = 'held'") == 0
    await clean(db)


async def test_merging_moves_the_points_and_closes_the_duplicate(db: Database) -> None:
    shop = await build_shop(db)
    keep = await shop.new_resident("王秀英", 10)
    duplicate = await shop.new_resident("王秀英", 30)
    before = await budget(shop)
    merged = await lifecycle.merge_residents(db, shop.staff, duplicate, keep, "同一人登记两次")
    assert (merged.id, merged.into, merged.moved) == (duplicate, keep, 30)
    assert await shop.balance(keep) == 40 and await shop.balance(duplicate) == 0
    assert await budget(shop) == before
    gone = await residents.get_resident(db, shop.staff, duplicate)
    assert gone.closed_at is not None and gone.merged_into == keep
    entry = (await residents.passbook(db, shop.staff, keep)).entries[0]
    assert (entry.kind, entry.amount) == ("merge", 30) and "同一人登记两次" in entry.memo
    await clean(db)


async def test_merging_refuses_itself_a_closed_record_another_community_and_oneself(
    db: Database,
) -> None:
    shop = await build_shop(db)
    keep = await shop.new_resident("王秀英", 10)
    duplicate = await shop.new_resident("王秀英", 30)
    elsewhere = await shop.new_resident("王秀英", 5, "b")
    closed = await shop.new_resident("王秀英", 0)
    await lifecycle.close_resident(db, shop.staff, closed, "搬离")
    with pytest.raises(Invalid):
        await lifecycle.merge_residents(db, shop.staff, duplicate, duplicate, "重复")
    with pytest.raises(AccountClosed):
        await lifecycle.merge_residents(db, shop.staff, duplicate, closed, "重复")
    with pytest.raises(AccountClosed):
        await lifecycle.merge_residents(db, shop.staff, closed, keep, "重复")
    with pytest.raises(NotFound):
        await lifecycle.merge_residents(db, shop.staff, duplicate, elsewhere, "重复")
    with pytest.raises(NotFound):
        await lifecycle.merge_residents(db, ADMIN, duplicate, elsewhere, "重复")
    with pytest.raises(Invalid):
        await lifecycle.merge_residents(db, shop.staff, duplicate, keep, " ")
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE mall_user SET resident = ? WHERE id = ?", keep, shop.staff.user_id
        )
    with pytest.raises(SelfDealing):
        await lifecycle.merge_residents(db, shop.staff, duplicate, keep, "重复")
    with pytest.raises(SelfDealing):
        await lifecycle.merge_residents(db, shop.staff, keep, duplicate, "重复")
    assert [await shop.balance(r) for r in (keep, duplicate)] == [10, 30]
    assert (await residents.get_resident(db, shop.staff, duplicate)).closed_at is None


async def test_search_pages_through_the_community_and_marks_closed_records(
    db: Database,
) -> None:
    shop = await build_shop(db)
    made = [await shop.new_resident(f"张{n:02d}", 0) for n in range(5)]
    await lifecycle.close_resident(db, shop.staff, made[1], "搬离")
    first = await residents.search_residents(db, shop.staff, A, query="张", limit=2)
    assert [r.name for r in first.residents] == ["张00", "张01"] and first.next == 2
    assert [r.closed for r in first.residents] == [False, True]
    rest = await residents.search_residents(db, shop.staff, A, query="张", limit=2, offset=4)
    assert [r.name for r in rest.residents] == ["张04"] and rest.next is None
    shut = await residents.search_residents(db, shop.staff, A, query="张", status="closed")
    assert [r.id for r in shut.residents] == [made[1]]
    live = await residents.search_residents(db, shop.staff, A, query="张", status="open")
    assert made[1] not in [r.id for r in live.residents] and len(live.residents) == 4
    with pytest.raises(Invalid):
        await residents.search_residents(db, shop.staff, A, status="gone")


@pytest.mark.parametrize("delay", [0.0, 0.02])
async def test_closing_while_counters_check_out_never_leaves_a_negative_balance(
    db: Database, db_url: str, delay: float
) -> None:
    """Checkouts that lose the race are refused (``account_closed``, or on PostgreSQL, when they
    read the code before the close committed, ``insufficient_points``); nothing goes negative."""
    shop = await build_shop(db)
    rid = await shop.new_resident("王秀英", 30)
    card = await shop.card(rid, "2580")  # first: a new card ends the counter's codes for the old
    codes = await shop.counter_codes(rid, 6)
    before = await budget(shop)

    async def work(db: Database, i: int) -> object:
        if i == 0:
            await asyncio.sleep(delay)  # with a delay, some checkouts come first
            return await lifecycle.close_resident(db, shop.staff, rid, "搬离")
        if i == 7:
            return await check_out(shop, card, f"card-{i}", pin="2580", db=db)
        return await check_out(shop, codes[i - 1], f"k{i}", db=db)

    results = race(db_url, 8, work)
    (closed,) = [r for r in results if isinstance(r, lifecycle.Closed)]
    spent = await count(
        db, "SELECT COALESCE(SUM(total), 0) FROM mall_order WHERE resident = ?", rid
    )
    assert spent + closed.returned == 30, results
    assert await shop.balance(rid) == 0
    assert await budget(shop) == before + closed.returned
    assert all(
        isinstance(r, lifecycle.Closed | Receipt | AccountClosed | InsufficientPoints)
        for r in results
    ), results
    await clean(db)
    assert (await check(db_url)).ok
