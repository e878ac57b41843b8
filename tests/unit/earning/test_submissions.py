"""The submission service without HTTP: every transition allowed or refused, due dates from the
community's own days, and the overdue flag."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mall.access import Principal
from mall.db import Database
from mall.earning import submissions
from mall.errors import AlreadyExists, Invalid
from mall.org import communities
from mall.people import residents

ADMIN = Principal(
    kind="user",
    session_id=0,
    community_id=None,
    community_slug=None,
    role="admin",
    username="t",
    user_id=None,
)
SLUG = "maple"


async def filer(db: Database) -> Principal:
    made = await communities.create_community(db, ADMIN, SLUG, "枫林社区")
    rid = (await residents.create_resident(db, ADMIN, SLUG, "王秀英", None, None)).id
    return Principal(
        kind="resident",
        session_id=0,
        community_id=made.id,
        community_slug=SLUG,
        role="resident",
        resident_id=rid,
    )


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
