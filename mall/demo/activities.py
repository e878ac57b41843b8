"""Demo recruitment calls (招募令) for `mall demo`, made through ``mall.earning.activities`` like any
staff member would: two settled calls in the past (their attendees' passbooks show the points,
and their volunteer hours count; a few of them opt in to the ranking),
one happening now with sign-ups and check-ins, and upcoming ones, one of them full with a
waiting list."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from mall.access import ResidentPrincipal, Staff
from mall.db import Database
from mall.earning import activities, checkin, signups
from mall.people import credentials, preferences

#: attendees of the first past call who opt in to the ranking (积分榜)
ON_RANKING = 3

PAST = [
    ("楼道杂物清理日", "adding_to_good", 10, 12, "3栋、5栋楼道", -9),
    ("为独居老人送年货", "timely_help", 20, 6, "社区党群服务中心集合", -4),
]
UPCOMING = [
    ("垃圾分类桶边督导", "adding_to_good", 8, 3, "东门垃圾分类亭", 2),
    ("邻里议事会：加装电梯", "settling_disputes", 10, 15, "社区议事厅", 5),
    ("关爱空巢老人上门探访", "timely_help", 15, 8, "社区党群服务中心", 9),
]


def _resident(staff: Staff, resident_id: int) -> ResidentPrincipal:
    return ResidentPrincipal(
        resident_id=resident_id,
        community_id=staff.community_id,
        community_slug=staff.community_slug,
    )


async def _publish(
    db: Database, staff: Staff, slug: str, spec: tuple[Any, ...], starts: datetime
) -> int:
    title, path, points, capacity, place, _ = spec
    made = await activities.create_activity(
        db,
        staff,
        slug,
        title=title,
        path=path,
        points=points,
        capacity=capacity,
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        place=place,
        hours_tenths=20,  # each call lasts two hours of volunteer service
        description="请穿方便活动的衣服，到场后用手机扫屏幕上的二维码签到。",
    )
    return made.id


async def load(
    db: Database, rng: random.Random, slug: str, staff: Staff, resident_ids: list[int]
) -> list[str]:
    """Load this area's demo data for one community; nothing to print."""
    today = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    attended: list[int] = []
    for spec in PAST:  # attendance taken by staff from their pay codes, then settled
        activity_id = await _publish(db, staff, slug, spec, today + timedelta(days=spec[5]))
        for resident_id in rng.sample(resident_ids, k=min(4, len(resident_ids))):
            pay = await credentials.new_pay_code(db, _resident(staff, resident_id))
            await checkin.record_attendance(db, staff, activity_id, pay.code)
            attended.append(resident_id)
        await checkin.settle(db, staff, activity_id)
    for resident_id in list(dict.fromkeys(attended))[:ON_RANKING]:
        await preferences.set_ranking_opt_in(db, _resident(staff, resident_id), True)
    now_on = ("社区花园认领种植", "adding_to_good", 12, 10, "社区小花园", 0)
    activity_id = await _publish(db, staff, slug, now_on, today - timedelta(minutes=30))
    signed = rng.sample(resident_ids, k=min(4, len(resident_ids)))
    for resident_id in signed:
        await signups.sign_up(db, _resident(staff, resident_id), activity_id)
    code = (await checkin.checkin_code(db, staff, activity_id)).code
    for resident_id in signed[:2]:
        await checkin.check_in(db, _resident(staff, resident_id), activity_id, code)
    for spec in UPCOMING:
        activity_id = await _publish(db, staff, slug, spec, today + timedelta(days=spec[5]))
        for resident_id in rng.sample(resident_ids, k=min(spec[3] + 2, len(resident_ids))):
            await signups.sign_up(db, _resident(staff, resident_id), activity_id)
    return []
