"""The inbox's reminders and the message sender without HTTP: housekeeping reminds of a
reservation about to lapse and of points about to expire once each, even when two runs race;
nothing leaves the server by default; a configured sender gets each new message once, even from
two deliveries at once, and one failing message does not stop the others."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest

from mall import days
from mall.counter import housekeeping, reservations
from mall.db import Database, open_database
from mall.earning import expiring
from mall.housekeeping import run
from mall.notify import announcements, inbox, kinds, senders
from mall.notify.senders import Outgoing
from mall.org import policy
from tests.shop_fixtures import ADMIN, SLUGS, Shop, build_shop

SENT: list[Outgoing] = []


class Recorder:
    """A sender for the tests: keeps what it is given, and fails on a title of ``fail``."""

    async def send(self, message: Outgoing) -> None:
        if message.title == "fail":
            raise RuntimeError("the channel is down")
        SENT.append(message)


def recorder() -> Recorder:
    return Recorder()


async def kinds_of(db: Database, shop: Shop, rid: int) -> list[str]:
    return [m.kind for m in await inbox.messages(db, shop.resident(rid))]


async def test_a_lapsing_reservation_is_reminded_once_even_by_two_runs_at_once(
    db: Database, db_url: str
) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("李海", 100)
    made = await reservations.reserve(
        db, shop.resident(rid), shop.outlet, [("soap", 1)], idempotency_key="r", req_hash="r"
    )
    soon = made.expires_at - timedelta(hours=2)
    assert await housekeeping.remind_lapsing(db, made.expires_at - timedelta(days=2)) == 0
    second = open_database(db_url)
    try:
        done = await asyncio.gather(
            housekeeping.remind_lapsing(db, soon), housekeeping.remind_lapsing(second, soon)
        )
    finally:
        await second.close()
    assert sum(done) == 1
    assert await kinds_of(db, shop, rid) == [kinds.RESERVATION_LAPSING, kinds.RESERVATION_READY]
    reminder = (await inbox.messages(db, shop.resident(rid)))[0]
    assert reminder.params["outlet"] == f"{SLUGS['a']}积分超市"


async def test_points_about_to_expire_are_reminded_once_per_day_they_expire(
    db: Database, db_url: str
) -> None:
    shop = await build_shop(db)
    await policy.set_policy(db, ADMIN, SLUGS["a"], expiry="year_end")
    rid = await shop.new_resident("王秀英", 40)
    last = days.today().replace(month=12, day=31)
    early = days.midnight(last - timedelta(days=20)) + timedelta(hours=3)
    if early > days.midnight(days.today()):
        assert await expiring.remind_expiring(db, early) == 0
    at = days.midnight(last - timedelta(days=3)) + timedelta(hours=3)
    second = open_database(db_url)
    try:
        done = await asyncio.gather(
            expiring.remind_expiring(db, at), expiring.remind_expiring(second, at)
        )
    finally:
        await second.close()
    assert sum(done) == 1
    found = await inbox.messages(db, shop.resident(rid))
    assert [m.kind for m in found] == [kinds.POINTS_EXPIRING]
    assert found[0].params == {"points": 40, "on": last.isoformat()}
    assert await expiring.remind_expiring(db, at + timedelta(hours=1)) == 0


async def test_nothing_leaves_the_server_unless_a_sender_is_configured(
    db: Database, db_url: str, setting: Callable[[str, str], None]
) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("李海", 0)
    await announcements.publish(db, ADMIN, SLUGS["a"], "停水通知", "明天停水")
    assert isinstance(senders.load(None), senders.NoSender)
    assert (await run(db, db_url)).sent == 0
    async with db.connection() as conn:
        assert (
            await conn.fetchval("SELECT COUNT(*) FROM mall_message WHERE sent_at IS NOT NULL") == 0
        )
    SENT.clear()
    setting("MALL_MESSAGE_SENDER", f"{__name__}:recorder")
    assert (await run(db, db_url)).sent == 1
    assert [(m.resident_id, m.kind, m.title) for m in SENT] == [(rid, "announcement", "停水通知")]
    assert (await run(db, db_url)).sent == 0  # once each
    with pytest.raises(TypeError):
        senders.load("builtins:object")


async def test_two_deliveries_at_once_send_each_message_once_and_a_failure_stops_nothing(
    db: Database, db_url: str
) -> None:
    shop = await build_shop(db)
    for name in ("甲", "乙", "丙"):
        await shop.new_resident(name, 0)
    await announcements.publish(db, ADMIN, SLUGS["a"], "fail", "这条发不出去")
    await announcements.publish(db, ADMIN, SLUGS["a"], "社区通知", "周六义诊")
    SENT.clear()
    second = open_database(db_url)
    try:
        handed = await asyncio.gather(
            senders.deliver(db, Recorder()), senders.deliver(second, Recorder())
        )
    finally:
        await second.close()
    assert sum(handed) == 3 and len(SENT) == 3
    assert len({m.id for m in SENT}) == 3 and {m.title for m in SENT} == {"社区通知"}
