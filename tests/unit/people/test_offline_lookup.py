"""Staff's look-up by code takes a resident's offline pay code as the counter's look-up does: in
its window, bound to its phone, of staff's own community, and without using it up."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mall.counter import lookup
from mall.db import Database
from mall.errors import CodeExpired, CodeInvalid
from mall.people import auth, code_lookup, offline_codes
from tests.shop_fixtures import build_shop, clean
from tests.unit.people.test_lifecycle import check_out
from tests.unit.people.test_offline_codes import phone, shift


def tampered(code: str) -> str:
    """The code with its last digit changed: its signature no longer holds."""
    return code[:-1] + str((int(code[-1]) + 1) % 10)


async def test_staff_find_the_resident_by_a_fresh_offline_code_and_it_still_pays(
    db: Database,
) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("王秀英", 30)
    batch = await offline_codes.issue_batch(db, await phone(shop, rid))
    code = batch.codes[0].code
    found = await code_lookup.find_resident_by_code(db, shop.staff, code)
    assert (found.id, found.name) == (rid, "王秀英")
    again = await code_lookup.find_resident_by_code(db, shop.staff, code)
    assert again.id == rid  # a look-up does not use the code up
    assert (await check_out(shop, code, "k")).balance_after == 27
    await clean(db)


async def test_expired_tampered_early_and_foreign_offline_codes_are_refused_alike(
    db: Database,
) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("王秀英", 30)
    other = await shop.new_resident("李建国", 30, community="b")
    batch = await offline_codes.issue_batch(db, await phone(shop, rid))
    now, later, old = (c.code for c in batch.codes[:3])
    await shift(db, old, -timedelta(minutes=10))
    theirs = (await offline_codes.issue_batch(db, await phone(shop, other))).codes[0].code
    for code, error in (
        (old, CodeExpired),  # its window is over
        (tampered(now), CodeInvalid),  # its signature does not hold
        (later, CodeInvalid),  # its window starts in six minutes
        (theirs, CodeInvalid),  # another community's resident
    ):
        with pytest.raises(error):
            await code_lookup.find_resident_by_code(db, shop.staff, code)
        with pytest.raises(error):  # exactly as the counter's look-up refuses it
            await lookup.lookup(db, shop.volunteer, shop.outlet, code)
    assert await shop.balance(rid) == 30
    assert (await check_out(shop, now, "k")).balance_after == 27


async def test_a_signed_out_phones_offline_code_is_refused(db: Database) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("王秀英", 30)
    me = await phone(shop, rid)
    code = (await offline_codes.issue_batch(db, me)).codes[0].code
    await auth.sign_out(db, me)
    with pytest.raises(CodeInvalid):
        await code_lookup.find_resident_by_code(db, shop.staff, code)
    with pytest.raises(CodeInvalid):
        await lookup.lookup(db, shop.volunteer, shop.outlet, code)
