"""One checkout, two implementations: on PostgreSQL a checkout runs as one call of ``mall_checkout``
(mall/counter/sql/mall_checkout.sql) and its postings as ``ledger_post``; with
``checkout.IN_ONE_CALL`` and ``journals.WRITE_IN_ONE_STATEMENT`` False the same calls run the Python
path SQLite runs. Each case builds the same shop in two fresh databases, runs the same calls
through each path, and compares what every call returned or raised and then every row of every
table (tests/support.py ``EXPECTED_TO_DIFFER`` lists the few columns that are not compared as
they are, and why)."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

import catalog
import ledger
import ledger.journals
from mall.access import Principal
from mall.counter import checkout, housekeeping, payer, refunds, reservations
from mall.counter.values import Receipt
from mall.db import Database, open_database
from mall.errors import CardPending, CodeInvalid
from mall.people import cards, credentials
from tests.conftest import ENGINE
from tests.shop_fixtures import ADMIN, Shop, build_shop
from tests.support import (
    assert_same_outcomes,
    assert_same_rows,
    check_expected_to_differ,
    outcome,
    row_differences,
    table_rows,
)

postgres_only = pytest.mark.skipif(
    ENGINE != "postgres", reason="mall_checkout is PostgreSQL's; SQLite has the Python path only"
)

#: The two paths: label → whether the server-side functions run.
PATHS = {"one call": True, "python": False}

#: A moment in the past for expired codes, the same in both databases.
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)


async def _not_this_path(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the Python path called a server-side function")


@contextlib.contextmanager
def write_path(one_call: bool) -> Iterator[None]:
    """Run the checkout and the ledger through the server-side functions or through Python
    (then calling either function fails, so a case cannot pass on the wrong path)."""
    saved = (
        checkout.IN_ONE_CALL,
        checkout._checkout_in_one_call,
        ledger.journals.WRITE_IN_ONE_STATEMENT,
        ledger.journals._post_one_statement,
    )
    checkout.IN_ONE_CALL = ledger.journals.WRITE_IN_ONE_STATEMENT = one_call
    if not one_call:
        checkout._checkout_in_one_call = _not_this_path
        ledger.journals._post_one_statement = _not_this_path
    try:
        yield
    finally:
        (
            checkout.IN_ONE_CALL,
            checkout._checkout_in_one_call,
            ledger.journals.WRITE_IN_ONE_STATEMENT,
            ledger.journals._post_one_statement,
        ) = saved


@dataclasses.dataclass
class World:
    """One of the two databases, and the calls run on it."""

    shop: Shop
    one_call: bool
    clock: datetime
    """The reservations' "now", the same in both worlds: a hold's request hash holds its deadline."""
    codes: dict[str, str] = dataclasses.field(default_factory=dict)
    """A stable name → the code (its ident is random)."""
    outcomes: list[tuple[str, Any]] = dataclasses.field(default_factory=list)

    @property
    def db(self) -> Database:
        return self.shop.db

    async def resident(self, name: str, pts: int, community: str = "a") -> int:
        rid = await self.shop.new_resident(name, 0, community)
        if pts:
            await self.give(rid, pts, f"give:{name}", community)
        return rid

    async def give(self, rid: int, amount: int, key: str, community: str = "a") -> None:
        """Points, under a stable key (``shop_fixtures.give``'s key holds the time)."""
        book = self.shop.book if community == "a" else await self._book("b")
        async with self.db.transaction() as conn:
            await ledger.post_journal(
                conn,
                book,
                "award",
                [("budget", -amount), (f"wallet:r{rid}", amount)],
                idempotency_key=key,
                memo="测试奖励",
            )

    async def _book(self, community: str) -> int:
        cid = self.shop.community if community == "a" else self.shop.community_b
        async with self.db.connection() as conn:
            return int(await conn.fetchval("SELECT book FROM mall_community WHERE id = ?", cid))

    async def pay_code(self, name: str, rid: int, community: str = "a") -> str:
        self.codes[name] = await self.shop.pay_code(rid, community)
        return name

    async def card(self, name: str, rid: int, pin: str, *, approved: bool = True) -> str:
        """A printed card issued by staff; one waiting for approval is approved unless not
        ``approved``."""
        made = await credentials.issue_card(self.db, self.shop.staff, rid, pin)
        if approved and made.status == "pending_approval":
            await cards.approve_card(self.db, ADMIN, rid)
        self.codes[name] = made.card_code
        return name

    async def sql(self, statement: str, *args: Any) -> None:
        """Set the scene directly (an expired code, an inactive item): the same in both."""
        async with self.db.transaction() as conn:
            await conn.execute(statement, *args)

    async def call(self, what: str, work: Callable[[], Awaitable[Any]]) -> Any:
        """Run one call under test on this world's path and record what came of it."""
        with write_path(self.one_call):
            try:
                result = await work()
            except Exception as exc:  # compared with the other path's
                result = exc
        self.outcomes.append((what, outcome(result)))
        return result

    async def checkout(
        self,
        code: str,
        lines: list[tuple[str, int]],
        key: str,
        *,
        pin: str | None = None,
        p: Principal | None = None,
        outlet: int | None = None,
        writes_nothing: bool = False,
    ) -> Any:
        """One checkout; with ``writes_nothing``, also check that it wrote no row at all."""
        request = ledger.request_hash({"code": code, "lines": lines, "pin": pin})
        before = await table_rows(self.db) if writes_nothing else None
        result = await self.call(
            f"checkout {key} {code} {lines}",
            lambda: checkout.checkout(
                self.db,
                p or self.shop.volunteer,
                self.shop.outlet if outlet is None else outlet,
                code=self.codes.get(code, code),
                pin=pin,
                lines=lines,
                idempotency_key=key,
                req_hash=request,
            ),
        )
        if before is not None:
            wrote = row_differences(before, await table_rows(self.db), ("before", "after"))
            assert not wrote, f"checkout {key} wrote:\n" + "\n".join(wrote)
        return result

    async def refund(self, order: Any, key: str, lines: list[tuple[str, int]] | None = None) -> Any:
        """The whole order back, or the ``lines`` chosen."""
        order_id = order.id if isinstance(order, Receipt) else 0
        return await self.call(
            f"refund {order_id} {key} {lines}",
            lambda: refunds.refund(
                self.db, self.shop.staff, order_id, idempotency_key=key, lines=lines
            ),
        )

    async def reserve(self, rid: int, lines: list[tuple[str, int]], key: str) -> Any:
        return await self.call(
            f"reserve r{rid} {lines} {key}",
            lambda: self._reserve(rid, lines, key),
        )

    async def _reserve(self, rid: int, lines: list[tuple[str, int]], key: str) -> Any:
        real_now = reservations.now  # type: ignore[attr-defined]  # the name reservations imported from basket, patched there
        reservations.now = lambda: self.clock  # type: ignore[attr-defined]  # see real_now
        try:
            return await reservations.reserve(
                self.db,
                self.shop.resident(rid),
                self.shop.outlet,
                lines,
                idempotency_key=key,
                req_hash=ledger.request_hash(lines),
            )
        finally:
            reservations.now = real_now  # type: ignore[attr-defined]  # see real_now


# --- the cases: each runs the same calls on a world -----------------------------------------

Case = Callable[[World], Awaitable[None]]
CASES: dict[str, Case] = {}


def case(fn: Case) -> Case:
    CASES[fn.__name__] = fn
    return fn


@case
async def a_plain_checkout_of_goods(w: World) -> None:
    rid = await w.resident("王秀英", 100)
    await w.checkout(await w.pay_code("c1", rid), [("oil", 1)], "k1")


@case
async def goods_and_a_service(w: World) -> None:
    rid = await w.resident("王秀英", 100)
    await w.checkout(await w.pay_code("c1", rid), [("soap", 2), ("haircut", 1)], "k1")


@case
async def several_lines_in_any_order_with_a_sku_twice(w: World) -> None:
    rid = await w.resident("王秀英", 500)
    lines = [("rice", 1), ("haircut", 2), ("soap", 2), ("oil", 1), ("soap", 1)]
    await w.checkout(await w.pay_code("c1", rid), lines, "k1")
    await w.checkout(await w.pay_code("c2", rid), [("soap", 3), ("rice", 2)], "k2")


@case
async def exactly_the_whole_balance(w: World) -> None:
    rid = await w.resident("王秀英", 31)
    await w.checkout(await w.pay_code("c1", rid), [("oil", 1), ("soap", 2), ("haircut", 1)], "k1")
    await w.checkout(await w.pay_code("c2", rid), [("soap", 1)], "k2")  # 0 left


@case
async def not_enough_points_then_enough_with_the_same_code(w: World) -> None:
    rid = await w.resident("王秀英", 20)
    code = await w.pay_code("c1", rid)
    await w.checkout(code, [("rice", 1), ("soap", 1)], "k1", writes_nothing=True)  # 23 of 20
    await w.checkout(code, [("rice", 1)], "k1")  # the refusal left the code and key free
    await w.checkout(await w.pay_code("c2", rid), [("soap", 1)], "k2")


@case
async def out_of_stock(w: World) -> None:
    rid = await w.resident("王秀英", 1000)
    await w.checkout(await w.pay_code("c1", rid), [("rice", 6)], "k1")  # 5 on the shelf
    await w.checkout("c1", [("rice", 5)], "k2")
    await w.checkout(await w.pay_code("c2", rid), [("rice", 1)], "k3")  # the shelf is empty
    async with w.db.transaction() as conn:  # goods never stocked here: no level row at all
        await catalog.create_item(
            conn, w.shop.community, sku="tea", name="茶叶", kind="goods", price_points=5
        )
    await w.checkout("c2", [("soap", 1), ("tea", 1)], "k4")


@case
async def over_the_monthly_limit(w: World) -> None:
    rid = await w.resident("王秀英", 1000)
    await w.checkout(await w.pay_code("c1", rid), [("oil", 1)], "k1")  # 2 a month
    await w.checkout(await w.pay_code("c2", rid), [("oil", 2), ("soap", 1)], "k2")  # 1 left
    await w.checkout("c2", [("oil", 1)], "k3")
    await w.checkout(await w.pay_code("c3", rid), [("oil", 1)], "k4")  # 0 left
    other = await w.resident("李海", 100)  # the limit is each resident's
    await w.checkout(await w.pay_code("c4", other), [("oil", 2)], "k5")


@case
async def a_pay_code_already_used(w: World) -> None:
    rid = await w.resident("王秀英", 100)
    await w.checkout(await w.pay_code("c1", rid), [("soap", 1)], "k1")
    await w.checkout("c1", [("soap", 1)], "k2")
    await w.checkout("c1", [("nothing-like-it", 1)], "k3")  # the code is checked first


@case
async def an_expired_or_revoked_pay_code(w: World) -> None:
    rid = await w.resident("王秀英", 100)
    await w.pay_code("c1", rid)
    await w.sql("UPDATE mall_code SET expires_at = ? WHERE id = 1", LONG_AGO)
    await w.checkout("c1", [("soap", 1)], "k1")
    await w.checkout("c1", [("oil", 9)], "k2")  # expired, before the limit
    await w.pay_code("c2", rid)
    await w.sql("UPDATE mall_code SET revoked_at = ? WHERE id = 2", LONG_AGO)
    await w.checkout("c2", [("soap", 1)], "k3")


@case
async def a_closed_residents_pay_code(w: World) -> None:
    rid = await w.resident("王秀英", 100)
    await w.pay_code("c1", rid)
    await w.sql("UPDATE mall_resident SET closed_at = ? WHERE id = ?", LONG_AGO, rid)
    await w.checkout("c1", [("soap", 1)], "k1", writes_nothing=True)  # closed, not yet revoked
    await w.sql("UPDATE mall_code SET revoked_at = ? WHERE resident = ?", LONG_AGO, rid)
    await w.checkout("c1", [("soap", 1)], "k2", writes_nothing=True)  # closed and revoked


@case
async def a_code_of_another_community(w: World) -> None:
    rid = await w.resident("张伟", 100, "b")
    code = await w.pay_code("b1", rid, "b")
    await w.checkout(code, [("soap", 1)], "k1")  # at a's outlet
    await w.checkout(code, [("soap", 1)], "k2", p=ADMIN, outlet=w.shop.outlet_b)  # at b's


@case
async def the_outlet_closed_unknown_or_of_another_community(w: World) -> None:
    rid = await w.resident("王秀英", 100)
    code = await w.pay_code("c1", rid)
    await w.checkout(code, [("soap", 1)], "k1", outlet=w.shop.outlet_b)
    await w.checkout(code, [("soap", 1)], "k2", outlet=10**6)
    await w.checkout(code, [("soap", 1)], "k3", p=w.shop.staff_b)
    await w.checkout(code, [("soap", 1)], "k5", outlet=0)  # no outlet can have these ids
    await w.checkout(code, [("soap", 1)], "k6", outlet=2**40)
    await w.sql("UPDATE catalog_outlet SET active = ? WHERE id = ?", False, w.shop.outlet)
    await w.checkout(code, [("soap", 1)], "k4")


@case
async def an_outlet_whose_points_accounts_are_missing(w: World) -> None:
    rid = await w.resident("王秀英", 100)
    async with w.db.transaction() as conn:  # opened without its redeemed accounts
        outlet = (await catalog.create_outlet(conn, w.shop.community, "新超市", "supermarket"))[
            "id"
        ]
        await catalog.move_stock(conn, outlet, w.shop.items["soap"], 5, "receipt")
    await w.checkout(
        await w.pay_code("c1", rid), [("soap", 1)], "k1", p=w.shop.staff, outlet=outlet
    )
    await w.checkout("c1", [("soap", 6)], "k2", p=w.shop.staff, outlet=outlet)  # the stock first
    await w.checkout("c1", [("soap", 1)], "k3")  # the code is still good


@case
async def a_memo_longer_than_200_characters(w: World) -> None:
    rid = await w.resident("王秀英", 1000)
    async with w.db.transaction() as conn:
        for sku, name in (("long1", "长" * 150), ("long2", "名" * 150)):
            await catalog.create_item(
                conn, w.shop.community, sku=sku, name=name, kind="service", price_points=1
            )
    await w.checkout(await w.pay_code("c1", rid), [("long2", 2), ("long1", 3)], "k1")


@case
async def a_replay_with_the_same_key_and_request(w: World) -> None:
    rid = await w.resident("王秀英", 100)
    code = await w.pay_code("c1", rid)
    await w.checkout(code, [("oil", 1), ("haircut", 1)], "k1")
    await w.checkout(code, [("oil", 1), ("haircut", 1)], "k1", writes_nothing=True)  # code used
    await w.checkout(await w.pay_code("c2", rid), [("soap", 1)], "k2")
    await w.checkout(code, [("oil", 1), ("haircut", 1)], "k1", writes_nothing=True)


@case
async def the_same_key_with_another_request(w: World) -> None:
    rid = await w.resident("王秀英", 100)
    await w.checkout(await w.pay_code("c1", rid), [("soap", 1)], "k1")
    await w.checkout(await w.pay_code("c2", rid), [("soap", 2)], "k1", writes_nothing=True)
    await w.checkout("c1", [("soap", 2)], "k1", writes_nothing=True)


@case
async def a_printed_card_with_its_pin(w: World) -> None:
    rid = await w.resident("王秀英", 100)
    card = await w.card("card", rid, "2580")
    await w.checkout(card, [("soap", 1)], "k1", pin="2580")
    await w.checkout(card, [("oil", 1)], "k2", pin="2580")  # a card is not used up
    await w.checkout(card, [("oil", 1)], "k2", pin="2580")  # replay
    await w.checkout(card, [("soap", 1)], "k3", pin="1111")  # wrong PIN, counted
    await w.checkout(card, [("soap", 1)], "k4")  # no PIN
    await w.checkout(card, [("rice", 9)], "k5", pin="2580")
    await w.checkout(card, [("rice", 5)], "k6", pin="2580")  # 100 - 3 - 10 = 87 < 100


@case
async def a_printed_card_waiting_for_approval(w: World) -> None:
    rid = await w.resident("王秀英", 100)  # a card issued while she holds points waits
    card = await w.card("card", rid, "2580", approved=False)
    assert isinstance(await w.checkout(card, [("soap", 1)], "k1", pin="2580"), CardPending)
    wrong_pin = await w.checkout(card, [("soap", 1)], "k1", pin="1111")
    assert isinstance(wrong_pin, CardPending)  # refused before the PIN is checked
    await w.call("approve", lambda: cards.approve_card(w.db, ADMIN, rid))
    assert isinstance(await w.checkout(card, [("soap", 1)], "k1", pin="2580"), Receipt)


@case
async def a_card_pending_or_replaced_after_its_pin_was_checked(w: World) -> None:
    """The checkout's own transaction checks the card again (``mall_checkout`` on one path,
    ``payer.check_card`` on the other): a card replaced after its PIN was checked no longer
    pays, and a card waiting for approval never does, even past the check before the writes."""
    rid = await w.resident("王秀英", 100)
    old = await w.card("old", rid, "2580")
    real = payer.card_resident

    async def replaced_meanwhile(
        db: Database, p: Principal, community_id: int, code: str, pin: str | None, ip: str
    ) -> int:
        found = await real(db, p, community_id, code, pin, ip)
        await w.card("new", rid, "1357", approved=False)  # revokes the old card
        return found

    async def unchecked(
        db: Database, p: Principal, community_id: int, code: str, pin: str | None, ip: str
    ) -> int:
        return rid  # as if the PIN check had passed: only the transaction's check is left

    try:
        checkout.card_resident = replaced_meanwhile  # type: ignore[attr-defined]  # the name it imported
        replaced = await w.checkout(old, [("soap", 1)], "k1", pin="2580")
        assert isinstance(replaced, CodeInvalid)
        checkout.card_resident = unchecked  # type: ignore[attr-defined]  # as above
        assert isinstance(await w.checkout("new", [("soap", 1)], "k2", pin="1357"), CardPending)
    finally:
        checkout.card_resident = real  # type: ignore[attr-defined]  # as above
    await w.call("approve", lambda: cards.approve_card(w.db, ADMIN, rid))
    assert isinstance(await w.checkout("new", [("soap", 1)], "k3", pin="1357"), Receipt)


@case
async def a_checkout_while_points_are_held_for_a_reservation(w: World) -> None:
    rid = await w.resident("王秀英", 50)
    held = await w.reserve(rid, [("oil", 2), ("soap", 3)], "r1")  # 29 held
    await w.checkout(await w.pay_code("c1", rid), [("rice", 1), ("soap", 1)], "k1")  # 23 of 21
    await w.checkout("c1", [("oil", 1)], "k2")  # the reservation's oil counts to the limit
    await w.checkout("c1", [("rice", 1)], "k3")  # 20 of 21
    fresh = w.codes[await w.pay_code("c3", rid)]  # a collect does not use the code up
    await w.call(
        "collect", lambda: reservations.collect(w.db, w.shop.volunteer, held.id, code=fresh)
    )
    await w.reserve(rid, [("soap", 1)], "r2")  # 1 left: 3 of 1
    await w.reserve(rid, [("haircut", 1)], "r3")  # services are not reserved
    await w.give(rid, 10, "more")
    second = await w.reserve(rid, [("soap", 2)], "r4")
    await w.call(
        "cancel",
        lambda: reservations.cancel(w.db, w.shop.resident(rid), second.id),
    )
    await w.reserve(rid, [("soap", 1)], "r5")
    await w.call(
        "lapse", lambda: housekeeping.lapse_reservations(w.db, LONG_AGO.replace(year=2100))
    )
    await w.checkout(await w.pay_code("c2", rid), [("soap", 3)], "k4")  # 11 back, 9 for soap


@case
async def an_item_inactive_or_unknown(w: World) -> None:
    rid = await w.resident("王秀英", 100)
    code = await w.pay_code("c1", rid)
    await w.checkout(code, [("zzz", 1), ("soap", 1), ("aaa", 1)], "k1")  # the first asked
    await w.sql("UPDATE catalog_item SET active = ? WHERE sku = 'oil'", False)
    await w.checkout(code, [("soap", 1), ("oil", 1)], "k2")
    await w.checkout(code, [("rice", 99), ("oil", 1)], "k3")  # before the stock
    await w.checkout(code, [("soap", 1)], "k4")


@case
async def two_refusals_at_once_the_first_check_wins(w: World) -> None:
    rid = await w.resident("王秀英", 10)
    code = await w.pay_code("c1", rid)
    await w.checkout(code, [("oil", 3), ("rice", 6)], "k1")  # limit before stock
    await w.checkout(code, [("rice", 6), ("oil", 3)], "k2")
    await w.checkout(code, [("rice", 6), ("soap", 60)], "k3")  # out of stock: the first by id
    await w.checkout(code, [("rice", 6)], "k4")  # stock before points
    await w.checkout(code, [("rice", 5)], "k4")
    await w.checkout(code, [("oil", 1)], "k5")
    await w.checkout(code, [("oil", 1)], "k6")  # the code is used before the key


@case
async def a_refund_after_checkout(w: World) -> None:
    rid = await w.resident("王秀英", 100)
    first = await w.checkout(await w.pay_code("c1", rid), [("oil", 2), ("haircut", 1)], "k1")
    await w.checkout(await w.pay_code("c2", rid), [("oil", 1)], "k2")  # 0 left this month
    await w.refund(first, "x1")
    await w.refund(first, "x1")  # replay
    await w.refund(first, "x2")  # already refunded
    await w.checkout("c2", [("oil", 2)], "k3")  # the refunded order does not count


@case
async def a_refund_of_chosen_lines_gives_their_quantity_back_to_the_limit(w: World) -> None:
    rid = await w.resident("王秀英", 100)
    first = await w.checkout(await w.pay_code("c1", rid), [("oil", 2), ("soap", 1)], "k1")
    await w.refund(first, "x1", [("oil", 1)])
    code = await w.pay_code("c2", rid)
    await w.checkout(code, [("oil", 2)], "k2", writes_nothing=True)  # 1 left of 2
    await w.checkout(code, [("oil", 1)], "k3")
    await w.checkout(await w.pay_code("c3", rid), [("oil", 1)], "k4")  # 0 left
    await w.refund(first, "x2")  # the rest of the first order: its other oil back too
    await w.checkout("c3", [("oil", 1)], "k5")


# --- the comparison -----------------------------------------------------------------------------


async def run_world(
    url: str, one_call: bool, scenario: Case, clock: datetime
) -> tuple[list[tuple[str, Any]], dict[str, Any]]:
    db = open_database(url)
    try:
        world = World(await build_shop(db), one_call, clock)
        await scenario(world)
        return world.outcomes, await table_rows(db)
    finally:
        await db.close()


@postgres_only
@pytest.mark.parametrize("scenario", list(CASES.values()), ids=list(CASES))
async def test_both_checkout_paths_return_and_write_the_same(
    new_db_url: Callable[[], str], scenario: Case
) -> None:
    outcomes, rows = {}, {}
    clock = datetime.now(UTC)
    for label, one_call in PATHS.items():
        outcomes[label], rows[label] = await run_world(new_db_url(), one_call, scenario, clock)
    assert_same_outcomes(outcomes)
    assert_same_rows(rows)
    # and the case did write: at least one order or one refusal was compared
    assert outcomes["python"]


async def test_the_columns_expected_to_differ_are_in_the_schema(db: Database) -> None:
    await check_expected_to_differ(db)
