"""Opening balances (期初积分) from the paper passbooks: one staff member uploads, every bad row is
named, a different staff member of the community approves, and only then does each resident get
one journal from the budget with the passbook's number; once per resident ever. Each control is
attacked: the uploader, another community's staff, a volunteer, a resident, nobody, a user whose
own record is in the batch, a replayed approval, two approvals at the same moment, a short
budget."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from httpx import Response

import ledger
from mall.db import Database
from mall.earning import opening_approval, openings
from mall.org import communities, points
from mall.people import residents, users
from tests import support
from tests.api.helpers import Api, problem
from tests.api.test_awards import count, neighbourhood, wallet
from tests.api.test_roster import csv_bytes, xlsx
from tests.api.world import ADMIN, PASSWORD, A, World, new_token

Token = Callable[[str], str]
_n = itertools.count()


def person(api: Api, phone: bool = True) -> tuple[int, str, str]:
    """A new resident of A: id, name, phone."""
    n = next(_n)
    name, number = f"存折户{n}", f"1370000{n:04d}"
    made = api.run(residents.create_resident, ADMIN, A, name, number if phone else None, None)
    return made.id, name, number


def send(
    api: Api, token: str, data: bytes, name: str = "期初.csv", *, dry_run: bool = False
) -> Response:
    query = "?dry_run=true" if dry_run else ""
    return api.post(
        f"/communities/{A}/opening-balances{query}", token, files={"file": (name, data)}
    )


def batch_of(api: Api, token: Token, rows: list[list[str]]) -> int:
    """A batch uploaded by ``staff-a``, waiting for approval."""
    done = send(
        api, token("staff-a"), csv_bytes([["姓名", "电话", "居民编号", "存折号", "积分"], *rows])
    )
    assert done.status_code == 200 and done.json()["status"] == "pending_approval", done.text
    return int(done.json()["batch_id"])


def passbook(api: Api, token: Token, rid: int) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = api.get(f"/residents/{rid}/passbook", token("staff-a")).json()[
        "entries"
    ]
    return entries


def test_an_approved_batch_posts_one_journal_per_resident_from_the_budget(
    api: Api, token: Token
) -> None:
    (r1, n1, p1), (r2, _, _) = person(api), person(api)
    budget = api.get(f"/communities/{A}/budget", token("staff-a")).json()["balance"]
    data = xlsx(
        [
            ["积分", "存折号", "电话", "姓名", "居民编号"],
            [120, "P-0001", p1, n1, None],
            ["35", "P-0002", None, None, r2],
        ]
    )
    preview = send(api, token("staff-a"), data, "期初.xlsx", dry_run=True)
    assert preview.json() == {
        "batch_id": None,
        "status": None,
        "valid": 2,
        "total": 155,
        "errors": [],
        "more_errors": 0,
    }
    made = send(api, token("staff-a"), data, "期初.xlsx")
    assert made.status_code == 200, made.text
    assert made.json()["status"] == "pending_approval" and made.json()["total"] == 155
    batch_id = made.json()["batch_id"]
    assert api.run(wallet, A, r1) == 0  # nothing posted while it waits
    shown = api.get(f"/opening-balances/{batch_id}", token("staff-a2")).json()
    assert [(line["resident_id"], line["passbook"], line["points"]) for line in shown["lines"]] == [
        (r1, "P-0001", 120),
        (r2, "P-0002", 35),
    ]
    listed = api.get(f"/communities/{A}/opening-balances", token("staff-a2")).json()["batches"]
    assert listed[0]["id"] == batch_id and listed[0]["status"] == "pending_approval"

    done = api.post(f"/opening-balances/{batch_id}/approve", token("staff-a2"))
    assert done.status_code == 200, done.text
    assert done.json() == {"id": batch_id, "status": "approved", "posted": 2, "total": 155}
    assert (api.run(wallet, A, r1), api.run(wallet, A, r2)) == (120, 35)
    after = api.get(f"/communities/{A}/budget", token("staff-a")).json()["balance"]
    assert after == budget - 155
    entry = passbook(api, token, r1)[0]
    assert entry["kind"] == "opening" and "P-0001" in entry["memo"] and entry["amount"] == 120
    audit = api.get(f"/communities/{A}/audit", token("staff-a")).json()["entries"]
    assert {"opening.upload", "opening.approve"} <= {e["action"] for e in audit}

    again = api.post(f"/opening-balances/{batch_id}/approve", token("admin"))
    problem(again, 409, "already_exists")
    assert api.run(wallet, A, r1) == 120


def test_every_bad_row_is_named_and_nothing_is_kept(api: Api, token: Token) -> None:
    (_, n1, p1), (_, n2, p2), (_, n3, p3) = person(api), person(api), person(api)
    given = batch_of(api, token, [[n3, p3, "", "P-9", "5"]])
    rows = [
        ["姓名", "电话", "居民编号", "存折号", "积分"],
        [n1, p1, "", "P-1", "10"],  # 2: fine
        ["不存在", "13999999999", "", "P-2", "10"],  # 3: unknown resident
        [n2, p2, "", "P-3", "0"],  # 4
        [n2, p2, "", "P-3", "1.5"],  # 5
        [n2, p2, "", "P-3", "100001"],  # 6
        [n2, p2, "", "P-3", "很多"],  # 7
        [n1, p1, "", "P-1", "10"],  # 8: twice in the file
        [n3, p3, "", "P-4", "10"],  # 9: waiting in another batch
        ["", "", "999999", "P-5", "10"],  # 10: no such resident number
        [n2, p2, "", "", "10"],  # 11: no passbook number
        [n2, p2, "", "P-6", "=100*1000"],  # 12: a formula
    ]
    done = send(api, token("staff-a"), csv_bytes(rows))
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["batch_id"] is None and body["valid"] == 1
    reasons = {e["row"]: e["message"] for e in body["errors"]}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12], reasons
    assert "13999999999" in reasons[3]
    assert all("100,000" in reasons[r] for r in (4, 5, 6, 7))
    assert "第 2 行" in reasons[8] or "2" in reasons[8]
    assert "等待审批" in reasons[9]
    assert reasons[12] == "公式不能导入"
    api.post(f"/opening-balances/{given}/approve", token("staff-a2"))
    already = send(api, token("staff-a"), csv_bytes([rows[0], [n3, p3, "", "P-4", "10"]]))
    assert "已经有期初积分" in already.json()["errors"][0]["message"], already.text
    listed = api.get(f"/communities/{A}/opening-balances", token("staff-a")).json()["batches"]
    assert [b["id"] for b in listed if b["status"] == "pending_approval"] == []


def test_the_uploader_cannot_approve_their_own_batch(api: Api, token: Token) -> None:
    rid, name, phone = person(api)
    batch_id = batch_of(api, token, [[name, phone, "", "P-10", "50"]])
    problem(api.post(f"/opening-balances/{batch_id}/approve", token("staff-a")), 403, "forbidden")
    assert api.run(wallet, A, rid) == 0


def test_nobody_outside_the_communitys_staff_approves_or_sees_a_batch(
    api: Api, token: Token
) -> None:
    rid, name, phone = person(api)
    batch_id = batch_of(api, token, [[name, phone, "", "P-11", "50"]])
    path = f"/opening-balances/{batch_id}"
    problem(api.post(path + "/approve", token("staff-b")), 404, "not_found")
    problem(api.get(path, token("staff-b")), 404, "not_found")
    problem(api.post(path + "/approve", token("vol-a")), 403, "forbidden")
    problem(api.post(path + "/approve", token("res-a")), 403, "forbidden")
    problem(api.post(path + "/approve"), 401, "unauthenticated")
    problem(api.get(f"/communities/{A}/opening-balances", token("staff-b")), 403, "forbidden")
    data = csv_bytes([["居民编号", "存折号", "积分"], [str(rid), "P-12", "9"]])
    problem(send(api, token("staff-b"), data), 403, "forbidden")
    problem(send(api, token("vol-a"), data), 403, "forbidden")
    assert api.run(wallet, A, rid) == 0


@pytest.fixture
def linked(api: Api, world: World) -> Iterator[tuple[int, str, str]]:
    """A resident of A linked as ``staff-a2``'s own record for the test."""
    made = person(api)
    admin = api.run(new_token, world, "admin")
    user = world.users["staff-a2"]
    done = api.request("PATCH", f"/users/{user}", admin, json={"resident_id": made[0]})
    assert done.status_code == 200, done.text
    yield made
    api.request("PATCH", f"/users/{user}", admin, json={"resident_id": None})


def test_a_staff_member_whose_own_record_is_in_the_batch_cannot_approve_it(
    api: Api, token: Token, linked: tuple[int, str, str]
) -> None:
    rid, name, phone = linked
    other, other_name, other_phone = person(api)
    batch_id = batch_of(
        api, token, [[name, phone, "", "P-13", "80"], [other_name, other_phone, "", "P-14", "8"]]
    )
    refused = api.post(f"/opening-balances/{batch_id}/approve", token("staff-a2"))
    problem(refused, 403, "self_dealing")
    assert (api.run(wallet, A, rid), api.run(wallet, A, other)) == (0, 0)


def test_a_budget_short_of_the_total_refuses_the_whole_batch(api: Api, token: Token) -> None:
    (r1, n1, p1), (r2, n2, p2) = person(api), person(api)
    batch_id = batch_of(api, token, [[n1, p1, "", "P-15", "1"], [n2, p2, "", "P-16", "100000"]])
    refused = problem(
        api.post(f"/opening-balances/{batch_id}/approve", token("staff-a2")),
        409,
        "budget_exhausted",
    )
    assert "100001" in refused["title"]
    assert (api.run(wallet, A, r1), api.run(wallet, A, r2)) == (0, 0)
    shown = api.get(f"/opening-balances/{batch_id}", token("staff-a")).json()
    assert shown["status"] == "pending_approval"
    rejected = api.post(
        f"/opening-balances/{batch_id}/reject", token("staff-a"), json={"reason": "积分填错"}
    )
    assert rejected.json()["status"] == "rejected", rejected.text
    again = batch_of(api, token, [[n1, p1, "", "P-15", "1"]])  # rejected: may be uploaded again
    assert again != batch_id


# Concurrency and the database's own guard ----------------------------------------------


async def test_two_approvals_at_the_same_moment_post_once(db: Database, db_url: str) -> None:
    place = await neighbourhood(db, "twice", 1000, 2)
    uploader, approver = place["principals"]
    third = await _third_staff(db, "twice")
    rows = [["居民编号", "存折号", "积分"], *([str(r), f"P{r}", "40"] for r in place["residents"])]
    made = await openings.upload(db, uploader, "twice", csv_bytes(rows), "a.csv", dry_run=False)
    assert made.batch_id is not None
    batch_id = made.batch_id

    async def work(db: Database, i: int) -> opening_approval.Decided:
        return await opening_approval.approve(db, (approver, third)[i % 2], batch_id)

    results = support.race(db_url, 6, work)
    done = [r for r in results if isinstance(r, opening_approval.Decided)]
    assert len(done) == 1, results
    assert all(isinstance(r, opening_approval.AlreadyDecided) for r in results if r not in done)
    assert [await wallet(db, "twice", r) for r in place["residents"]] == [40, 40]
    assert await count(db, "mall_opening_given") == 2


async def test_a_resident_is_given_an_opening_balance_once_ever(db: Database) -> None:
    """Two batches naming the same resident (as two uploads racing could leave them): the second
    approval posts nothing, by the primary key of mall_opening_given."""
    place = await neighbourhood(db, "once", 1000, 1)
    uploader, approver = place["principals"]
    rid = place["residents"][0]
    rows = csv_bytes([["居民编号", "存折号", "积分"], [str(rid), "P1", "30"]])
    first = await openings.upload(db, uploader, "once", rows, "a.csv", dry_run=False)
    async with db.transaction() as conn:  # a twin batch, as if uploaded at the same moment
        twin = await conn.fetchval(
            "INSERT INTO mall_opening_batch (community, status, filename, residents, total, "
            "created_by, created_at) SELECT community, status, filename, residents, total, "
            "created_by, created_at FROM mall_opening_batch WHERE id = ? RETURNING id",
            first.batch_id,
        )
        await conn.execute(
            "INSERT INTO mall_opening_line (batch, sheet_row, resident, passbook, points) "
            "VALUES (?, 2, ?, 'P1', 30)",
            twin,
            rid,
        )
    assert first.batch_id is not None
    await opening_approval.approve(db, approver, first.batch_id)
    with pytest.raises(opening_approval.AlreadyGiven):
        await opening_approval.approve(db, approver, int(twin))
    assert await wallet(db, "once", rid) == 30
    async with db.connection() as conn:
        book = await conn.fetchval("SELECT book FROM mall_community WHERE slug = 'once'")
        budget = (await ledger.get_balance(conn, book, points.BUDGET)).balance
    assert budget == 970


async def _third_staff(db: Database, slug: str) -> Any:
    user = await users.create_user_unchecked(db, f"{slug}-s3", PASSWORD, "staff", slug)
    found = await communities.get_community(db, ADMIN, slug)
    return support.staff(user.id, found.id, slug, f"{slug}-s3")
