"""A resident's record over its life through the services: correcting it."""

from __future__ import annotations

import json

import pytest

from mall.db import Database
from mall.errors import (
    AlreadyExists,
    Forbidden,
    Invalid,
    NotFound,
)
from mall.people import lifecycle
from tests.shop_fixtures import SLUGS, build_shop

A = SLUGS["a"]


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


async def test_another_community_or_role_cannot_change_a_record(db: Database) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("王秀英", 10)
    with pytest.raises(NotFound):
        await lifecycle.update_resident(db, shop.staff_b, rid, {"name": "李四"})
    with pytest.raises(Forbidden):
        await lifecycle.update_resident(db, shop.volunteer, rid, {"name": "李四"})
    with pytest.raises(Forbidden):
        await lifecycle.update_resident(db, shop.resident(rid), rid, {"name": "李四"})
    assert await shop.balance(rid) == 10
