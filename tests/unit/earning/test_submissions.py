"""The submission service without HTTP: every transition allowed or refused, due dates from the
community's own days, and the overdue flag."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mall.access import Principal, ResidentPrincipal
from mall.db import Database
from mall.earning import submissions
from mall.errors import AlreadyExists, Invalid
from mall.org import communities
from mall.people import residents
from tests import support

ADMIN = support.admin("t")
SLUG = "maple"


async def filer(db: Database) -> ResidentPrincipal:
    made = await communities.create_community(db, ADMIN, SLUG, "枫林社区")
    rid = (await residents.create_resident(db, ADMIN, SLUG, "王秀英", None, None)).id
    return support.resident(rid, made.id, SLUG)


async def walk(db: Database, me: Principal, steps: list[str]) -> int:
    made = await submissions.file(db, me, "dispute", "楼上漏水", "")
    for step in steps:
        await submissions.decide(db, ADMIN, made.id, step, reason="理由")
    return made.id


ALLOWED = {
    (): {"accept", "resolve", "reject"},
    ("accept",): {"resolve", "reject"},
    ("resolve",): set(),
    ("reject",): set(),
    ("accept", "resolve"): set(),
    ("accept", "reject"): set(),
}


@pytest.mark.parametrize("before", list(ALLOWED), ids=lambda b: "+".join(b) or "open")
@pytest.mark.parametrize("decision", ["accept", "resolve", "reject"])
async def test_each_decision_is_allowed_only_from_its_statuses(
    db: Database, before: tuple[str, ...], decision: str
) -> None:
    me = await filer(db)
    sid = await walk(db, me, list(before))
    status = (await submissions.get(db, me, sid)).status
    if decision in ALLOWED[before]:
        done = await submissions.decide(db, ADMIN, sid, decision, reason="理由")
        assert done.status == submissions.DECISIONS[decision][1]
    else:
        with pytest.raises(AlreadyExists):
            await submissions.decide(db, ADMIN, sid, decision, reason="理由")
        assert (await submissions.get(db, me, sid)).status == status


async def test_the_due_date_follows_the_communitys_own_days(db: Database) -> None:
    me = await filer(db)
    await submissions.set_deadlines(db, ADMIN, SLUG, {"wish": 30})
    made = await submissions.file(db, me, "wish", "想学手机挂号", "")
    assert made.due_at - made.created_at == timedelta(days=30)
    other = await submissions.file(db, me, "proposal", "加装路灯", "")
    assert other.due_at - other.created_at == timedelta(days=7)
    with pytest.raises(Invalid):
        await submissions.set_deadlines(db, ADMIN, SLUG, {"complaint": 3})


async def test_overdue_means_past_due_and_not_closed(db: Database) -> None:
    me = await filer(db)
    open_one = await walk(db, me, [])
    accepted = await walk(db, me, ["accept"])
    resolved = await walk(db, me, ["resolve"])
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE mall_submission SET due_at = ?", datetime.now(UTC) - timedelta(minutes=1)
        )
    flags = {s.id: s.overdue for s in await submissions.queue(db, ADMIN, SLUG)}
    assert flags == {open_one: True, accepted: True, resolved: False}
    assert await submissions.count_overdue(db, ADMIN, SLUG) == 2


async def test_body_may_have_lines_but_no_control_characters(db: Database) -> None:
    me = await filer(db)
    made = await submissions.file(db, me, "proposal", "建议", "第一行\n第二行")
    assert made.body == "第一行\n第二行"
    with pytest.raises(Invalid):
        await submissions.file(db, me, "proposal", "建议", "坏\x00字")


async def test_the_queue_sorts_before_it_limits_so_new_submissions_never_vanish(
    db: Database,
) -> None:
    me = await filer(db)
    long_ago = datetime.now(UTC) - timedelta(days=400)
    async with db.transaction() as conn:
        community = await conn.fetchval("SELECT id FROM mall_community WHERE slug = ?", SLUG)
        await conn.executemany(
            "INSERT INTO mall_submission (community, resident, kind, title, body, status, "
            "created_at, due_at, reason) VALUES (?, ?, 'proposal', ?, '', ?, ?, ?, '')",
            [
                (
                    community,
                    me.resident_id,
                    f"旧事{i}",
                    "resolved" if i % 2 else "rejected",
                    long_ago,
                    long_ago + timedelta(days=7, minutes=i),
                )
                for i in range(320)
            ],
        )
    late = await submissions.file(db, me, "dispute", "邻里吵架", "")
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE mall_submission SET due_at = ? WHERE id = ?",
            datetime.now(UTC) - timedelta(hours=1),
            late.id,
        )
    new = await submissions.file(db, me, "wish", "想学手机挂号", "")
    queue = await submissions.queue(db, ADMIN, SLUG, limit=100)
    assert [s.id for s in queue[:2]] == [late.id, new.id]
    assert queue[0].overdue and not queue[1].overdue
    assert all(s.status in submissions.CLOSED for s in queue[2:]) and len(queue) == 100
    waiting = await submissions.queue(db, ADMIN, SLUG, status="open", limit=100)
    assert [s.id for s in waiting] == [late.id, new.id]
