"""A stolen tablet is no guessing machine, and a pay code cannot be kept alive or stockpiled:
failed look-ups are limited per volunteer and per device, looking a code up never extends it
beyond the deadline it got when it was made, and a phone holds at most three live codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mall.counter import checkout, lookup
from mall.counter.basket import SCANNED_CODE_TTL
from mall.db import Database
from mall.errors import CodeExpired, CodeInvalid, RateLimited
from mall.people import credentials
from tests.shop_fixtures import SLUGS, build_shop, user

WRONG = "12345678901234567890"  # twenty digits, the shape of a pay code, signed by nobody


async def test_failed_look_ups_stop_the_volunteer_and_the_device_not_successful_ones(
    db: Database,
) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("李海", 100)
    for _ in range(2 * lookup.LOOKUP_FAILURES):  # a busy shift: good look-ups never count
        await lookup.lookup(
            db, shop.volunteer, shop.outlet, await shop.pay_code(rid), ip="10.0.0.7"
        )
    for _ in range(lookup.LOOKUP_FAILURES):
        with pytest.raises(CodeInvalid):
            await lookup.lookup(db, shop.volunteer, shop.outlet, WRONG, ip="10.0.0.7")
    good = await shop.pay_code(rid)
    with pytest.raises(RateLimited):  # the volunteer, even with a good code
        await lookup.lookup(db, shop.volunteer, shop.outlet, good, ip="10.0.0.8")
    other = await user(db, "vol-2", "volunteer", shop.community, SLUGS["a"])
    with pytest.raises(RateLimited):  # the device, whoever holds it
        await lookup.lookup(db, other, shop.outlet, good, ip="10.0.0.7")
    found = await lookup.lookup(db, other, shop.outlet, good, ip="10.0.0.9")
    assert found.resident.id == rid  # another volunteer on another device is served


async def test_looking_a_code_up_again_never_extends_its_life(db: Database) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("王芳", 100)
    code = await shop.pay_code(rid)

    async def deadline() -> datetime:
        async with db.connection() as conn:
            row = await conn.fetchrow(
                "SELECT created_at, expires_at FROM mall_code WHERE kind = 'pay' AND resident = ?",
                rid,
            )
        assert row is not None
        expires: datetime = row["expires_at"]
        assert expires == row["created_at"] + SCANNED_CODE_TTL
        return expires

    start = datetime.now(UTC)
    await lookup.lookup(db, shop.volunteer, shop.outlet, code, at=start + timedelta(seconds=30))
    first = await deadline()
    await lookup.lookup(db, shop.volunteer, shop.outlet, code, at=start + timedelta(minutes=9))
    assert await deadline() == first  # not nine minutes more
    with pytest.raises(CodeExpired):
        await lookup.lookup(db, shop.volunteer, shop.outlet, code, at=first + timedelta(seconds=1))


async def test_a_phone_holds_at_most_three_live_pay_codes(db: Database) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("赵六", 100)
    made = [await shop.pay_code(rid) for _ in range(6)]
    for old in made[:3]:
        with pytest.raises(CodeInvalid):
            await lookup.lookup(db, shop.volunteer, shop.outlet, old)
    for n, live in enumerate(made[3:]):
        paid = await checkout.checkout(
            db, shop.volunteer, shop.outlet, code=live, lines=[("soap", 1)],
            idempotency_key=f"k{n}", req_hash=f"k{n}",
        )  # fmt: skip
        assert paid.total == 3
    assert credentials.MAX_LIVE_PAY_CODES == 3
