"""Offline pay codes over the JSON API (issue #19): a phone fetches a batch while online, and the
counter accepts each code once, in its own window, by the same path as a pay code; every attack
(replay, an expired or a later window, another device's or community's code, a tampered
signature) is refused with a clear code and moves nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from mall.db import Database
from mall.people import auth, credentials
from tests.api.helpers import Api, problem
from tests.api.test_counter import shopper
from tests.api.world import A, World, new_token

BASKET = {"lines": [{"sku": "SOAP", "quantity": 1}]}


def batch(api: Api, token: str) -> list[dict[str, Any]]:
    answer = api.get("/me/offline-codes", token)
    assert answer.status_code == 200, answer.text
    codes: list[dict[str, Any]] = answer.json()["codes"]
    return codes


def available(api: Api, token: str) -> int:
    value: int = api.get("/me", token).json()["available"]
    return value


def pay(api: Api, world: World, code: str, outlet: str = "outlet-a", vol: str = "vol-a") -> Any:
    volunteer = api.run(new_token, world, vol)
    body = {"code": code, **BASKET}
    return api.post(
        f"/outlets/{world.outlets[outlet]}/orders",
        volunteer,
        json=body,
        headers={"Idempotency-Key": f"offline-{code}-{outlet}"},
    )


async def _shift(db: Database, code: str, by: timedelta) -> None:
    """Move one offline code's window by ``by`` (as if it had been fetched that long before)."""
    from mall.people import codes
    from mall.settings import get_settings

    ident = codes.parse(get_settings().secret_key, code).ident
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE mall_code SET valid_from = ?, expires_at = ? WHERE ident = ?",
            credentials.now() + by - timedelta(minutes=1),
            credentials.now() + by + timedelta(minutes=4),
            ident,
        )


def test_a_batch_is_ten_windows_of_three_minutes_one_after_another_from_now(
    api: Api, world: World
) -> None:
    _, phone = shopper(api, 0)
    answer = api.get("/me/offline-codes", phone)
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    codes = body["codes"]
    assert len(codes) == 10 and len({c["code"] for c in codes}) == 10
    assert all(c["code"].isdigit() and len(c["code"]) == 20 for c in codes)
    server = datetime.fromisoformat(body["server_time"])
    assert abs(server - datetime.now(UTC)) < timedelta(seconds=30)
    starts = [datetime.fromisoformat(c["show_from"]) for c in codes]
    ends = [datetime.fromisoformat(c["show_until"]) for c in codes]
    assert starts[0] == server
    assert all(e - s == timedelta(minutes=3) for s, e in zip(starts, ends, strict=True))
    assert all(starts[n + 1] == ends[n] for n in range(9))


def test_the_current_code_pays_once_at_the_counter_and_a_replay_moves_nothing(
    api: Api, world: World
) -> None:
    _, phone = shopper(api, 40)
    code = batch(api, phone)[0]["code"]
    paid = pay(api, world, code)
    assert paid.status_code == 201, paid.text
    assert paid.json()["balance_after"] == available(api, phone) < 40
    left = available(api, phone)
    replay = api.post(
        f"/outlets/{world.outlets['outlet-a']}/orders",
        api.run(new_token, world, "vol-a"),
        json={"code": code, **BASKET},
        headers={"Idempotency-Key": "another-key"},
    )
    problem(replay, 409, "code_used")
    assert available(api, phone) == left


def test_the_counter_looks_the_current_code_up_like_a_pay_code(api: Api, world: World) -> None:
    rid, phone = shopper(api, 30, "王秀英")
    code = batch(api, phone)[0]["code"]
    found = api.post(
        f"/outlets/{world.outlets['outlet-a']}/lookup",
        api.run(new_token, world, "vol-a"),
        json={"code": code},
    )
    assert found.status_code == 200, found.text
    assert found.json()["resident"] == {"id": rid, "display_name": "王*英"}


def test_a_later_window_or_an_expired_one_is_refused_and_moves_nothing(
    api: Api, world: World
) -> None:
    _, phone = shopper(api, 40)
    codes = batch(api, phone)
    problem(pay(api, world, codes[3]["code"]), 400, "code_invalid")  # starts in 9 minutes
    api.run(_shift, codes[1]["code"], -timedelta(minutes=10))  # its window ended 5 minutes ago
    problem(pay(api, world, codes[1]["code"]), 410, "code_expired")
    assert available(api, phone) == 40


def test_a_tampered_code_is_refused(api: Api, world: World) -> None:
    _, phone = shopper(api, 40)
    code = batch(api, phone)[0]["code"]
    tampered = code[:-1] + str((int(code[-1]) + 1) % 10)
    problem(pay(api, world, tampered), 400, "code_invalid")
    forged_window = code[:5] + str((int(code[5]) + 1) % 10) + code[6:]
    problem(pay(api, world, forged_window), 400, "code_invalid")
    assert available(api, phone) == 40


def test_a_new_batch_ends_the_previous_one_of_the_same_phone_only(api: Api, world: World) -> None:
    rid, phone = shopper(api, 40)
    old = batch(api, phone)[0]["code"]
    batch(api, phone)
    problem(pay(api, world, old), 400, "code_invalid")
    # another resident's batch (another phone) leaves this phone's codes alone
    mine = batch(api, phone)[0]["code"]
    _, other = shopper(api, 40, "李建国")
    batch(api, other)
    assert pay(api, world, mine).status_code == 201
    assert available(api, other) == 40


def test_codes_of_a_phone_that_signed_out_or_was_replaced_are_refused(
    api: Api, world: World
) -> None:
    rid, phone = shopper(api, 40)
    signed_out = batch(api, phone)[0]["code"]
    assert api.delete("/auth/token", phone).status_code == 204
    problem(pay(api, world, signed_out), 400, "code_invalid")

    async def new_phone(db: Database) -> str:
        async with db.transaction() as conn:
            return await auth.create_session(
                conn, "resident", resident_id=rid, ttl=auth.RESIDENT_SESSION
            )

    second = api.run(new_phone)
    replaced = batch(api, second)[0]["code"]
    staff = api.run(new_token, world, "staff-a")
    assert api.post(f"/residents/{rid}/activation", staff).status_code == 201
    problem(pay(api, world, replaced), 400, "code_invalid")
    third = api.run(new_phone)
    assert available(api, third) == 40


def test_another_communitys_counter_refuses_the_code(api: Api, world: World) -> None:
    _, phone = shopper(api, 40)
    code = batch(api, phone)[0]["code"]
    problem(pay(api, world, code, outlet="outlet-b", vol="staff-b"), 400, "code_invalid")
    assert available(api, phone) == 40
    assert pay(api, world, code).status_code == 201


def test_offline_codes_are_for_residents_only(api: Api, world: World) -> None:
    for who in ("admin", "staff-a", "vol-a"):
        problem(api.get("/me/offline-codes", api.run(new_token, world, who)), 403, "forbidden")
    problem(api.get("/me/offline-codes"), 401, "unauthenticated")


def test_fetching_batches_is_rate_limited(fresh_api: Api) -> None:
    async def resident_phone(db: Database) -> str:
        from mall.org import communities
        from mall.people import residents
        from tests.api.world import ADMIN

        await communities.create_community(db, ADMIN, A, "枫林社区")
        rid = (await residents.create_resident(db, ADMIN, A, "赵桂兰", None, None)).id
        async with db.transaction() as conn:
            return await auth.create_session(
                conn, "resident", resident_id=rid, ttl=auth.RESIDENT_SESSION
            )

    phone = fresh_api.run(resident_phone)
    for _ in range(30):
        assert fresh_api.get("/me/offline-codes", phone).status_code == 200
    problem(fresh_api.get("/me/offline-codes", phone), 429, "rate_limited")
