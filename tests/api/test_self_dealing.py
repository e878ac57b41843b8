"""Nobody acts on their own resident record (``self_dealing``, 403), attacked through the API as
an insider would: the street administrator links ``staff-a2`` to a resident record of A
(``PATCH /users/{id}``), and ``staff-a2`` then tries every act that moves points to or from a
resident on a staff member's word. Each is refused, and nothing changes: not a journal, not a
balance, not an order, a card, a record or an award."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import Response

from mall.counter import checkout
from mall.db import Database
from mall.people import credentials, residents
from tests import support
from tests.api.helpers import Api, problem
from tests.api.world import ADMIN, BIG_RULE, RULE, A, World, award, new_token

Token = Callable[[str], str]
_n = itertools.count()


async def snapshot(db: Database, resident_id: int) -> tuple[Any, ...]:
    """Everything an act on the resident could have changed."""
    async with db.connection() as conn:

        async def rows(sql: str) -> list[tuple[Any, ...]]:
            return [tuple(r) for r in await conn.fetch(sql, resident_id)]

        return (
            await conn.fetchval("SELECT COUNT(*) FROM ledger_journal"),
            [
                tuple(r)
                for r in await conn.fetch(
                    "SELECT code, balance FROM ledger_account WHERE code IN ('budget', ?) "
                    "ORDER BY id",
                    f"wallet:r{resident_id}",
                )
            ],
            await rows("SELECT id, status FROM mall_order WHERE resident = ? ORDER BY id"),
            await rows(
                "SELECT id, pending, revoked_at FROM mall_code WHERE resident = ? "
                "AND kind = 'card' ORDER BY id"
            ),
            await rows("SELECT closed_at, merged_into FROM mall_resident WHERE id = ?"),
            await rows("SELECT award FROM mall_award_line WHERE resident = ? ORDER BY id"),
            await conn.fetchval("SELECT COUNT(*) FROM mall_award WHERE status = 'posted'"),
            await rows("SELECT activity, checked_in_at FROM mall_signup WHERE resident = ?"),
        )


async def _paid_order(db: Database, outlet_id: int, resident_id: int) -> int:
    me = support.resident(resident_id, 0, A)
    code = (await credentials.new_pay_code(db, me)).code
    done = await checkout.checkout(
        db,
        ADMIN,
        outlet_id,
        code=code,
        lines=[("SOAP", 1)],
        idempotency_key=f"self:{resident_id}:{next(_n)}",
        req_hash="self",
    )
    return done.id


@pytest.fixture
def own(api: Api, world: World) -> Iterator[int]:
    """A resident of A with 40 points, linked as ``staff-a2``'s own record for the test."""
    rid = api.run(residents.create_resident, ADMIN, A, f"自家人{next(_n)}", None, None).id
    api.run(award, A, rid, 40, f"self:{rid}", "帮扶困难户")
    admin = api.run(new_token, world, "admin")
    user = world.users["staff-a2"]
    linked = api.request("PATCH", f"/users/{user}", admin, json={"resident_id": rid})
    assert linked.status_code == 200 and linked.json()["resident_id"] == rid, linked.text
    yield rid
    api.request("PATCH", f"/users/{user}", admin, json={"resident_id": None})


def key() -> dict[str, str]:
    return {"Idempotency-Key": f"self-{next(_n)}"}


def attacks(api: Api, world: World, token: Token, rid: int) -> dict[str, Callable[[], Response]]:
    """Each act, set up by someone else (``staff-a``), then tried by ``staff-a2``."""
    staff, me = token("staff-a"), token("staff-a2")
    body = {"community": A, "rule": BIG_RULE, "resident_ids": [rid], "memo": "调解"}
    waiting = api.post("/awards", staff, json=body, headers=key()).json()
    assert waiting["status"] == "pending_approval", waiting
    other = {"community": A, "rule": RULE, "resident_ids": [rid], "memo": "议事"}
    posted = api.post("/awards", staff, json=other, headers=key()).json()
    assert posted["status"] == "posted", posted
    starts = datetime.now(UTC) - timedelta(minutes=5)
    call = {
        "title": "清理楼道",
        "path": "adding_to_good",
        "points": 5,
        "capacity": 3,
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(),
        "place": "3栋楼下",
    }
    attended = api.post(f"/communities/{A}/activities", staff, json=call).json()["id"]
    sheet = f"/activities/{attended}/attendance/by-name"
    assert api.post(sheet, staff, json={"resident_ids": [rid]}).status_code == 200
    ticked = api.post(f"/communities/{A}/activities", staff, json=call).json()["id"]
    order_id = api.run(_paid_order, world.outlets["outlet-a"], rid)
    duplicate = api.run(residents.create_resident, ADMIN, A, f"重复{next(_n)}", None, None).id
    issued = api.post(f"/residents/{rid}/card", staff, json={"pin": "2580"}).json()
    assert issued["status"] == "pending_approval", issued
    merge = {"into": rid, "reason": "重复登记"}
    return {
        "award": lambda: api.post("/awards", me, json={**other}, headers=key()),
        "approve": lambda: api.post(f"/awards/{waiting['id']}/approve", me),
        "settle": lambda: api.post(f"/activities/{attended}/settle", me),
        "sheet attendance": lambda: api.post(
            f"/activities/{ticked}/attendance/by-name", me, json={"resident_ids": [rid]}
        ),
        "reverse": lambda: api.post(
            f"/awards/{posted['id']}/reverse", me, json={"reason": "发错了"}, headers=key()
        ),
        "refund": lambda: api.post(f"/orders/{order_id}/refund", me, headers=key()),
        "merge into": lambda: api.post(f"/residents/{duplicate}/merge", me, json=merge),
        "merge away": lambda: api.post(
            f"/residents/{rid}/merge", me, json={"into": duplicate, "reason": "重复登记"}
        ),
        "card issue": lambda: api.post(f"/residents/{rid}/card", me, json={"pin": "1357"}),
        "card approve": lambda: api.post(f"/residents/{rid}/card/approve", me),
    }


def test_every_act_on_ones_own_record_is_self_dealing_and_changes_nothing(
    api: Api, world: World, token: Token, own: int
) -> None:
    tries = attacks(api, world, token, own)
    for name, attempt in tries.items():
        before = api.run(snapshot, own)
        body = problem(attempt(), 403, "self_dealing")
        assert "自己" in body["title"], (name, body)
        assert api.run(snapshot, own) == before, name
    assert set(tries) >= {
        "award",
        "approve",
        "settle",
        "sheet attendance",
        "reverse",
        "refund",
        "merge into",
        "card issue",
        "card approve",
    }


def test_the_same_acts_by_another_staff_member_go_through(
    api: Api, world: World, token: Token, own: int
) -> None:
    """The refusals above are for the link alone: unlinked, each act works (so the test above
    could not pass for some other reason)."""
    tries = attacks(api, world, token, own)
    admin = api.run(new_token, world, "admin")
    unlinked = api.request(
        "PATCH", f"/users/{world.users['staff-a2']}", admin, json={"resident_id": None}
    )
    assert unlinked.status_code == 200 and unlinked.json()["resident_id"] is None
    for name in ("approve", "settle", "reverse", "refund", "card approve"):
        done = tries[name]()
        assert done.status_code in (200, 201), (name, done.text)
