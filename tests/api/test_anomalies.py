"""The anomaly list through the API: ``GET /anomalies?from=&to=`` for administrators only, each
line naming the awards and residents it is about."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from tests.api.helpers import Api, problem
from tests.api.test_awards import give
from tests.api.test_reversals import reverse
from tests.api.world import World

Token = Callable[[str], str]


def test_an_administrator_sees_repeats_and_reversals_with_their_records(
    api: Api, world: World, token: Token
) -> None:
    resident = world.residents["res-a"]
    made = [give(api, token("staff-a"), [resident]).json()["id"] for _ in range(3)]
    assert reverse(api, token("staff-a2"), made[0], "重复发放").status_code == 201
    found = api.get("/anomalies", token("admin"))
    assert found.status_code == 200, found.text
    body = found.json()
    assert set(body) == {"start", "end", "repeats", "near_threshold", "cards_reissued", "reversals"}
    repeats = [r for r in body["repeats"] if r["resident"]["id"] == resident]
    assert [(r["issuer"], r["award_ids"], r["community"]) for r in repeats] == [
        ("staff-a", made, "maple")
    ]
    reversed_ = [r for r in body["reversals"] if r["award_id"] == made[0]]
    assert reversed_[0]["reason"] == "重复发放" and reversed_[0]["reverser"] == "staff-a2"
    assert reversed_[0]["residents"] == [{"id": resident, "name": "李海"}]


def test_the_window_is_given_in_days(api: Api, token: Token) -> None:
    day = date.today() - timedelta(days=400)
    found = api.get("/anomalies", token("admin"), params={"from": str(day), "to": str(day)})
    assert found.status_code == 200
    assert found.json()["start"] == found.json()["end"] == str(day)
    assert found.json()["reversals"] == [] and found.json()["repeats"] == []
    later = str(day + timedelta(days=1))
    problem(
        api.get("/anomalies", token("admin"), params={"from": later, "to": str(day)}),
        400,
        "validation_error",
    )
    problem(
        api.get("/anomalies", token("admin"), params={"from": "yesterday"}), 400, "validation_error"
    )


def test_nobody_but_an_administrator_sees_the_list(api: Api, token: Token) -> None:
    for who in ("staff-a", "vol-a", "res-a"):
        problem(api.get("/anomalies", token(who)), 403, "forbidden")
    problem(api.get("/anomalies"), 401, "unauthenticated")
