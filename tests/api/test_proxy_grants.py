"""Proxies (代领) through the API: staff or the resident name a proxy, who pays at the counter with
their own pay code for the resident (`on_behalf_of`); without a live grant, after it ended, or
from another community, it is refused and nothing moves. (tests/api/test_proxies.py is about
X-Forwarded-For.)"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from mall.db import Database
from mall.people import credentials, residents
from tests import support
from tests.api.helpers import Api, problem
from tests.api.world import ADMIN, A, B, World, award

Token = Callable[[str], str]
_n = itertools.count()


def key() -> dict[str, str]:
    return {"Idempotency-Key": f"proxy-{next(_n)}"}


async def _pay_code(db: Database, resident_id: int, slug: str) -> str:
    return (await credentials.new_pay_code(db, support.resident(resident_id, 0, slug))).code


async def _state(db: Database, *resident_ids: int) -> tuple[Any, ...]:
    async with db.connection() as conn:
        balances = [
            await conn.fetchval(
                "SELECT balance FROM ledger_account WHERE code = ?", f"wallet:r{rid}"
            )
            for rid in resident_ids
        ]
        return (
            balances,
            await conn.fetchval("SELECT COUNT(*) FROM mall_order"),
            await conn.fetchval("SELECT COUNT(*) FROM ledger_journal"),
        )


def pair(api: Api, points: int = 40) -> tuple[int, int]:
    """A resident of A with ``points`` and a neighbour of A with none."""
    n = next(_n)
    principal = api.run(residents.create_resident, ADMIN, A, f"张晓明{n}", None, None).id
    neighbour = api.run(residents.create_resident, ADMIN, A, f"李强{n}", None, None).id
    api.run(award, A, principal, points, f"proxy:{principal}", "帮扶困难户")
    return principal, neighbour


def order(api: Api, world: World, token: str, code: str, on_behalf_of: int) -> Any:
    body = {"code": code, "on_behalf_of": on_behalf_of, "lines": [{"sku": "SOAP", "quantity": 1}]}
    return api.post(f"/outlets/{world.outlets['outlet-a']}/orders", token, json=body, headers=key())


def test_staff_grant_lets_the_proxy_pay_from_the_resident_s_points_until_it_ends(
    api: Api, world: World, token: Token
) -> None:
    principal, neighbour = pair(api)
    staff, volunteer = token("staff-a"), token("vol-a")
    made = api.post(f"/residents/{principal}/proxies", staff, json={"proxy_id": neighbour})
    assert made.status_code == 201, made.text
    assert made.json()["proxy_id"] == neighbour
    again = api.post(f"/residents/{principal}/proxies", staff, json={"proxy_id": neighbour})
    problem(again, 409, "already_exists")
    code = api.run(_pay_code, neighbour, A)
    looked = api.post(
        f"/outlets/{world.outlets['outlet-a']}/lookup",
        volunteer,
        json={"code": code, "on_behalf_of": principal},
    )
    assert looked.status_code == 200, looked.text
    assert looked.json()["resident"]["id"] == principal and looked.json()["available"] == 40
    assert looked.json()["proxy"]["id"] == neighbour
    paid = order(api, world, volunteer, code, principal)
    assert paid.status_code == 201, paid.text
    assert paid.json()["total"] == 5 and paid.json()["balance_after"] == 35
    assert api.run(_state, principal, neighbour)[0] == [35, 0]
    theirs = api.get(f"/residents/{neighbour}/passbook", staff).json()["entries"]
    assert theirs[0]["kind"] == "proxy" and theirs[0]["amount"] == 0
    assert theirs[0]["on_behalf_of"].startswith("张")
    mine = api.get(f"/residents/{principal}/passbook", staff).json()["entries"]
    assert mine[0]["amount"] == -5 and mine[0]["collected_by"].startswith("李")
    ended = api.delete(f"/residents/{principal}/proxies/{neighbour}", staff)
    assert ended.status_code == 204, ended.text
    problem(api.delete(f"/residents/{principal}/proxies/{neighbour}", staff), 404, "not_found")
    before = api.run(_state, principal, neighbour)
    problem(
        order(api, world, volunteer, api.run(_pay_code, neighbour, A), principal), 403, "forbidden"
    )
    assert api.run(_state, principal, neighbour) == before
    logged = api.get(f"/communities/{A}/audit", staff).json()["entries"]
    actions = [e["action"] for e in logged if e["action"].startswith("proxy.")]
    assert actions[:2] == ["proxy.end", "proxy.grant"]


def test_a_resident_names_and_ends_their_own_proxy(api: Api, world: World, token: Token) -> None:
    me, neighbour = world.target, world.residents["res-a"]
    mine = token("target")
    made = api.post("/me/proxies", mine, json={"proxy_id": neighbour})
    assert made.status_code == 201, made.text
    listed = api.get("/me/proxies", mine).json()
    assert [g["proxy_id"] for g in listed["proxies"]] == [neighbour]
    theirs = api.get("/me/proxies", token("res-a")).json()
    assert [g["resident_id"] for g in theirs["principals"]] == [me]
    # the proxy cannot end or extend someone else's grant through /me
    problem(api.delete(f"/me/proxies/{me}", token("res-a")), 404, "not_found")
    assert api.delete(f"/me/proxies/{neighbour}", mine).status_code == 204
    assert api.get("/me/proxies", mine).json()["proxies"] == []


def test_a_proxy_without_a_grant_moves_nothing(api: Api, world: World, token: Token) -> None:
    principal, neighbour = pair(api)
    before = api.run(_state, principal, neighbour)
    code = api.run(_pay_code, neighbour, A)
    problem(order(api, world, token("vol-a"), code, principal), 403, "forbidden")
    looked = api.post(
        f"/outlets/{world.outlets['outlet-a']}/lookup",
        token("vol-a"),
        json={"code": code, "on_behalf_of": principal},
    )
    problem(looked, 403, "forbidden")
    assert api.run(_state, principal, neighbour) == before


def test_another_community_can_neither_grant_nor_pay(api: Api, world: World, token: Token) -> None:
    principal, _ = pair(api)
    stranger = world.residents["res-b"]
    staff_a, staff_b = token("staff-a"), token("staff-b")
    problem(
        api.post(f"/residents/{principal}/proxies", staff_a, json={"proxy_id": stranger}),
        404,
        "not_found",
    )
    problem(
        api.post(f"/residents/{principal}/proxies", staff_b, json={"proxy_id": stranger}),
        404,
        "not_found",
    )
    problem(api.post("/me/proxies", token("res-b"), json={"proxy_id": principal}), 404, "not_found")
    problem(
        api.post(f"/residents/{principal}/proxies", token("vol-a"), json={"proxy_id": 1}),
        403,
        "forbidden",
    )
    before = api.run(_state, principal, stranger)
    code = api.run(_pay_code, stranger, B)
    problem(order(api, world, token("vol-a"), code, principal), 403, "forbidden")
    assert api.run(_state, principal, stranger) == before
