"""Changing a recruitment call through the services (issue #19): editing it, cancelling it, and
removing a wrong check-in; all before settlement, scoped to the community's staff, audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mall.db import Database
from mall.earning import activities, activity_changes, checkin, signups
from mall.earning.activity_changes import ActivityEdit
from mall.errors import Forbidden, Invalid, NotFound
from tests.unit.earning.test_activities import code_now, place, publish, wallet


async def audit_actions(db: Database, target: str) -> list[str]:
    async with db.connection() as conn:
        rows = await conn.fetch(
            "SELECT action FROM mall_audit WHERE target = ? ORDER BY id", target
        )
    return [r["action"] for r in rows]


async def test_staff_edit_an_activity_and_more_places_go_to_the_waiting_list(
    db: Database,
) -> None:
    p = await place(db, n=3)
    aid = await publish(db, p.staff, capacity=1, start=timedelta(days=1))
    for r in p.residents:
        await signups.sign_up(db, r, aid)
    starts = datetime.now(UTC) + timedelta(days=2)
    edited = await activity_changes.edit_activity(
        db,
        p.staff,
        aid,
        ActivityEdit(
            title="清理3栋楼道", capacity=2, starts_at=starts, ends_at=starts + timedelta(hours=1)
        ),
    )
    assert edited.title == "清理3栋楼道" and edited.capacity == 2
    assert edited.starts_at == starts.replace(microsecond=edited.starts_at.microsecond)
    assert (edited.confirmed, edited.waiting) == (2, 1)  # the first on the list got the place
    second = await activities.activity_for_resident(db, p.residents[1], aid)
    assert second.my_status == "confirmed"
    assert await audit_actions(db, f"activity:{aid}") == ["activity.create", "activity.edit"]


async def test_an_edit_is_checked_as_publishing_is_and_never_drops_a_place(db: Database) -> None:
    p = await place(db, n=2)
    aid = await publish(db, p.staff, capacity=5, start=timedelta(days=1))
    for r in p.residents:
        await signups.sign_up(db, r, aid)
    with pytest.raises(Invalid):
        await activity_changes.edit_activity(db, p.staff, aid, ActivityEdit(capacity=1))
    with pytest.raises(Invalid):
        await activity_changes.edit_activity(db, p.staff, aid, ActivityEdit(points=0))
    with pytest.raises(Invalid):
        await activity_changes.edit_activity(db, p.staff, aid, ActivityEdit(path="elsewhere"))
    with pytest.raises(Invalid):  # ends before it starts
        await activity_changes.edit_activity(
            db, p.staff, aid, ActivityEdit(ends_at=datetime.now(UTC))
        )
    with pytest.raises(Invalid):  # more a head than the policy's 200
        await activity_changes.edit_activity(db, p.staff, aid, ActivityEdit(points=500))
    found = await activities.activity_for_staff(db, p.staff, aid)
    assert (found.capacity, found.points) == (5, 15)


async def test_only_staff_of_the_community_change_an_activity(db: Database) -> None:
    p = await place(db, n=1)
    aid = await publish(db, p.staff)
    await checkin.check_in(db, p.residents[0], aid, code_now(aid))
    rid = p.residents[0].resident_id
    for who, refusal in ((p.other_staff, NotFound), (p.residents[0], Forbidden)):
        with pytest.raises(refusal):
            await activity_changes.edit_activity(db, who, aid, ActivityEdit(title="x"))
        with pytest.raises(refusal):
            await activity_changes.cancel_activity(db, who, aid, reason="x")
        with pytest.raises(refusal):
            await activity_changes.remove_checkin(db, who, aid, rid, reason="x")
    found = await activities.activity_for_staff(db, p.staff, aid)
    assert (found.status, found.title, found.checked_in) == ("open", "清理楼道", 1)


async def test_a_cancelled_activity_takes_no_sign_up_check_in_or_settlement(db: Database) -> None:
    p = await place(db, n=2)
    aid = await publish(db, p.staff)
    await signups.sign_up(db, p.residents[0], aid)
    cancelled = await activity_changes.cancel_activity(db, p.staff, aid, reason="下雨")
    assert cancelled.status == "cancelled"
    again = await activity_changes.cancel_activity(db, p.staff, aid, reason="下雨")
    assert again.status == "cancelled"
    with pytest.raises(Invalid):
        await signups.sign_up(db, p.residents[1], aid)
    with pytest.raises(Invalid):
        await checkin.check_in(db, p.residents[0], aid, code_now(aid))
    with pytest.raises(Invalid):
        await checkin.settle(db, p.staff, aid)
    with pytest.raises(Invalid):
        await activity_changes.edit_activity(db, p.staff, aid, ActivityEdit(title="改期"))
    mine = await activities.my_activities(db, p.residents[0])
    assert [(a.id, a.status, a.my_status) for a in mine.mine] == [(aid, "cancelled", "confirmed")]
    assert aid not in [a.id for a in mine.upcoming]
    assert (await audit_actions(db, f"activity:{aid}")).count("activity.cancel") == 1
    with pytest.raises(Invalid):  # a reason is needed
        await activity_changes.cancel_activity(db, p.staff, await publish(db, p.staff), reason="  ")


async def test_a_wrong_check_in_is_removed_before_settlement_and_never_after(
    db: Database,
) -> None:
    p = await place(db, n=3)
    aid = await publish(db, p.staff, points_each=10)
    signed, walked_in, stays = p.residents
    await signups.sign_up(db, signed, aid)
    for r in p.residents:
        await checkin.check_in(db, r, aid, code_now(aid))
    await activity_changes.remove_checkin(db, p.staff, aid, signed.resident_id, reason="签错了")
    await activity_changes.remove_checkin(db, p.staff, aid, walked_in.resident_id, reason="")
    with pytest.raises(NotFound):  # not checked in any more
        await activity_changes.remove_checkin(db, p.staff, aid, signed.resident_id, reason="")
    with pytest.raises(NotFound):  # a resident of another community
        await activity_changes.remove_checkin(db, p.staff, aid, p.outsider.resident_id, reason="")
    found = await activities.activity_for_staff(db, p.staff, aid)
    by_id = {s.resident_id: s for s in found.signups}
    assert by_id[signed.resident_id].status == "confirmed"  # keeps the place signed up for
    assert by_id[signed.resident_id].checked_in_at is None
    assert by_id[walked_in.resident_id].status == "cancelled"  # only walked in: off the list
    assert found.checked_in == 1
    assert (await audit_actions(db, f"activity:{aid}")).count("activity.checkin_removed") == 2

    done = await checkin.settle(db, p.staff, aid)
    assert (done.awarded, done.points) == (1, 10)  # only the one still checked in
    assert await wallet(db, stays.resident_id) == 10 and await wallet(db, signed.resident_id) == 0
    with pytest.raises(Invalid):
        await activity_changes.remove_checkin(db, p.staff, aid, stays.resident_id, reason="")
    with pytest.raises(Invalid):
        await activity_changes.cancel_activity(db, p.staff, aid, reason="晚了")
    assert (await activities.activity_for_staff(db, p.staff, aid)).checked_in == 1
