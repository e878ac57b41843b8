"""The street at a glance and the organisation's read services: figures from the ledger's
balances after grants, awards, a redemption and a reservation, and who may read them."""

from __future__ import annotations

import pytest

import ledger
from mall.counter import checkout, reservations
from mall.db import Database
from mall.errors import Forbidden, NotFound
from mall.org import communities, overview
from tests.shop_fixtures import ADMIN, SLUGS, Shop, build_shop


async def busy_street(db: Database) -> Shop:
    """Community a: 100,000 granted, 150 awarded, 10 spent, 6 set aside for a reservation.
    Community b: 100,000 and 500 more granted, nothing awarded. Community c: nothing at all."""
    shop = await build_shop(db)
    first = await shop.new_resident("王秀英", 100)
    second = await shop.new_resident("李建国", 50)
    code = await shop.pay_code(first)
    await checkout.checkout(
        db,
        shop.volunteer,
        shop.outlet,
        code=code,
        pin=None,
        lines=[("oil", 1)],
        idempotency_key="k1",
        req_hash=ledger.request_hash({"code": code}),
    )
    await reservations.reserve(
        db, shop.resident(second), shop.outlet, [("soap", 2)], idempotency_key="r1", req_hash="h"
    )
    await communities.grant_budget(db, ADMIN, SLUGS["b"], 500, "第二批", idempotency_key="b2")
    await communities.create_community(db, ADMIN, "shop-c", "社区c")
    return shop


async def test_overview_reads_budget_issued_and_what_residents_hold(db: Database) -> None:
    await busy_street(db)
    seen = await overview.street_overview(db, ADMIN)
    assert seen.communities == [
        overview.CommunityFigures(
            slug="shop-a",
            name="社区a",
            budget_left=99_850,
            granted=100_000,
            issued=150,
            outstanding=140,
        ),
        overview.CommunityFigures(
            slug="shop-b",
            name="社区b",
            budget_left=100_500,
            granted=100_500,
            issued=0,
            outstanding=0,
        ),
        overview.CommunityFigures(
            slug="shop-c", name="社区c", budget_left=0, granted=0, issued=0, outstanding=0
        ),
    ]
    assert seen.total == overview.Totals(
        budget_left=200_350, granted=200_500, issued=150, outstanding=140
    )


async def test_overview_agrees_with_the_budget_service(db: Database) -> None:
    await busy_street(db)
    budget = await communities.budget(db, ADMIN, "shop-a")
    figures = await overview.community_figures(db, ADMIN, "shop-a")
    assert (figures.budget_left, figures.granted, figures.issued) == (
        budget.balance,
        budget.granted,
        budget.issued,
    )


async def test_only_street_administrators_see_the_street(db: Database) -> None:
    shop = await busy_street(db)
    for who in (shop.staff, shop.volunteer, shop.resident(1)):
        with pytest.raises(Forbidden):
            await overview.street_overview(db, who)
        with pytest.raises(Forbidden):
            await communities.list_communities(db, who)


async def test_staff_see_their_own_community_figures_and_grids_only(db: Database) -> None:
    shop = await busy_street(db)
    await communities.create_grid(db, ADMIN, "shop-a", "g2", "二网格")
    await communities.create_grid(db, ADMIN, "shop-a", "g1", "一网格")
    await communities.create_grid(db, ADMIN, "shop-b", "g9", "别处")
    assert (await overview.community_figures(db, shop.staff, "shop-a")).outstanding == 140
    assert [g.code for g in await communities.list_grids(db, shop.staff, "shop-a")] == ["g1", "g2"]
    with pytest.raises(Forbidden):
        await overview.community_figures(db, shop.staff, "shop-b")
    with pytest.raises(Forbidden):
        await communities.list_grids(db, shop.staff, "shop-b")
    with pytest.raises(Forbidden):
        await communities.list_grids(db, shop.volunteer, "shop-a")
    with pytest.raises(NotFound):
        await overview.community_figures(db, ADMIN, "nowhere")


async def test_communities_are_listed_by_code_and_grants_newest_first(db: Database) -> None:
    shop = await busy_street(db)
    assert [c.slug for c in await communities.list_communities(db, ADMIN)] == [
        "shop-a",
        "shop-b",
        "shop-c",
    ]
    grants = await communities.recent_grants(db, ADMIN, "shop-b")
    assert [(g.points, g.memo) for g in grants] == [(500, "第二批"), (100_000, "")]
    assert await communities.recent_grants(db, ADMIN, "shop-c") == []
    assert len(await communities.recent_grants(db, shop.staff, "shop-a")) == 1
    with pytest.raises(Forbidden):
        await communities.recent_grants(db, shop.staff, "shop-b")
