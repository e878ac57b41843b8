"""Closing the loop through the API: the filer rates a resolved submission once (1 to 5 stars,
an optional comment); before it is resolved, a second time, by anyone else, or out of range it
is refused and nothing is written; staff see the rating and the statistics count it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from httpx import Response

from tests.api.helpers import Api, problem
from tests.api.world import A, B

Token = Callable[[str], str]


def filed(api: Api, token: Token, who: str = "res-a", title: str = "楼道灯坏了") -> int:
    made = api.post(
        "/me/submissions", token(who), json={"kind": "dispute", "title": title, "body": ""}
    )
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def decide(api: Api, token: Token, sid: int, decision: str, who: str = "staff-a") -> None:
    done = api.post(
        f"/submissions/{sid}/decision", token(who), json={"decision": decision, "reason": "已修好"}
    )
    assert done.status_code == 200, done.text


def rate(api: Api, token: Token, sid: int, who: str = "res-a", **body: Any) -> Response:
    return api.post(f"/me/submissions/{sid}/rating", token(who), json={"stars": 5} | body)


def stars_of(api: Api, token: Token, sid: int) -> Any:
    return api.get(f"/submissions/{sid}", token("staff-a")).json()["stars"]


def test_the_filer_rates_a_resolved_submission_once(api: Api, token: Token) -> None:
    sid = filed(api, token)
    decide(api, token, sid, "resolve")
    made = rate(api, token, sid, stars=4, comment="修得很快，谢谢")
    assert made.status_code == 201, made.text
    assert made.json()["stars"] == 4 and made.json()["comment"] == "修得很快，谢谢"
    shown = api.get(f"/submissions/{sid}", token("staff-a")).json()
    assert shown["stars"] == 4 and shown["rating_comment"] == "修得很快，谢谢"
    again = rate(api, token, sid, stars=1, comment="改主意了")
    problem(again, 409, "already_rated")
    assert stars_of(api, token, sid) == 4
    mine = api.get("/me/submissions", token("res-a")).json()["submissions"]
    assert next(s for s in mine if s["id"] == sid)["stars"] == 4


def test_before_it_is_resolved_a_rating_is_refused(api: Api, token: Token) -> None:
    sid = filed(api, token)
    problem(rate(api, token, sid), 400, "validation_error")
    decide(api, token, sid, "accept")
    problem(rate(api, token, sid), 400, "validation_error")
    decide(api, token, sid, "resolve")
    assert rate(api, token, sid, stars=3).status_code == 201


def test_a_rejected_submission_cannot_be_rated(api: Api, token: Token) -> None:
    sid = filed(api, token)
    decide(api, token, sid, "reject")
    problem(rate(api, token, sid), 400, "validation_error")
    assert stars_of(api, token, sid) is None


def test_only_the_filer_may_rate(api: Api, token: Token) -> None:
    sid = filed(api, token)
    decide(api, token, sid, "resolve")
    problem(rate(api, token, sid, who="target"), 404, "not_found")
    problem(rate(api, token, sid, who="res-b"), 404, "not_found")
    problem(rate(api, token, sid, who="staff-a"), 403, "forbidden")
    problem(api.post(f"/me/submissions/{sid}/rating", json={"stars": 5}), 401, "unauthenticated")
    assert stars_of(api, token, sid) is None


def test_stars_outside_one_to_five_and_bad_comments_are_refused(api: Api, token: Token) -> None:
    sid = filed(api, token)
    decide(api, token, sid, "resolve")
    for stars in (0, 6, -1, "5", 2.5, None):
        problem(rate(api, token, sid, stars=stars), 400, "validation_error")
    problem(rate(api, token, sid, comment="x" * 501), 400, "validation_error")
    problem(rate(api, token, sid, comment="bad\x00"), 400, "validation_error")
    problem(rate(api, token, 2**31 - 1), 404, "not_found")
    assert stars_of(api, token, sid) is None


def test_the_statistics_count_and_average_the_ratings(api: Api, token: Token) -> None:
    before = api.get(f"/communities/{A}/stats", token("staff-a")).json()
    for stars in (5, 2):
        sid = filed(api, token)
        decide(api, token, sid, "resolve")
        assert rate(api, token, sid, stars=stars).status_code == 201
    after = api.get(f"/communities/{A}/stats", token("staff-a")).json()
    assert after["ratings"] == before["ratings"] + 2
    total = (before["average_rating"] or 0) * before["ratings"] + 7
    assert after["average_rating"] == round(total / after["ratings"], 2)
    other = api.get(f"/communities/{B}/stats", token("staff-b")).json()
    assert other["ratings"] == 0 and other["average_rating"] is None
    street = api.get("/stats", token("admin")).json()
    assert street["total"]["ratings"] == after["ratings"]
