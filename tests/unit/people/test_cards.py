"""Printed cards under four eyes (mall.people.cards): two approvals at once post one, the pay
code the counter made for the old card dies with it, and a waiting card is refused wherever a
card is taken (look-up, checkout, collecting a reservation)."""

from __future__ import annotations

import pytest

from mall.counter import lookup, reservations
from mall.db import Database
from mall.errors import AlreadyExists, CardPending, CodeInvalid, Forbidden
from mall.people import cards, code_lookup, credentials
from tests.shop_fixtures import ADMIN, build_shop, user
from tests.support import race


async def test_two_approvals_at_once_approve_the_card_once(db: Database, db_url: str) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("张桂兰", 30)
    made = await credentials.issue_card(db, shop.staff, rid, "2580")
    assert made.status == "pending_approval"
    others = [
        await user(db, f"second-{i}", "staff", shop.community, shop.staff.community_slug or "")
        for i in range(4)
    ]

    async def work(db: Database, i: int) -> object:
        return await cards.approve_card(db, others[i], rid)

    results = race(db_url, len(others), work)
    assert sum(isinstance(r, cards.Approved) for r in results) == 1, results
    assert all(isinstance(r, cards.Approved | AlreadyExists) for r in results), results
    async with db.connection() as conn:
        approved = await conn.fetch(
            "SELECT approved_by FROM mall_code WHERE resident = ? AND kind = 'card'", rid
        )
        log = await conn.fetchval("SELECT COUNT(*) FROM mall_audit WHERE action = 'card.approve'")
    assert len(approved) == 1 and approved[0]["approved_by"] is not None and log == 1
    state = await cards.card_of(db, shop.staff, rid)
    assert state is not None and state.status == "active"
    assert state.issued_by == "staff" and state.approved_by in {f"second-{i}" for i in range(4)}


async def test_a_waiting_card_is_refused_at_every_counter_door(db: Database) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("张桂兰", 30)
    held = await reservations.reserve(
        db, shop.resident(rid), shop.outlet, [("soap", 1)], idempotency_key="r", req_hash="r"
    )
    card = (await credentials.issue_card(db, shop.staff, rid, "2580")).card_code
    with pytest.raises(CardPending):
        await lookup.lookup(db, shop.volunteer, shop.outlet, card, "2580")
    with pytest.raises(CardPending):
        await reservations.collect(db, shop.volunteer, held.id, code=card, pin="2580")
    with pytest.raises(CardPending):
        await code_lookup.find_resident_by_code(db, shop.staff, card, "2580")
    with pytest.raises(Forbidden):
        await cards.approve_card(db, shop.staff, rid)  # the issuer
    await cards.approve_card(db, ADMIN, rid)
    found = await lookup.lookup(db, shop.volunteer, shop.outlet, card, "2580")
    assert found.resident.id == rid


async def test_a_new_card_ends_the_pay_code_the_counter_made_for_the_old_one(
    db: Database,
) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("张桂兰", 0)
    old = await shop.card(rid, "2580")
    visit = await lookup.lookup(db, shop.volunteer, shop.outlet, old, "2580")
    await credentials.issue_card(db, shop.staff, rid, "1357")
    with pytest.raises(CodeInvalid):
        await lookup.lookup(db, shop.volunteer, shop.outlet, visit.counter_code)


async def test_nobody_issues_or_approves_a_card_for_their_own_record(db: Database) -> None:
    from mall.errors import SelfDealing

    shop = await build_shop(db)
    rid = await shop.new_resident("张桂兰", 30)
    me = shop.staff
    async with db.transaction() as conn:
        await conn.execute("UPDATE mall_user SET resident = ? WHERE id = ?", rid, me.user_id)
    with pytest.raises(SelfDealing):
        await credentials.issue_card(db, me, rid, "2580")
    await credentials.issue_card(db, ADMIN, rid, "2580")
    with pytest.raises(SelfDealing):
        await cards.approve_card(db, me, rid)
