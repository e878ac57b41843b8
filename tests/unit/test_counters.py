"""What ``/metrics`` counts of the service's work: checkouts, awards by the status they reached
and housekeeping runs; a replay counts nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY

from mall.counter import checkout
from mall.db import Database
from mall.earning import awards
from mall.housekeeping import run
from tests.shop_fixtures import build_shop
from tests.unit.earning.test_awards import SLUG, setup


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_a_checkout_counts_once_and_its_replay_not_at_all(db: Database) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("李海", 100)
    before = value("mall_checkouts_total")
    code = await shop.pay_code(rid)
    for _ in range(2):  # the second is a replay of the first
        await checkout.checkout(
            db, shop.volunteer, shop.outlet, code=code, lines=[("soap", 1)],
            idempotency_key="k1", req_hash="h1",
        )  # fmt: skip
    assert value("mall_checkouts_total") - before == 1


async def test_awards_count_by_the_status_they_reached(db: Database) -> None:
    staff, residents = await setup(db)
    posted = value("mall_awards_total", status="posted")
    for _ in range(2):  # again with the same key: a replay
        await awards.create_award(
            db, staff, SLUG, "r", residents[:1], "议事会", idempotency_key="m1"
        )
    assert value("mall_awards_total", status="posted") - posted == 1


async def test_a_housekeeping_run_counts(db: Database, db_url: str) -> None:
    before = value("mall_housekeeping_runs_total")
    await run(db, db_url, datetime.now(UTC) + timedelta(minutes=1))
    assert value("mall_housekeeping_runs_total") - before == 1
