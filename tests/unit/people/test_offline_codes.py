"""Offline pay codes through the services: a batch of windows bound to the phone's session, paid
for at the counter once and only inside its window, on both checkout paths."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mall.access import ResidentPrincipal
from mall.counter import housekeeping as counter_housekeeping
from mall.db import Database
from mall.errors import CodeExpired, CodeInvalid, CodeUsed, Forbidden, Invalid
from mall.people import auth, codes, credentials, lifecycle, offline_codes
from mall.settings import get_settings
from tests.shop_fixtures import Shop, build_shop, clean
from tests.unit.people.test_lifecycle import check_out


async def phone(
    shop: Shop, resident_id: int, ttl: timedelta = auth.RESIDENT_SESSION
) -> ResidentPrincipal:
    """The principal of a bound phone: a real session of ``ttl``."""
    async with shop.db.transaction() as conn:
        token = await auth.create_session(conn, "resident", resident_id=resident_id, ttl=ttl)
    found = await auth.principal_for(shop.db, token)
    assert isinstance(found, ResidentPrincipal)
    return found


async def shift(db: Database, code: str, start_in: timedelta) -> None:
    """Move a code's window so that it starts ``start_in`` from now (negative: in the past)."""
    ident = codes.parse(get_settings().secret_key, code).ident
    start = credentials.now() + start_in
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE mall_code SET valid_from = ?, expires_at = ? WHERE ident = ?",
            start - offline_codes.SLACK,
            start + offline_codes.WINDOW + offline_codes.SLACK,
            ident,
        )


async def test_each_code_pays_once_and_only_inside_its_window(db: Database, one_call: bool) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("王秀英", 30)
    batch = await offline_codes.issue_batch(db, await phone(shop, rid))
    now, later, old = (c.code for c in batch.codes[:3])
    with pytest.raises(CodeInvalid):  # its window starts in six minutes
        await check_out(shop, later, "later")
    await shift(db, old, -timedelta(minutes=10))
    with pytest.raises(CodeExpired):
        await check_out(shop, old, "old")
    assert await shop.balance(rid) == 30
    paid = await check_out(shop, now, "now")
    assert paid.balance_after == 27
    with pytest.raises(CodeUsed):
        await check_out(shop, now, "again")
    await shift(db, later, timedelta(seconds=30))  # a phone clock half a minute fast
    assert (await check_out(shop, later, "early")).balance_after == 24
    await clean(db)


async def test_the_phone_asks_for_pay_codes_all_day_without_ending_its_batch(db: Database) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("王秀英", 30)
    me = await phone(shop, rid)
    batch = await offline_codes.issue_batch(db, me)
    for _ in range(credentials.MAX_LIVE_PAY_CODES + 2):
        await credentials.new_pay_code(db, me)
    assert (await check_out(shop, batch.codes[0].code, "k")).balance_after == 27


async def test_no_window_outlasts_the_phones_session(db: Database) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("王秀英", 0)
    batch = await offline_codes.issue_batch(
        db, await phone(shop, rid, ttl=timedelta(minutes=10, seconds=30))
    )
    assert len(batch.codes) == 3
    assert batch.codes[-1].show_until - batch.server_time == timedelta(minutes=9)


async def test_only_a_bound_phone_gets_a_batch(db: Database) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("王秀英", 0)
    with pytest.raises(Invalid):  # a resident principal without a session behind it
        await offline_codes.issue_batch(db, shop.resident(rid))
    with pytest.raises(Forbidden):
        await offline_codes.issue_batch(db, shop.staff)
    me = await phone(shop, rid)
    await auth.sign_out(db, me)
    with pytest.raises(Invalid):  # signed out: the session is gone
        await offline_codes.issue_batch(db, me)


async def test_closing_the_record_ends_the_batch(db: Database) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("王秀英", 0)
    batch = await offline_codes.issue_batch(db, await phone(shop, rid))
    await lifecycle.close_resident(db, shop.staff, rid, "搬离社区")
    async with db.connection() as conn:
        live = await conn.fetchval(
            "SELECT COUNT(*) FROM mall_code WHERE resident = ? AND kind = 'offline' "
            "AND revoked_at IS NULL",
            rid,
        )
    assert live == 0 and len(batch.codes) == offline_codes.BATCH


async def test_housekeeping_deletes_offline_codes_that_expired_unused(db: Database) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("钱多", 50)
    await offline_codes.issue_batch(db, await phone(shop, rid))
    async with db.transaction() as conn:
        made = await conn.fetchval("SELECT COUNT(*) FROM mall_code WHERE kind = 'offline'")
        await conn.execute(
            "UPDATE mall_code SET expires_at = ? WHERE kind = 'offline' AND id = "
            "(SELECT MIN(id) FROM mall_code WHERE kind = 'offline')",
            credentials.now() - timedelta(days=2),
        )
    assert made > 1
    assert await counter_housekeeping.purge_pay_codes(db) == 1
    async with db.connection() as conn:
        left = await conn.fetchval("SELECT COUNT(*) FROM mall_code WHERE kind = 'offline'")
    assert left == made - 1
