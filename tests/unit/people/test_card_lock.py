"""A printed card locked by wrong PINs (mall.people.credentials, mall.people.cards): each wrong
PIN says how many tries are left, the card's state shows the lock to staff, and staff of its
community (never anyone else, never for their own record) unlock it, audited. Also the shapes the
counter tells a scan from a PIN by (mall.people.codes.shape) and the counter's visits
(mall.counter.visits): only the volunteer who scanned opens one."""

from __future__ import annotations

import pytest

from mall.counter import visits
from mall.db import Database
from mall.errors import AlreadyExists, CodeInvalid, Forbidden, Invalid, NotFound, SelfDealing
from mall.people import cards, code_lookup, codes, credentials
from mall.settings import get_settings
from tests.shop_fixtures import ADMIN, build_shop, user


async def lock(db: Database, card: str, volunteer: object) -> None:
    for _ in range(credentials.MAX_WRONG_PINS):
        with pytest.raises(Invalid):
            await credentials.resident_for_card(db, volunteer, card, "0000")  # type: ignore[arg-type]


async def test_each_wrong_pin_says_how_many_tries_are_left(db: Database) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("张桂兰", 0)
    card = await shop.card(rid, "2580")
    left = []
    for _ in range(credentials.MAX_WRONG_PINS - 1):
        with pytest.raises(Invalid) as wrong:
            await credentials.resident_for_card(db, shop.volunteer, card, "0000")
        left.append(wrong.value.params["n"])
    assert left == [4, 3, 2, 1]
    with pytest.raises(Invalid, match="now locked"):
        await credentials.resident_for_card(db, shop.volunteer, card, "0000")
    with pytest.raises(credentials.CardLocked):  # even the right PIN
        await credentials.resident_for_card(db, shop.volunteer, card, "2580")
    with pytest.raises(credentials.CardLocked):  # said at the scan, before any PIN
        await code_lookup.card_at_counter(db, shop.volunteer, card)
    state = await cards.card_of(db, shop.staff, rid)
    assert state is not None and state.locked and state.wrong_pins == credentials.MAX_WRONG_PINS


async def test_a_right_pin_starts_the_count_again(db: Database) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("张桂兰", 0)
    card = await shop.card(rid, "2580")
    for _ in range(2):
        with pytest.raises(Invalid):
            await credentials.resident_for_card(db, shop.volunteer, card, "0000")
    state = await cards.card_of(db, shop.staff, rid)
    assert state is not None and state.wrong_pins == 2 and not state.locked
    assert await credentials.resident_for_card(db, shop.volunteer, card, "2580") == rid
    with pytest.raises(Invalid) as wrong:
        await credentials.resident_for_card(db, shop.volunteer, card, "0000")
    assert wrong.value.params["n"] == credentials.MAX_WRONG_PINS - 1


async def test_staff_unlock_a_locked_card_and_it_is_audited(db: Database) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("张桂兰", 0)
    card = await shop.card(rid, "2580")
    await lock(db, card, shop.volunteer)
    await cards.unlock_card(db, shop.staff, rid, ip="10.0.0.7")
    state = await cards.card_of(db, shop.staff, rid)
    assert state is not None and not state.locked and state.wrong_pins == 0
    assert await credentials.resident_for_card(db, shop.volunteer, card, "2580") == rid
    async with db.connection() as conn:
        logged = await conn.fetch(
            "SELECT user_id, community, target, ip FROM mall_audit WHERE action = 'card.unlock'"
        )
    assert [dict(r) for r in logged] == [
        {
            "user_id": shop.staff.user_id,
            "community": shop.community,
            "target": f"resident:{rid}",
            "ip": "10.0.0.7",
        }
    ]
    with pytest.raises(AlreadyExists):  # not locked any more: nothing to unlock
        await cards.unlock_card(db, shop.staff, rid)


async def test_nobody_else_unlocks_a_card(db: Database) -> None:
    """Another community's staff: not found; a volunteer or the resident: forbidden; a staff
    member for their own record: self_dealing. The card stays locked through all of them."""

    shop = await build_shop(db)
    rid = await shop.new_resident("张桂兰", 0)
    card = await shop.card(rid, "2580")
    await lock(db, card, shop.volunteer)
    with pytest.raises(NotFound):
        await cards.unlock_card(db, shop.staff_b, rid)
    with pytest.raises(Forbidden):
        await cards.unlock_card(db, shop.volunteer, rid)
    with pytest.raises(Forbidden):
        await cards.unlock_card(db, shop.resident(rid), rid)
    own = await user(db, "own-staff", "staff", shop.community, shop.staff.community_slug or "")
    async with db.transaction() as conn:
        await conn.execute("UPDATE mall_user SET resident = ? WHERE id = ?", rid, own.user_id)
    with pytest.raises(SelfDealing):
        await cards.unlock_card(db, own, rid)
    state = await cards.card_of(db, shop.staff, rid)
    assert state is not None and state.locked
    async with db.connection() as conn:
        assert (
            await conn.fetchval("SELECT COUNT(*) FROM mall_audit WHERE action = 'card.unlock'") == 0
        )
    await cards.unlock_card(db, ADMIN, rid)  # the street may
    state = await cards.card_of(db, shop.staff, rid)
    assert state is not None and not state.locked


def test_a_card_or_pay_code_is_told_from_a_pin_by_its_shape() -> None:
    secret = get_settings().secret_key
    card, _ = codes.new_text_code(secret, codes.CARD)
    pay, _ = codes.new_pay_code(secret)
    assert codes.shape(card) == codes.CARD
    assert codes.shape(codes.card_number_groups(card).lower()) == codes.CARD  # typed, grouped
    assert codes.shape(pay) == codes.PAY and codes.shape(codes.pay_code_groups(pay)) == codes.PAY
    for pin in ("2580", "135792", "", "12345678"):
        assert codes.shape(pin) is None
    assert codes.parse(secret, codes.card_number_groups(card)).kind == codes.CARD


async def test_a_visit_is_opened_only_by_the_user_who_scanned(db: Database) -> None:
    shop = await build_shop(db)
    rid = await shop.new_resident("王秀英", 10)
    token = await visits.start(db, shop.volunteer, shop.outlet)
    await visits.scan(db, shop.volunteer, token, await shop.pay_code(rid))
    mine = await visits.get(db, shop.volunteer, token)
    assert mine.pay_code is not None and mine.card_code is None and mine.order_id is None
    for other in (shop.staff, shop.staff_b):
        with pytest.raises(NotFound):
            await visits.get(db, other, token)
        with pytest.raises(NotFound):
            await visits.scan(db, other, token, await shop.pay_code(rid))
    with pytest.raises(Forbidden):
        await visits.get(db, shop.resident(rid), token)
    with pytest.raises(NotFound):  # another community's outlet
        await visits.start(db, shop.volunteer, shop.outlet_b)


async def test_a_card_visit_keeps_the_card_through_a_wrong_pin_and_a_scan_in_the_pin_box_replaces_it(
    db: Database,
) -> None:
    shop = await build_shop(db)
    first = await shop.new_resident("张桂兰", 10)
    second = await shop.new_resident("李建国", 10)
    card = await shop.card(first, "2580")
    other = await shop.card(second, "1357")
    token = await visits.start(db, shop.volunteer, shop.outlet)
    await visits.scan(db, shop.volunteer, token, card)  # no PIN yet: it waits
    waiting = await visits.get(db, shop.volunteer, token)
    assert waiting.card_code == card and waiting.pay_code is None
    with pytest.raises(Invalid):
        await visits.enter_pin(db, shop.volunteer, token, "0000")
    assert (await visits.get(db, shop.volunteer, token)).card_code == card
    await visits.enter_pin(db, shop.volunteer, token, other)  # a scan that landed in the PIN box
    replaced = await visits.get(db, shop.volunteer, token)
    assert replaced.card_code == other and replaced.pay_code is None
    await visits.enter_pin(db, shop.volunteer, token, "1357")
    served = await visits.get(db, shop.volunteer, token)
    assert served.pay_code is not None
    async with db.connection() as conn:
        count = await conn.fetchval(
            "SELECT failed_pins FROM mall_code WHERE resident = ? AND kind = 'card'", first
        )
    assert count == 1  # the card in the PIN box was never tried as a PIN
    with pytest.raises(CodeInvalid):  # another community's volunteer learns nothing
        b_vol = await user(db, "vol-b", "volunteer", shop.community_b, "shop-b")
        b_token = await visits.start(db, b_vol, shop.outlet_b)
        await visits.scan(db, b_vol, b_token, card, "2580")
