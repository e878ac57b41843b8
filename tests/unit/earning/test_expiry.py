"""What expires, first in first out: the edge cases of ``expired`` (spent before or after the
cutoff, a reversal, a hold, a refund's credit, a rule set later), the calendar of the two rules,
and what a resident is told a month ahead."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest

import ledger
import ledger.journals
from mall import days
from mall.db import Database
from mall.earning.expiry import (
    Expiring,
    add_months,
    expired,
    expiring_soon,
    first_kept,
    last_day,
    wallet_flows,
)
from mall.org import points
from mall.org.policy import Policy
from tests.shop_fixtures import Shop, build_shop

YEAR_END = Policy(
    approval_threshold=100, activity_max_points=200, objection_days=7, expiry="year_end"
)
THREE_MONTHS = Policy(
    approval_threshold=100,
    activity_max_points=200,
    objection_days=7,
    expiry="months",
    expiry_months=3,
)
NEW_YEAR = date(2026, 1, 1)


def moment(day: date, hour: int = 10) -> datetime:
    """``hour`` o'clock in China on ``day``."""
    return days.midnight(day) + timedelta(hours=hour)


class Wallet:
    """One resident's wallet in community ``a``, posted to at chosen China times."""

    def __init__(self, shop: Shop, resident_id: int, monkeypatch: pytest.MonkeyPatch) -> None:
        self.shop, self.rid, self.mp, self.n = shop, resident_id, monkeypatch, 0

    @property
    def code(self) -> str:
        return points.wallet(self.rid)

    async def post(self, day: date, kind: str, legs: Sequence[tuple[str, int]]) -> None:
        self.mp.setattr(ledger.journals, "now", lambda: moment(day))
        self.n += 1
        async with self.shop.db.transaction() as conn:
            await ledger.post_journal(
                conn, self.shop.book, kind, legs, idempotency_key=f"t{self.rid}:{self.n}"
            )

    async def earn(self, day: date, amount: int) -> None:
        await self.post(day, "award", [(points.BUDGET, -amount), (self.code, amount)])

    async def spend(self, day: date, amount: int) -> None:
        till = points.redeemed(self.shop.outlet, self.rid)
        await self.post(day, "redemption", [(self.code, -amount), (till, amount)])

    async def refund(self, day: date, amount: int) -> None:
        till = points.redeemed(self.shop.outlet, self.rid)
        await self.post(day, "reversal", [(till, -amount), (self.code, amount)])

    async def hold(self, day: date, amount: int) -> int:
        self.mp.setattr(ledger.journals, "now", lambda: moment(day))
        self.n += 1
        async with self.shop.db.transaction() as conn:
            placed = await ledger.place_hold(
                conn,
                self.shop.book,
                self.code,
                amount,
                expires_at=moment(day) + timedelta(days=400),
                idempotency_key=f"t{self.rid}:{self.n}",
            )
        return placed.id

    async def release(self, day: date, hold_id: int) -> None:
        self.mp.setattr(ledger.journals, "now", lambda: moment(day))
        self.n += 1
        async with self.shop.db.transaction() as conn:
            await ledger.release_hold(conn, hold_id, idempotency_key=f"t{self.rid}:{self.n}")

    async def expired(self, cutoff: date, since: date | None = None) -> int:
        async with self.shop.db.connection() as conn:
            flows = await wallet_flows(conn, self.shop.book, self.rid, cutoff)
        assert flows is not None
        return expired(flows, cutoff, since=since)

    async def soon(self, policy: Policy, today: date) -> list[Expiring]:
        async with self.shop.db.connection() as conn:
            return await expiring_soon(conn, policy, self.shop.book, self.rid, today)


@pytest.fixture
async def shop(db: Database) -> Shop:
    return await build_shop(db)


async def wallet(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> Wallet:
    return Wallet(shop, await shop.new_resident("刘桂兰", 0), monkeypatch)


async def test_points_spent_before_the_cutoff_were_the_oldest(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = await wallet(shop, monkeypatch)
    await w.earn(date(2025, 3, 1), 100)
    await w.spend(date(2025, 6, 1), 30)
    await w.earn(date(2026, 2, 1), 50)
    assert await w.expired(NEW_YEAR) == 70


async def test_points_spent_after_the_cutoff_also_came_from_the_oldest(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = await wallet(shop, monkeypatch)
    await w.earn(date(2025, 3, 1), 100)
    await w.earn(date(2026, 1, 5), 50)
    await w.spend(date(2026, 1, 10), 120)
    assert await w.expired(NEW_YEAR) == 0
    w2 = await wallet(shop, monkeypatch)
    await w2.earn(date(2025, 3, 1), 100)
    await w2.earn(date(2026, 1, 5), 50)
    await w2.spend(date(2026, 1, 10), 30)
    assert await w2.expired(NEW_YEAR) == 70  # 50 of 2026 stay


async def test_a_reversed_award_expires_nothing_of_its_own(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = await wallet(shop, monkeypatch)
    await w.earn(date(2025, 3, 1), 100)
    await w.earn(date(2025, 12, 30), 40)
    await w.post(date(2026, 1, 3), "reversal", [(w.code, -40), (points.BUDGET, 40)])
    assert await w.expired(NEW_YEAR) == 100


async def test_points_under_a_hold_never_expire_and_come_back_as_new(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = await wallet(shop, monkeypatch)
    await w.earn(date(2025, 3, 1), 100)
    hold = await w.hold(date(2025, 12, 20), 60)
    assert await w.expired(NEW_YEAR) == 40  # only what is available
    await w.release(date(2026, 1, 8), hold)
    assert await w.expired(NEW_YEAR) == 40  # the 60 came back in 2026: they count from then
    assert await w.expired(date(2027, 1, 1)) == 100


async def test_a_refunds_credit_counts_as_earned_on_the_day_of_the_refund(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = await wallet(shop, monkeypatch)
    await w.earn(date(2025, 3, 1), 100)
    await w.spend(date(2025, 12, 28), 100)
    await w.refund(date(2026, 1, 4), 100)
    assert await w.expired(NEW_YEAR) == 0
    assert await w.expired(date(2027, 1, 1)) == 100


async def test_an_earlier_expiry_is_a_debit_so_nothing_expires_twice(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = await wallet(shop, monkeypatch)
    await w.earn(date(2025, 3, 1), 100)
    await w.post(date(2026, 1, 1), "expiry", [(w.code, -100), (points.BUDGET, 100)])
    await w.earn(date(2026, 2, 1), 30)
    assert await w.expired(NEW_YEAR) == 0
    assert await w.expired(date(2027, 1, 1)) == 30


async def test_a_rule_takes_nothing_earned_before_the_day_it_was_set(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = await wallet(shop, monkeypatch)
    await w.earn(date(2025, 3, 1), 100)
    assert await w.expired(NEW_YEAR, since=date(2026, 3, 1)) == 0
    assert await w.expired(NEW_YEAR, since=date(2025, 12, 31)) == 100
    assert await w.expired(date(2027, 1, 1), since=date(2026, 3, 1)) == 100


def test_months_are_whole_calendar_months_kept_inside_the_month() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)
    assert add_months(date(2026, 5, 10), 120) == date(2036, 5, 10)


def test_the_last_day_and_the_first_day_kept_of_each_rule() -> None:
    assert last_day(YEAR_END, date(2026, 7, 1)) == date(2026, 12, 31)
    assert first_kept(YEAR_END, date(2026, 12, 31)) == date(2027, 1, 1)
    assert first_kept(YEAR_END, date(2026, 12, 30)) == date(2026, 1, 1)
    assert last_day(THREE_MONTHS, date(2026, 9, 10)) == date(2026, 12, 10)
    # points earned on 9-10 are usable through 12-10: after 12-10 the first kept is 9-11
    assert first_kept(THREE_MONTHS, date(2026, 12, 10)) == date(2026, 9, 11)
    # 11-30 + 3 months = 2-28: after 2-28 everything up to 11-30 has gone
    assert first_kept(THREE_MONTHS, date(2027, 2, 28)) == date(2026, 12, 1)
    for on in (date(2026, 1, 1) + timedelta(days=n) for n in range(400)):
        kept = first_kept(THREE_MONTHS, on)
        assert add_months(kept, 3) > on >= add_months(kept - timedelta(days=1), 3)


async def test_a_resident_is_told_a_month_ahead_what_expires_and_when(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = await wallet(shop, monkeypatch)
    await w.earn(date(2026, 3, 1), 100)
    await w.spend(date(2026, 5, 1), 30)
    assert await w.soon(YEAR_END, date(2026, 11, 30)) == []
    assert await w.soon(YEAR_END, date(2026, 12, 5)) == [Expiring(points=70, on=date(2026, 12, 31))]
    never = Policy(approval_threshold=100, activity_max_points=200, objection_days=7)
    assert await w.soon(never, date(2026, 12, 5)) == []
    m = await wallet(shop, monkeypatch)
    await m.earn(date(2026, 9, 10), 50)
    await m.earn(date(2026, 9, 20), 30)
    await m.earn(date(2026, 11, 20), 10)
    await m.spend(date(2026, 11, 25), 60)
    assert await m.soon(THREE_MONTHS, date(2026, 12, 1)) == [
        Expiring(points=20, on=date(2026, 12, 20))
    ]
    late = msgspec.structs.replace(THREE_MONTHS, expiry_since=datetime(2026, 10, 1, tzinfo=UTC))
    # set on 10-01: what was earned before counts as earned then, usable through 01-01
    assert await m.soon(late, date(2026, 11, 30)) == []
    assert await m.soon(late, date(2026, 12, 15)) == [Expiring(points=20, on=date(2027, 1, 1))]
