"""People and sign-in through the services: communities, users, residents, activation, cards."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest

from mall.access import Principal, Staff, Volunteer, throttle
from mall.db import Database
from mall.errors import (
    AlreadyExists,
    CodeExpired,
    CodeInvalid,
    CodeUsed,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    Unauthenticated,
)
from mall.org import communities
from mall.people import auth, credentials, residents, users
from tests import support
from tests.shop_fixtures import user
from tests.support import on_database, race

ADMIN = support.admin("admin")
PASSWORD = "correct horse battery"


async def setup(db: Database) -> tuple[Staff | Volunteer, Staff | Volunteer]:
    """Two communities with a staff member each: (staff of a, staff of b)."""
    staffs = []
    for slug in ("a", "b"):
        community = await communities.create_community(db, ADMIN, f"c-{slug}", f"社区{slug}")
        staffs.append(await user(db, f"staff-{slug}", "staff", community.id, f"c-{slug}"))
    return staffs[0], staffs[1]


async def test_creating_a_community_opens_its_book_with_a_budget_account(db: Database) -> None:
    staff_a, _ = await setup(db)
    budget = await communities.budget(db, staff_a, "c-a")
    assert budget == communities.Budget(balance=0, granted=0, issued=0)
    await communities.grant_budget(db, ADMIN, "c-a", 500, "年度预算", idempotency_key="g1")
    assert (await communities.budget(db, staff_a, "c-a")).granted == 500


async def test_only_the_street_grants_budget_and_staff_see_only_their_own(db: Database) -> None:
    staff_a, staff_b = await setup(db)
    with pytest.raises(Forbidden):
        await communities.grant_budget(db, staff_a, "c-a", 500, "", idempotency_key="g1")
    with pytest.raises(Forbidden):
        await communities.budget(db, staff_b, "c-a")


async def test_duplicate_community_is_already_exists(db: Database) -> None:
    await setup(db)
    with pytest.raises(AlreadyExists):
        await communities.create_community(db, ADMIN, "c-a", "again")


async def test_staff_may_create_volunteers_only_in_their_own_community(db: Database) -> None:
    staff_a, _ = await setup(db)
    volunteer = await users.create_user(db, staff_a, "vol1", PASSWORD, "volunteer", None)
    assert volunteer.role == "volunteer"
    with pytest.raises(Forbidden):
        await users.create_user(db, staff_a, "boss", PASSWORD, "staff", "c-a")
    with pytest.raises(Forbidden):
        await users.create_user(db, staff_a, "vol2", PASSWORD, "volunteer", "c-b")


async def test_five_wrong_passwords_stop_that_address_for_that_account_not_the_account(
    db: Database,
) -> None:
    await setup(db)
    await users.create_user(db, ADMIN, "staff1", PASSWORD, "staff", "c-a")
    for _ in range(auth.MAX_FAILURES):
        with pytest.raises(Unauthenticated):
            await auth.sign_in(db, "staff1", "wrong password", ip="1.2.3.4", kind="web")
    with pytest.raises(RateLimited):  # the guesser is stopped, even with the right password
        await auth.sign_in(db, "staff1", PASSWORD, ip="1.2.3.4", kind="web")
    # the volunteer at the counter, elsewhere, still signs in
    assert await auth.sign_in(db, "staff1", PASSWORD, ip="5.6.7.8", kind="web")


async def test_sign_in_from_one_address_is_rate_limited_after_failures_only(db: Database) -> None:
    await setup(db)
    await users.create_user(db, ADMIN, "staff1", PASSWORD, "staff", "c-a")
    for _ in range(3 * auth.SOURCE_FAILURES):  # a busy office: right passwords never count
        await auth.sign_in(db, "staff1", PASSWORD, ip="5.6.7.8", kind="web")
    for n in range(auth.SOURCE_FAILURES):  # names tried one after another, known or not
        with pytest.raises(Unauthenticated):
            await auth.sign_in(db, f"nobody{n}", "x", ip="5.6.7.8", kind="web")
    with pytest.raises(RateLimited):
        await auth.sign_in(db, "staff1", PASSWORD, ip="5.6.7.8", kind="web")


async def test_a_locked_account_answers_like_a_wrong_password(db: Database) -> None:
    """Guesses from many addresses lock the account; it then says what a wrong password or an
    unknown name says, so nobody learns from the answer that the name exists."""
    await setup(db)
    await users.create_user(db, ADMIN, "staff1", PASSWORD, "staff", "c-a")
    for n in range(auth.ACCOUNT_FAILURES):
        with pytest.raises(Unauthenticated):
            await auth.sign_in(db, "staff1", "wrong", ip=f"10.9.{n // 4}.{n % 4}", kind="web")
    with pytest.raises(Unauthenticated) as locked:
        await auth.sign_in(db, "staff1", PASSWORD, ip="10.8.0.1", kind="web")
    with pytest.raises(Unauthenticated) as unknown:
        await auth.sign_in(db, "nobody", PASSWORD, ip="10.8.0.2", kind="web")
    with pytest.raises(Unauthenticated) as wrong:
        await auth.sign_in(db, "staff2", "wrong", ip="10.8.0.3", kind="web")
    assert str(locked.value) == str(unknown.value) == str(wrong.value)


async def test_passwords_are_stored_as_argon2id_and_sessions_as_hashes(db: Database) -> None:
    await setup(db)
    await users.create_user(db, ADMIN, "staff1", PASSWORD, "staff", "c-a")
    token = await auth.sign_in(db, "staff1", PASSWORD, ip="1.1.1.1", kind="web")
    async with db.connection() as conn:
        stored = await conn.fetchval(
            "SELECT password_hash FROM mall_user WHERE username = 'staff1'"
        )
        tokens = [r["token_hash"] for r in await conn.fetch("SELECT token_hash FROM mall_session")]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert token not in tokens and auth.token_hash(token) in tokens
    principal = await auth.principal_for(db, token)
    assert principal is not None and principal.role == "staff" and principal.community_slug == "c-a"
    await auth.sign_out(db, principal)
    assert await auth.principal_for(db, token) is None


async def test_password_change_signs_out_other_sessions(db: Database) -> None:
    await setup(db)
    await users.create_user(db, ADMIN, "staff1", PASSWORD, "staff", "c-a")
    here = await auth.sign_in(db, "staff1", PASSWORD, ip="1.1.1.1", kind="web")
    there = await auth.sign_in(db, "staff1", PASSWORD, ip="1.1.1.1", kind="web")
    principal = await auth.principal_for(db, here)
    assert principal is not None
    assert await auth.principal_for(db, there) is not None  # and trusted for a while
    with pytest.raises(Invalid):
        await auth.change_password(db, principal, "not it", "a new long password")
    await auth.change_password(db, principal, PASSWORD, "a new long password")
    assert await auth.principal_for(db, here) is not None
    assert await auth.principal_for(db, there) is None
    await auth.sign_in(db, "staff1", "a new long password", ip="1.1.1.1", kind="web")


async def test_a_session_is_trusted_briefly_then_looked_up_again(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A valid session is remembered for ``SESSION_TRUST_S`` (a counter asks several times a
    second); one ended in the database behind this process's back (by another worker, or the
    CLI) is refused once that runs out, and signing out here is refused at once."""
    await setup(db)
    await users.create_user(db, ADMIN, "staff1", PASSWORD, "staff", "c-a")
    elsewhere = await auth.sign_in(db, "staff1", PASSWORD, ip="1.1.1.1", kind="web")
    here = await auth.sign_in(db, "staff1", PASSWORD, ip="1.1.1.1", kind="web")
    monkeypatch.setattr(auth, "SESSION_TRUST_S", 0.3)
    assert await auth.principal_for(db, elsewhere) is not None
    principal = await auth.principal_for(db, here)
    assert principal is not None
    async with db.transaction() as conn:  # as another process would
        await conn.execute(
            "UPDATE mall_session SET revoked_at = ? WHERE token_hash = ?",
            auth.now(),
            auth.token_hash(elsewhere),
        )
    assert await auth.principal_for(db, elsewhere) is not None  # trusted still
    await asyncio.sleep(0.35)
    assert await auth.principal_for(db, elsewhere) is None
    assert await auth.principal_for(db, here) is not None  # looked up again: still valid
    await auth.sign_out(db, principal)
    assert await auth.principal_for(db, here) is None


async def test_a_lookup_that_overlaps_a_sign_out_is_not_remembered(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lookup that read a session before another request ended one (and so forgot them all)
    may have read it still valid: it answers, but is not trusted for later requests."""
    await setup(db)
    await users.create_user(db, ADMIN, "staff1", PASSWORD, "staff", "c-a")
    token = await auth.sign_in(db, "staff1", PASSWORD, ip="1.1.1.1", kind="web")
    read = auth._look_up

    async def read_then_sign_out_elsewhere(db: Database, key: str) -> object:
        found = await read(db, key)
        async with db.transaction() as conn:  # another request ends the session meanwhile
            await conn.execute(
                "UPDATE mall_session SET revoked_at = ? WHERE token_hash = ?", auth.now(), key
            )
        auth.forget_sessions()
        return found

    monkeypatch.setattr(auth, "_look_up", read_then_sign_out_elsewhere)
    assert await auth.principal_for(db, token) is not None  # what it read
    monkeypatch.setattr(auth, "_look_up", read)
    assert await auth.principal_for(db, token) is None


async def test_activation_binds_one_phone_and_reissuing_signs_it_out(db: Database) -> None:
    staff_a, _ = await setup(db)
    resident = await residents.create_resident(db, staff_a, "c-a", "王秀英", "13800000001", None)
    first = await credentials.issue_activation(db, staff_a, resident.id)
    assert first.url.endswith("/a/" + first.code)
    token, resident_id = await credentials.activate(db, first.code)
    assert resident_id == resident.id
    me = await auth.principal_for(db, token)
    assert me is not None and me.role == "resident" and me.name == "王秀英"
    with pytest.raises(CodeUsed):
        await credentials.activate(db, first.code)
    await credentials.issue_activation(db, staff_a, resident.id)
    assert await auth.principal_for(db, token) is None


async def test_an_expired_activation_code_is_code_expired(db: Database) -> None:
    staff_a, _ = await setup(db)
    resident = await residents.create_resident(db, staff_a, "c-a", "李建国", None, None)
    issued = await credentials.issue_activation(db, staff_a, resident.id)
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE mall_code SET expires_at = ?", issued.expires_at - timedelta(days=30)
        )
    with pytest.raises(CodeExpired):
        await credentials.activate(db, issued.code)


async def test_a_card_code_is_not_an_activation_code(db: Database) -> None:
    staff_a, _ = await setup(db)
    resident = await residents.create_resident(db, staff_a, "c-a", "张桂兰", None, None)
    card = await credentials.issue_card(db, staff_a, resident.id, "4826")
    with pytest.raises(CodeInvalid):
        await credentials.activate(db, card.card_code)


@pytest.mark.parametrize("pin", ["12", "1234567", "abcd", "1111", "1234", "9876"])
async def test_weak_or_malformed_pins_are_refused(db: Database, pin: str) -> None:
    staff_a, _ = await setup(db)
    resident = await residents.create_resident(db, staff_a, "c-a", "张桂兰", None, None)
    with pytest.raises(Invalid):
        await credentials.issue_card(db, staff_a, resident.id, pin)


async def test_staff_of_another_community_cannot_see_a_resident(db: Database) -> None:
    staff_a, staff_b = await setup(db)
    resident = await residents.create_resident(db, staff_a, "c-a", "王秀英", None, None)
    for call in (residents.get_resident, credentials.issue_activation):
        with pytest.raises(NotFound):
            await call(db, staff_b, resident.id)
    assert await residents.list_residents(db, staff_b, "c-b") == []
    with pytest.raises(Forbidden):
        await residents.list_residents(db, staff_b, "c-a")


async def test_residents_are_found_by_name_phone_or_grid(db: Database) -> None:
    staff_a, _ = await setup(db)
    await communities.create_grid(db, staff_a, "c-a", "g1", "第一网格")
    await residents.create_resident(db, staff_a, "c-a", "王秀英", "13800000001", "g1")
    await residents.create_resident(db, staff_a, "c-a", "李建国", "13900000002", None)
    names: Callable[[list[residents.Listed]], list[str]] = lambda rows: [r.name for r in rows]  # noqa: E731
    assert names(await residents.list_residents(db, staff_a, "c-a", query="秀英")) == ["王秀英"]
    assert names(await residents.list_residents(db, staff_a, "c-a", query="1390")) == ["李建国"]
    assert names(await residents.list_residents(db, staff_a, "c-a", grid="g1")) == ["王秀英"]


async def test_bad_resident_input_is_refused_and_writes_nothing(db: Database) -> None:
    staff_a, _ = await setup(db)
    for name, phone, grid in (("", None, None), ("王", "12345", None), ("王", None, "nope")):
        with pytest.raises(Invalid):
            await residents.create_resident(db, staff_a, "c-a", name, phone, grid)
    assert await residents.list_residents(db, staff_a, "c-a") == []


async def test_every_privileged_action_is_in_the_audit_log(db: Database) -> None:
    from mall.access import audit

    staff_a, _ = await setup(db)
    resident = await residents.create_resident(
        db, staff_a, "c-a", "王秀英", None, None, ip="10.0.0.9"
    )
    await credentials.issue_activation(db, staff_a, resident.id, ip="10.0.0.9")
    async with db.connection() as conn:
        community = await conn.fetchval("SELECT id FROM mall_community WHERE slug = 'c-a'")
        entries = await audit.entries(conn, community)
    assert [e.action for e in entries] == [
        "resident.activation",
        "resident.create",
        "community.create",
    ]
    assert entries[0].ip == "10.0.0.9" and entries[0].target == f"resident:{resident.id}"


async def test_a_card_opens_with_its_pin_and_blocks_after_five_wrong_ones(db: Database) -> None:
    staff_a, staff_b = await setup(db)
    resident = await residents.create_resident(db, staff_a, "c-a", "张桂兰", None, None)
    card = (await credentials.issue_card(db, staff_a, resident.id, "4826")).card_code
    assert await credentials.resident_for_card(db, staff_a, card, "4826") == resident.id
    with pytest.raises(CodeInvalid):  # another community's counter learns nothing
        await credentials.resident_for_card(db, staff_b, card, "4826")
    for _ in range(credentials.MAX_WRONG_PINS):
        with pytest.raises(Invalid):
            await credentials.resident_for_card(db, staff_a, card, "0000")
    with pytest.raises(Forbidden):  # blocked, even with the right PIN
        await credentials.resident_for_card(db, staff_a, card, "4826")
    fresh = (await credentials.issue_card(db, staff_a, resident.id, "5937")).card_code
    with pytest.raises(CodeInvalid):  # the old card is revoked
        await credentials.resident_for_card(db, staff_a, card, "4826")
    assert await credentials.resident_for_card(db, staff_a, fresh, "5937") == resident.id


def test_forty_attempts_at_once_get_exactly_the_thirty_the_limit_allows(db_url: str) -> None:
    async def work(db: Database, i: int) -> None:
        async with db.transaction() as conn:
            await throttle.hit(conn, "signin:ip:9.9.9.9", limit=30, window=timedelta(minutes=10))

    results = race(db_url, 40, work)
    assert sum(r is None for r in results) == 30, results
    assert all(isinstance(r, RateLimited) for r in results if r is not None), results


def test_wrong_pins_sent_at_once_are_counted_one_by_one(db_url: str) -> None:
    async def build(db: Database) -> tuple[Principal, str]:
        staff_a, _ = await setup(db)
        resident = await residents.create_resident(db, staff_a, "c-a", "张桂兰", None, None)
        return staff_a, (await credentials.issue_card(db, staff_a, resident.id, "4826")).card_code

    staff_a, card = on_database(db_url, build)

    async def work(db: Database, i: int) -> int:
        return await credentials.resident_for_card(db, staff_a, card, f"{i:04d}", ip=f"10.0.0.{i}")

    results = race(db_url, 20, work)  # twenty wrong PINs (0000-0019) from twenty counters
    assert sum(isinstance(r, Invalid) for r in results) == credentials.MAX_WRONG_PINS, results
    assert all(isinstance(r, (Invalid, Forbidden)) for r in results), results

    async def after(db: Database) -> None:
        with pytest.raises(Forbidden):  # blocked, even with the right PIN
            await credentials.resident_for_card(db, staff_a, card, "4826")

    on_database(db_url, after)


def test_guesses_sent_at_once_from_one_address_are_tried_five_times_only(db_url: str) -> None:
    async def build(db: Database) -> None:
        await setup(db)
        await users.create_user(db, ADMIN, "staff1", PASSWORD, "staff", "c-a")

    on_database(db_url, build)

    async def work(db: Database, i: int) -> str:
        return await auth.sign_in(db, "staff1", f"wrong password {i}", ip="10.0.1.1", kind="web")

    results = race(db_url, 20, work)
    assert sum(isinstance(r, Unauthenticated) for r in results) == auth.MAX_FAILURES, results
    assert all(isinstance(r, (Unauthenticated, RateLimited)) for r in results), results

    async def after(db: Database) -> None:  # the account itself is not locked
        assert await auth.sign_in(db, "staff1", PASSWORD, ip="10.0.2.1", kind="web")

    on_database(db_url, after)


def test_guesses_sent_at_once_from_many_addresses_lock_the_account_at_the_limit(
    db_url: str,
) -> None:
    async def build(db: Database) -> None:
        await setup(db)
        await users.create_user(db, ADMIN, "staff1", PASSWORD, "staff", "c-a")

    on_database(db_url, build)

    async def work(db: Database, i: int) -> str:
        return await auth.sign_in(db, "staff1", f"wrong {i}", ip=f"10.1.{i}.1", kind="web")

    results = race(db_url, auth.ACCOUNT_FAILURES + 10, work)
    assert all(isinstance(r, Unauthenticated) for r in results), results

    async def after(db: Database) -> None:
        async with db.connection() as conn:
            locked = await conn.fetchval(
                "SELECT locked_until FROM mall_user WHERE username = 'staff1'"
            )
        assert locked is not None
        with pytest.raises(Unauthenticated):  # locked, even with the right password
            await auth.sign_in(db, "staff1", PASSWORD, ip="10.0.2.1", kind="web")

    on_database(db_url, after)


def test_one_activation_link_opened_on_ten_phones_at_once_binds_one(db_url: str) -> None:
    async def build(db: Database) -> str:
        staff_a, _ = await setup(db)
        resident = await residents.create_resident(db, staff_a, "c-a", "王秀英", None, None)
        return (await credentials.issue_activation(db, staff_a, resident.id)).code

    code = on_database(db_url, build)

    async def work(db: Database, i: int) -> tuple[str, int]:
        return await credentials.activate(db, code, ip=f"10.0.3.{i}")

    results = race(db_url, 10, work)
    won = [r for r in results if isinstance(r, tuple)]
    assert len(won) == 1, results
    assert all(isinstance(r, CodeUsed) for r in results if not isinstance(r, tuple)), results

    async def after(db: Database) -> None:
        assert await auth.principal_for(db, won[0][0]) is not None  # the winner stays signed in

    on_database(db_url, after)
