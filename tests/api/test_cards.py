"""Printed cards under four eyes, through the API: a card issued while the resident holds points
pays for nothing until a different staff member approves it; the old card stops at once."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from httpx import Response

from mall.people import residents
from tests.api.helpers import Api, problem
from tests.api.world import ADMIN, A, World, award

Token = Callable[[str], str]
_n = itertools.count()


def holder(api: Api, points: int) -> int:
    rid = api.run(residents.create_resident, ADMIN, A, f"持卡人{next(_n)}", None, None).id
    if points:
        api.run(award, A, rid, points, f"card-test:{rid}", "帮扶困难户")
    return rid


def at_counter(api: Api, world: World, token: str, card: str, pin: str = "2580") -> Response:
    return api.post(
        f"/outlets/{world.outlets['outlet-a']}/lookup", token, json={"code": card, "pin": pin}
    )


def buy(api: Api, world: World, token: str, card: str, pin: str = "2580") -> Response:
    body: dict[str, Any] = {"code": card, "pin": pin, "lines": [{"sku": "SOAP", "quantity": 1}]}
    return api.post(
        f"/outlets/{world.outlets['outlet-a']}/orders",
        token,
        json=body,
        headers={"Idempotency-Key": f"card-{next(_n)}"},
    )


def test_a_card_for_a_resident_without_points_pays_at_once(
    api: Api, world: World, token: Token
) -> None:
    rid = holder(api, 0)
    made = api.post(f"/residents/{rid}/card", token("staff-a"), json={"pin": "2580"})
    assert made.status_code == 201 and made.json()["status"] == "active", made.text
    assert at_counter(api, world, token("vol-a"), made.json()["card_code"]).status_code == 200


def test_a_card_issued_while_the_resident_holds_points_waits_for_another_staff_member(
    api: Api, world: World, token: Token
) -> None:
    rid = holder(api, 30)
    vol = token("vol-a")
    made = api.post(f"/residents/{rid}/card", token("staff-a"), json={"pin": "2580"})
    assert made.status_code == 201 and made.json()["status"] == "pending_approval", made.text
    card = made.json()["card_code"]
    body = problem(at_counter(api, world, vol, card), 409, "card_pending")
    assert "审核" in body["title"] or "approv" in body["title"]
    problem(at_counter(api, world, vol, card, pin="0000"), 409, "card_pending")
    problem(buy(api, world, vol, card), 409, "card_pending")
    assert api.get(f"/residents/{rid}", token("staff-a")).json()["balance"] == 30

    approve = f"/residents/{rid}/card/approve"
    problem(api.post(approve, token("staff-a")), 403, "forbidden")  # the issuer
    problem(api.post(approve, vol), 403, "forbidden")
    problem(api.post(approve, token("staff-b")), 404, "not_found")
    problem(api.post(approve, token("res-a")), 403, "forbidden")
    problem(at_counter(api, world, vol, card), 409, "card_pending")
    done = api.post(approve, token("staff-a2"))
    assert done.status_code == 200 and done.json() == {"resident_id": rid, "status": "active"}
    problem(api.post(approve, token("admin")), 409, "already_exists")  # nothing waits now
    paid = buy(api, world, vol, card)
    assert paid.status_code == 201 and paid.json()["balance_after"] == 25, paid.text

    log = api.get(f"/communities/{A}/audit", token("staff-a")).json()["entries"]
    mine = [(e["actor"], e["action"]) for e in log if e["target"] == f"resident:{rid}"]
    assert ("staff-a", "resident.card") in mine and ("staff-a2", "card.approve") in mine


def test_a_new_card_stops_the_old_one_at_once_even_while_it_waits(
    api: Api, world: World, token: Token
) -> None:
    rid = holder(api, 0)
    vol = token("vol-a")
    old = api.post(f"/residents/{rid}/card", token("staff-a"), json={"pin": "2580"}).json()
    assert at_counter(api, world, vol, old["card_code"]).status_code == 200
    api.run(award, A, rid, 20, f"card-test:more:{rid}", "参加议事会")
    new = api.post(f"/residents/{rid}/card", token("staff-a"), json={"pin": "1357"}).json()
    assert new["status"] == "pending_approval"
    problem(at_counter(api, world, vol, old["card_code"]), 400, "code_invalid")
    problem(buy(api, world, vol, new["card_code"], "1357"), 409, "card_pending")
    assert api.get(f"/residents/{rid}", token("staff-a")).json()["balance"] == 20


def test_approving_with_no_card_waiting_or_a_closed_record_is_refused(
    api: Api, world: World, token: Token
) -> None:
    rid = holder(api, 0)
    problem(api.post(f"/residents/{rid}/card/approve", token("staff-a")), 409, "already_exists")
    problem(api.post("/residents/999999/card/approve", token("staff-a")), 404, "not_found")
    closed = holder(api, 10)
    api.post(f"/residents/{closed}/card", token("staff-a"), json={"pin": "2580"})
    api.post(f"/residents/{closed}/close", token("staff-a"), json={"reason": "搬离"})
    problem(api.post(f"/residents/{closed}/card/approve", token("staff-a2")), 410, "account_closed")
