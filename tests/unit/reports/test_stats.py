"""Statistics against figures worked out by hand and against independent reads: awards made,
approved and reversed through the real services, orders and a refund at the counter, a
reservation, an activity and submissions; then who may read them and which days they cover."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

import catalog
import ledger
from mall import days
from mall.counter import checkout, refunds, reservations
from mall.db import Database
from mall.earning import activities, awards, rules, signups, submissions
from mall.earning.reversals import reverse_award
from mall.errors import Forbidden, Invalid, NotFound, Unauthenticated
from mall.org import communities, points
from mall.people import residents
from mall.reports import stats
from tests import support
from tests.shop_fixtures import ADMIN, SLUGS, Shop, build_shop, user

A = SLUGS["a"]


@dataclass
class Busy:
    shop: Shop
    wang: int
    li: int
    zhao: int


async def busy_month(db: Database) -> Busy:
    """Community a, this month:

    - awards: 王 and 李 10 each by 助人 (timely_help, 20); 王 20 by 调解 (settling_disputes),
      reversed; 赵 30 by 议事 (adding_to_good) over its threshold, approved by a second staff
      member; one more over the threshold left waiting (not issued). Issued 70, reversed 20.
    - orders: 王 buys 1 oil (10); 赵 buys 2 soap (6), refunded. Redeemed 16, refunded 6.
    - 李 reserves 2 soap (6): points set aside, still held by residents.
    - residents hold 王 0, 李 4 + 6 set aside, 赵 30: 40. The shelf: oil 9 × 10, soap 48 × 3,
      rice 5 × 20: 334.
    - an activity with one sign-up; two submissions, one of them overdue.
    """
    shop = await build_shop(db)
    second = await user(db, "staff2", "staff", shop.community, A)
    await communities.create_grid(db, ADMIN, A, "g1", "一网格")
    wang = (await residents.create_resident(db, ADMIN, A, "王秀英", None, "g1")).id
    li = (await residents.create_resident(db, ADMIN, A, "李建国", None, "g1")).id
    zhao = (await residents.create_resident(db, ADMIN, A, "赵大妈", None, None)).id
    await rules.create_rule(db, shop.staff, A, "help", "助人", "timely_help", 10)
    await rules.create_rule(db, shop.staff, A, "mediate", "调解", "settling_disputes", 20)
    await rules.create_rule(
        db, shop.staff, A, "council", "议事", "adding_to_good", 30, approval_threshold=10
    )
    await awards.create_award(db, shop.staff, A, "help", [wang, li], "帮扶", idempotency_key="1")
    made = await awards.create_award(
        db, shop.staff, A, "mediate", [wang], "调解", idempotency_key="2"
    )
    await reverse_award(db, shop.staff, made.id, "重复申报", idempotency_key="r")
    waiting = await awards.create_award(
        db, shop.staff, A, "council", [zhao], "议事", idempotency_key="3"
    )
    await awards.approve(db, second, waiting.id)
    await awards.create_award(db, shop.staff, A, "council", [li], "议事", idempotency_key="4")

    async def buy(resident: int, sku: str, n: int, key: str) -> int:
        code = await shop.pay_code(resident)
        receipt = await checkout.checkout(
            db,
            shop.volunteer,
            shop.outlet,
            code=code,
            lines=[(sku, n)],
            idempotency_key=key,
            req_hash=ledger.request_hash({"code": code, key: n}),
        )
        return receipt.id

    await buy(wang, "oil", 1, "o1")
    soap = await buy(zhao, "soap", 2, "o2")
    await refunds.refund(db, shop.staff, soap, idempotency_key="refund")
    await reservations.reserve(
        db, shop.resident(li), shop.outlet, [("soap", 2)], idempotency_key="res", req_hash="h"
    )
    soon = datetime.now(UTC) + timedelta(hours=1)
    activity = await activities.create_activity(
        db,
        shop.staff,
        A,
        title="清扫楼道",
        path="timely_help",
        points=5,
        capacity=5,
        starts_at=soon,
        ends_at=soon + timedelta(hours=1),
        place="3号楼",
    )
    await signups.sign_up(db, shop.resident(wang), activity.id)
    late = await submissions.file(db, shop.resident(li), "wish", "想学用智能手机", "")
    await submissions.file(db, shop.resident(zhao), "proposal", "多装路灯", "")
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE mall_submission SET due_at = ? WHERE id = ?",
            datetime.now(UTC) - timedelta(days=1),
            late.id,
        )
    return Busy(shop=shop, wang=wang, li=li, zhao=zhao)


async def test_a_community_month_matches_the_figures_worked_out_by_hand(db: Database) -> None:
    busy = await busy_month(db)
    seen = await stats.community_report(db, busy.shop.staff, A)
    f = seen.figures
    assert (f.issued, f.reversed, f.redeemed, f.refunded) == (70, 20, 16, 6)
    assert f.issued_by_path == stats.ByPath(timely_help=20, adding_to_good=30, settling_disputes=20)
    assert (f.earners, f.redeemers, f.residents) == (3, 2, 3)
    assert (f.outstanding, f.stock_value, f.coverage) == (40, 334, 8.35)
    assert (f.ratings, f.average_rating) == (0, None)
    assert [(r.code, r.points) for r in seen.by_rule] == [
        ("council", 30),
        ("help", 20),
        ("mediate", 20),
    ]
    assert [(g.code, g.points) for g in seen.by_grid] == [("g1", 40), ("-", 30)]
    assert [m.points for m in seen.by_month] == [70]
    assert [(g.name, g.quantity, g.points) for g in seen.top_goods] == [
        ("食用油", 1, 10),
        ("香皂", 2, 6),
    ]
    assert seen.volunteering == stats.Volunteering(activities=1, signups=1, checkins=0)
    assert seen.submissions.by_kind == {"proposal": 1, "dispute": 0, "wish": 1}
    assert seen.submissions.by_status["open"] == 2
    assert seen.submissions.overdue == 1


async def test_the_figures_agree_with_the_ledger_and_the_shelves(db: Database) -> None:
    busy = await busy_month(db)
    f = (await stats.community_report(db, ADMIN, A)).figures
    shop = busy.shop
    async with db.connection() as conn:
        wallets = [
            (await ledger.get_balance(conn, shop.book, points.wallet(r))).balance
            for r in (busy.wang, busy.li, busy.zhao)
        ]
        held = await ledger.held_amount(conn, shop.book, points.wallet(busy.li))
        levels = {
            sku: await catalog.stock_level(conn, shop.outlet, item)
            for sku, item in shop.items.items()
            if sku != "haircut"
        }
    assert f.outstanding == sum(wallets) + held
    prices = {"oil": 10, "soap": 3, "rice": 20}
    assert f.stock_value == sum(prices[s] * n for s, n in levels.items())
    assert (
        sum(g.points for g in (await stats.community_report(db, ADMIN, A)).top_goods) == f.redeemed
    )


async def test_the_street_total_adds_up_every_community(db: Database) -> None:
    busy = await busy_month(db)
    await busy.shop.new_resident("钱多多", 0, "b")
    street = await stats.street_report(db, ADMIN)
    assert [r.slug for r in street.communities] == [SLUGS["a"], SLUGS["b"]]
    a, b = street.communities
    assert b.figures.issued == 0 and b.figures.coverage is None
    total = street.total.figures
    assert total.issued == a.figures.issued
    assert total.residents == a.figures.residents + 1
    assert total.stock_value == a.figures.stock_value + b.figures.stock_value
    assert total.coverage == round(total.stock_value / total.outstanding, 4)
    assert street.total.submissions.overdue == 1


async def test_a_range_before_the_awards_counts_none_of_them(db: Database) -> None:
    busy = await busy_month(db)
    today = days.today()
    earlier = await stats.community_report(
        db, busy.shop.staff, A, start=today - timedelta(days=40), end=today - timedelta(days=35)
    )
    assert (earlier.figures.issued, earlier.figures.redeemed, earlier.figures.earners) == (0, 0, 0)
    assert earlier.figures.outstanding > 0  # held now, whatever the range
    assert earlier.submissions.by_kind == {"proposal": 0, "dispute": 0, "wish": 0}


async def test_others_may_not_read_a_community_s_statistics(db: Database) -> None:
    shop = await build_shop(db)
    with pytest.raises(Forbidden):
        await stats.community_report(db, shop.staff_b, A)
    with pytest.raises(Forbidden):
        await stats.community_report(db, shop.volunteer, A)
    with pytest.raises(Forbidden):
        await stats.community_report(db, shop.resident(1), A)
    with pytest.raises(Unauthenticated):
        await stats.community_report(db, None, A)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        await stats.community_report(db, ADMIN, "no-such-place")
    with pytest.raises(Forbidden):
        await stats.street_report(db, shop.staff)
    with pytest.raises(Forbidden):
        await stats.street_report(db, support.resident(1, shop.community, A))


def test_the_default_range_is_the_current_calendar_month() -> None:
    assert stats.window(None, None, today=date(2026, 12, 5)) == (
        date(2026, 12, 1),
        date(2026, 12, 31),
    )
    assert stats.window(date(2026, 2, 3), None) == (date(2026, 2, 3), date(2026, 2, 28))
    assert stats.window(None, date(2024, 2, 10)) == (date(2024, 2, 1), date(2024, 2, 10))
    assert stats.month("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))


@pytest.mark.parametrize(
    ("start", "end"),
    [(date(2026, 12, 5), date(2026, 12, 1)), (date(2025, 1, 1), date(2026, 1, 2))],
)
def test_a_backwards_or_too_long_range_is_refused(start: date, end: date) -> None:
    with pytest.raises(Invalid):
        stats.window(start, end)


@pytest.mark.parametrize("value", ["2026-13", "2026-1", "26-01", "abc", "1999-01"])
def test_a_malformed_month_is_refused(value: str) -> None:
    with pytest.raises(Invalid):
        stats.month(value)


def test_the_months_of_a_range_are_clipped_to_it() -> None:
    assert stats.months(date(2026, 11, 20), date(2027, 1, 3)) == [
        ("2026-11", date(2026, 11, 20), date(2026, 11, 30)),
        ("2026-12", date(2026, 12, 1), date(2026, 12, 31)),
        ("2027-01", date(2027, 1, 1), date(2027, 1, 3)),
    ]
