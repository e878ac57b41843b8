"""A proxy (代领) at another community's counter is ``forbidden``, with nothing moved and their
code not used: a proxy of community B (with a live grant from a resident of B) at A's counter,
a proxy of B naming a resident of A, and a proxy of A naming a resident of B. Without
``on_behalf_of``, the answers are the plain checkout's, as before (``code_invalid``)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from mall.db import Database
from mall.org import communities
from mall.people import credentials, proxies, residents
from tests import support
from tests.api.helpers import Api, problem
from tests.api.world import ADMIN, A, B, World, award

Token = Callable[[str], str]
_n = itertools.count()


def key() -> dict[str, str]:
    return {"Idempotency-Key": f"other-proxy-{next(_n)}"}


async def _pay_code(db: Database, resident_id: int, slug: str) -> str:
    return (await credentials.new_pay_code(db, support.resident(resident_id, 0, slug))).code


async def _state(db: Database, *resident_ids: int) -> tuple[Any, ...]:
    """Balances of the residents, every order, journal and used code, and A's soap on the shelf."""
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
            await conn.fetchval("SELECT COUNT(*) FROM mall_code WHERE used_at IS NOT NULL"),
            await conn.fetchval("SELECT COUNT(*) FROM catalog_stock_movement"),
        )


async def _b_pair(db: Database) -> tuple[int, int]:
    """A resident of B with 40 points who named a neighbour of B their proxy."""
    n = next(_n)
    await communities.grant_budget(db, ADMIN, B, 40, "预算", idempotency_key=f"other-b:{n}")
    principal = (await residents.create_resident(db, ADMIN, B, f"赵晓明{n}", None, None)).id
    neighbour = (await residents.create_resident(db, ADMIN, B, f"钱芳{n}", None, None)).id
    await award(db, B, principal, 40, f"other-b:{n}:award", "帮扶困难户")
    await proxies.grant(db, ADMIN, principal, neighbour)
    return principal, neighbour


def _a_pair(api: Api) -> tuple[int, int]:
    """A resident of A with 40 points who named a neighbour of A their proxy."""
    n = next(_n)
    principal = api.run(residents.create_resident, ADMIN, A, f"张晓明{n}", None, None).id
    neighbour = api.run(residents.create_resident, ADMIN, A, f"李强{n}", None, None).id
    api.run(award, A, principal, 40, f"other-a:{n}", "帮扶困难户")
    api.run(proxies.grant, ADMIN, principal, neighbour)
    return principal, neighbour


def _at_a(api: Api, world: World, token: str, code: str, on_behalf_of: int | None) -> Any:
    body: dict[str, Any] = {"code": code, "lines": [{"sku": "SOAP", "quantity": 1}]}
    if on_behalf_of is not None:
        body["on_behalf_of"] = on_behalf_of
    return api.post(f"/outlets/{world.outlets['outlet-a']}/orders", token, json=body, headers=key())


def _look_at_a(api: Api, world: World, token: str, code: str, on_behalf_of: int) -> Any:
    body = {"code": code, "on_behalf_of": on_behalf_of}
    return api.post(f"/outlets/{world.outlets['outlet-a']}/lookup", token, json=body)


def test_a_proxy_of_another_community_at_this_counter_is_forbidden(
    api: Api, world: World, token: Token
) -> None:
    principal, neighbour = api.run(_b_pair)
    code = api.run(_pay_code, neighbour, B)
    before = api.run(_state, principal, neighbour)
    refused = problem(_at_a(api, world, token("vol-a"), code, principal), 403, "forbidden")
    assert "社区" in refused["detail"] or "community" in refused["detail"]
    problem(_look_at_a(api, world, token("vol-a"), code, principal), 403, "forbidden")
    assert api.run(_state, principal, neighbour) == before  # nothing moved, the code unused


def test_a_proxy_naming_a_resident_of_another_community_is_forbidden(
    api: Api, world: World, token: Token
) -> None:
    a_principal, a_neighbour = _a_pair(api)
    b_principal, b_neighbour = api.run(_b_pair)
    before = api.run(_state, a_principal, a_neighbour, b_principal, b_neighbour)
    own = api.run(_pay_code, a_neighbour, A)  # A's proxy, naming B's resident
    problem(_at_a(api, world, token("vol-a"), own, b_principal), 403, "forbidden")
    problem(_look_at_a(api, world, token("vol-a"), own, b_principal), 403, "forbidden")
    stranger = api.run(_pay_code, b_neighbour, B)  # B's proxy, naming A's resident
    problem(_at_a(api, world, token("vol-a"), stranger, a_principal), 403, "forbidden")
    assert api.run(_state, a_principal, a_neighbour, b_principal, b_neighbour) == before
    paid = _at_a(api, world, token("vol-a"), own, a_principal)  # the code was never used up
    assert paid.status_code == 201, paid.text
    assert paid.json()["balance_after"] == 35


def test_staff_of_another_community_still_cannot_use_this_counter(
    api: Api, world: World, token: Token
) -> None:
    principal, neighbour = api.run(_b_pair)
    before = api.run(_state, principal, neighbour)
    code = api.run(_pay_code, neighbour, B)
    refused = _at_a(api, world, token("staff-b"), code, principal)
    assert refused.status_code in (403, 404), refused.text
    assert api.run(_state, principal, neighbour) == before


def test_without_on_behalf_of_the_plain_answers_stay(api: Api, world: World, token: Token) -> None:
    principal, neighbour = api.run(_b_pair)
    before = api.run(_state, principal, neighbour)
    code = api.run(_pay_code, principal, B)
    problem(_at_a(api, world, token("vol-a"), code, None), 400, "code_invalid")
    looked = api.post(
        f"/outlets/{world.outlets['outlet-a']}/lookup", token("vol-a"), json={"code": code}
    )
    problem(looked, 400, "code_invalid")
    problem(_at_a(api, world, token("vol-a"), "12345", principal), 400, "code_invalid")
    assert api.run(_state, principal, neighbour) == before
