"""Reversing an award without HTTP: one reversing journal back to the budget, all or nothing when
a resident has spent or set aside the points, once, never for oneself; and a reversal racing
checkouts of the same wallet on real concurrent connections: never a negative balance, no
deadlock, ``mall verify`` clean."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

import ledger
from mall import verify
from mall.access import Principal, Staff, Volunteer
from mall.counter import checkout
from mall.counter.values import Receipt
from mall.db import Database, open_database
from mall.earning import award_records, awards, reversals, rules
from mall.errors import (
    AlreadyReversed,
    Forbidden,
    InsufficientPoints,
    Invalid,
    NotFound,
    SelfDealing,
)
from mall.org import points
from tests.shop_fixtures import ADMIN, SLUGS, Shop, build_shop, user
from tests.support import race

SLUG = SLUGS["a"]


async def setup(db: Database, each: int = 30) -> tuple[Shop, Staff | Volunteer, list[int], int]:
    """The shop, a second staff member of ``a``, two residents and a posted award of ``each``
    points to both, made by the shop's staff member."""
    shop = await build_shop(db)
    other = await user(db, "staff-2", "staff", shop.community, SLUG)
    await rules.create_rule(db, ADMIN, SLUG, "r", "帮扶困难户", "timely_help", each)
    people = [await shop.new_resident(name, 0) for name in ("王秀英", "李建国")]
    made = await awards.create_award(db, shop.staff, SLUG, "r", people, "帮扶", idempotency_key="a")
    assert made.status == "posted"
    return shop, other, people, made.id


async def budget(db: Database, book: int) -> int:
    async with db.connection() as conn:
        return (await ledger.get_balance(conn, book, points.BUDGET)).balance


async def journals(db: Database) -> int:
    async with db.connection() as conn:
        return int(await conn.fetchval("SELECT COUNT(*) FROM ledger_journal"))


async def test_a_reversal_takes_every_resident_s_points_back_to_the_budget(db: Database) -> None:
    shop, other, people, award_id = await setup(db)
    before = await budget(db, shop.book)
    done = await reversals.reverse_award(
        db, other, award_id, "重复发放", idempotency_key="rev-1", ip="10.0.0.1"
    )
    assert done == reversals.Reversal(id=award_id, status="reversed")
    assert [await shop.balance(r) for r in people] == [0, 0]
    assert await budget(db, shop.book) == before + 60
    found = await award_records.get_award(db, other, award_id)
    assert found.status == "reversed"
    assert (found.reverser, found.reversal_reason) == ("staff-2", "重复发放")
    assert found.reversed_at is not None
    listed = await award_records.list_awards(db, other, SLUG, status="reversed")
    assert [a.id for a in listed] == [award_id]
    async with db.connection() as conn:
        journal = await conn.fetchrow(
            "SELECT kind, memo, reverses FROM ledger_journal ORDER BY id DESC LIMIT 1"
        )
        assert journal is not None
        assert (journal["kind"], journal["memo"]) == ("reversal", "撤销：重复发放")
        audit = await conn.fetchrow(
            "SELECT action, target, user_id, ip FROM mall_audit ORDER BY id DESC LIMIT 1"
        )
        assert audit is not None
        assert dict(audit) == {
            "action": "award.reverse",
            "target": f"award:{award_id}",
            "user_id": other.user_id,
            "ip": "10.0.0.1",
        }
        assert (await ledger.verify_ledger(conn)).ok
    # the reversed points no longer count towards the rule's caps, and the passbook says why
    statement = await shop_statement(db, shop, people[0])
    assert (statement[0].kind, statement[0].memo, statement[0].amount) == (
        "reversal",
        "撤销：重复发放",
        -30,
    )


async def shop_statement(db: Database, shop: Shop, rid: int) -> list[ledger.Entry]:
    async with db.connection() as conn:
        return list(
            (await ledger.get_statement(conn, shop.book, points.wallet(rid), limit=5)).entries
        )


async def test_the_same_key_replays_and_another_key_is_already_reversed(db: Database) -> None:
    shop, other, people, award_id = await setup(db)
    await reversals.reverse_award(db, other, award_id, "重复发放", idempotency_key="rev-1")
    count = await journals(db)
    again = await reversals.reverse_award(db, other, award_id, "重复发放", idempotency_key="rev-1")
    assert again == reversals.Reversal(id=award_id, status="reversed", replayed=True)
    with pytest.raises(ledger.IdempotencyKeyReused):
        await reversals.reverse_award(db, other, award_id, "别的理由", idempotency_key="rev-1")
    with pytest.raises(AlreadyReversed):
        await reversals.reverse_award(db, other, award_id, "重复发放", idempotency_key="rev-2")
    with pytest.raises(AlreadyReversed):
        await reversals.reverse_award(db, shop.staff, award_id, "再撤", idempotency_key="rev-1")
    assert await journals(db) == count
    assert [await shop.balance(r) for r in people] == [0, 0]


async def test_nothing_moves_for_anyone_when_one_resident_has_spent_the_points(
    db: Database,
) -> None:
    shop, other, (spender, keeper), award_id = await setup(db)
    code = await shop.pay_code(spender)
    await checkout.checkout(
        db,
        shop.volunteer,
        shop.outlet,
        code=code,
        lines=[("soap", 1)],
        idempotency_key="c",
        req_hash="c",
    )
    before = await budget(db, shop.book)
    count = await journals(db)
    with pytest.raises(InsufficientPoints) as refused:
        await reversals.reverse_award(db, other, award_id, "发错了", idempotency_key="rev")
    assert "王秀英" in str(refused.value) and "27" in str(refused.value)
    assert [await shop.balance(spender), await shop.balance(keeper)] == [27, 30]
    assert await budget(db, shop.book) == before
    assert await journals(db) == count
    assert (await award_records.get_award(db, other, award_id)).status == "posted"
    # the refused key stays free: once the resident has the points again, it goes through
    await shop_give(db, shop, spender, 3)
    done = await reversals.reverse_award(db, other, award_id, "发错了", idempotency_key="rev")
    assert not done.replayed


async def shop_give(db: Database, shop: Shop, rid: int, amount: int) -> None:
    async with db.transaction() as conn:
        await ledger.post_journal(
            conn,
            shop.book,
            "award",
            [(points.BUDGET, -amount), (points.wallet(rid), amount)],
            idempotency_key=f"top-up:{rid}",
        )


async def test_points_set_aside_for_a_reservation_are_not_available_to_reverse(
    db: Database,
) -> None:
    shop, other, (holder, _), award_id = await setup(db)
    async with db.transaction() as conn:
        await ledger.place_hold(
            conn,
            shop.book,
            points.wallet(holder),
            1,
            expires_at=datetime.now(UTC) + timedelta(days=1),
            idempotency_key="hold",
        )
    with pytest.raises(InsufficientPoints):
        await reversals.reverse_award(db, other, award_id, "发错了", idempotency_key="rev")
    assert await shop.balance(holder) == 29
    assert (await award_records.get_award(db, other, award_id)).status == "posted"


async def test_a_waiting_or_rejected_award_is_not_reversed(db: Database) -> None:
    shop = await build_shop(db)
    other = await user(db, "staff-2", "staff", shop.community, SLUG)
    await rules.create_rule(
        db, ADMIN, SLUG, "big", "调解", "settling_disputes", 50, approval_threshold=40
    )
    rid = await shop.new_resident("王秀英", 0)
    waiting = await awards.create_award(
        db, shop.staff, SLUG, "big", [rid], "调解", idempotency_key="w"
    )
    rejected = await awards.create_award(
        db, shop.staff, SLUG, "big", [rid], "调解", idempotency_key="x"
    )
    await awards.reject(db, other, rejected.id, "不符合")
    for award_id in (waiting.id, rejected.id):
        with pytest.raises(Invalid):
            await reversals.reverse_award(
                db, other, award_id, "撤销", idempotency_key=f"{award_id}"
            )
    assert await shop.balance(rid) == 0


async def test_nobody_reverses_an_award_to_their_own_resident_record(db: Database) -> None:
    shop, other, people, award_id = await setup(db)
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE mall_user SET resident = ? WHERE id = ?", people[1], other.user_id
        )
    with pytest.raises(SelfDealing):
        await reversals.reverse_award(db, other, award_id, "撤销", idempotency_key="rev")
    assert [await shop.balance(r) for r in people] == [30, 30]


async def test_other_communities_volunteers_and_residents_cannot_reverse(db: Database) -> None:
    shop, _, people, award_id = await setup(db)
    with pytest.raises(NotFound):
        await reversals.reverse_award(db, shop.staff_b, award_id, "撤销", idempotency_key="b")
    with pytest.raises(Forbidden):
        await reversals.reverse_award(db, shop.volunteer, award_id, "撤销", idempotency_key="v")
    with pytest.raises(Forbidden):
        await reversals.reverse_award(
            db, shop.resident(people[0]), award_id, "撤销", idempotency_key="r"
        )
    for bad in (0, -1, 2**31):
        with pytest.raises(NotFound):
            await reversals.reverse_award(db, shop.staff, bad, "撤销", idempotency_key="n")
    with pytest.raises(Invalid):
        await reversals.reverse_award(db, shop.staff, award_id, "  ", idempotency_key="e")
    with pytest.raises(Invalid):
        await reversals.reverse_award(db, shop.staff, award_id, "x" * 191, idempotency_key="l")
    assert [await shop.balance(r) for r in people] == [30, 30]


def race_one_round(
    db_url: str, shop: Shop, reverser: Principal, n: int, award_id: int, codes: list[str]
) -> list[object]:
    """One reversal of ``award_id`` (thread 0) against a checkout of 15 points per pay code."""

    async def work(db: Database, i: int) -> object:
        if i == 0:
            return await reversals.reverse_award(
                db, reverser, award_id, "发错了", idempotency_key=f"rev-{n}"
            )
        return await checkout.checkout(
            db,
            shop.volunteer,
            shop.outlet,
            code=codes[i - 1],
            lines=[("soap", 5)],
            idempotency_key=f"buy-{n}-{i}",
            req_hash=f"{n}-{i}",
        )

    return race(db_url, 1 + len(codes), work)


def test_a_reversal_racing_checkouts_of_the_same_wallet_never_goes_negative(db_url: str) -> None:
    """Each round: a resident holds 30 points from an award; one reversal of that award and four
    checkouts of 15 points race. Whatever wins, nothing is spent twice, no balance goes below
    zero, nobody deadlocks (every refusal is ``insufficient_points``) and the books verify."""
    rounds = 4

    async def prepare() -> tuple[Shop, Principal, list[tuple[int, int, list[str]]]]:
        db = open_database(db_url)
        try:
            shop, other, _, _ = await setup(db)
            made = []
            for n in range(rounds):
                rid = await shop.new_resident(f"居民{n}", 0)
                award = await awards.create_award(
                    db, shop.staff, SLUG, "r", [rid], "帮扶", idempotency_key=f"round-{n}"
                )
                made.append((rid, award.id, await shop.counter_codes(rid, 4)))
            return shop, other, made
        finally:
            await db.close()

    async def balance(rid: int) -> int:
        db = open_database(db_url)
        try:
            shop.db = db
            return await shop.balance(rid)
        finally:
            await db.close()

    shop, other, made = asyncio.run(prepare())
    for n, (rid, award_id, codes) in enumerate(made):
        results = race_one_round(db_url, shop, other, n, award_id, codes)
        assert all(
            isinstance(r, reversals.Reversal | Receipt | InsufficientPoints) for r in results
        ), results
        reversed_points = 30 if isinstance(results[0], reversals.Reversal) else 0
        spent = sum(r.total for r in results[1:] if isinstance(r, Receipt))
        # either the reversal came first and every checkout found nothing, or a checkout came
        # first and the reversal found the points spent (and the checkouts used them up)
        assert (reversed_points, spent) in ((30, 0), (0, 30)), results
        assert asyncio.run(balance(rid)) == 0
    found = asyncio.run(verify.check(db_url))
    assert found.ok, found.problems()


def test_concurrent_reversals_of_one_award_post_one_journal(db_url: str) -> None:
    """Eight at once: four double taps of one staff member (one key) and four other keys. One
    reversal is posted; the same key answers as it did, the others are ``already_reversed``."""

    async def prepare() -> tuple[Shop, Principal, list[int], int]:
        db = open_database(db_url)
        try:
            return await setup(db)
        finally:
            await db.close()

    shop, other, people, award_id = asyncio.run(prepare())

    async def work(db: Database, i: int) -> object:
        key = "same" if i < 4 else f"other-{i}"
        return await reversals.reverse_award(db, other, award_id, "重复发放", idempotency_key=key)

    results = race(db_url, 8, work)
    done = [r for r in results if isinstance(r, reversals.Reversal)]
    assert len([r for r in done if not r.replayed]) == 1, results
    assert all(isinstance(r, reversals.Reversal | AlreadyReversed) for r in results), results

    async def after() -> None:
        db = open_database(db_url)
        try:
            shop.db = db
            assert [await shop.balance(r) for r in people] == [0, 0]
            async with db.connection() as conn:
                assert (
                    await conn.fetchval(
                        "SELECT COUNT(*) FROM ledger_journal WHERE kind = 'reversal'"
                    )
                    == 1
                )
        finally:
            await db.close()

    asyncio.run(after())
    assert asyncio.run(verify.check(db_url)).ok
