"""Demo data for the closed loop and telling residents in `mall demo`: staff's announcements (to
the whole community and to one grid), and the filers' ratings of their resolved submissions.
Every resident's inbox fills by itself from what the other demo areas did (points received and
reversed, decisions, reservations)."""

from __future__ import annotations

import random

from mall.access import ResidentPrincipal, Staff
from mall.db import Database
from mall.earning import ratings
from mall.notify import announcements

NOTICES = (
    (
        "本周六上午社区义诊",
        "12月13日（周六）上午9点到11点，社区卫生服务站的医生在党群服务中心义诊，"
        "量血压、测血糖。\n请带上医保卡。行动不便的老人可以打电话预约上门。",
        None,
    ),
    (
        "第一网格停水通知",
        "因管道检修，第一网格明天上午8点到12点停水，请提前储水。",
        "g1",
    ),
)
#: (stars, comment) for the resolved submissions, oldest first
RATINGS = ((5, "上报第二天就清理了，谢谢网格员"), (4, ""))


async def load(
    db: Database, rng: random.Random, slug: str, staff: Staff, resident_ids: list[int]
) -> list[str]:
    for title, body, grid in NOTICES:
        await announcements.publish(db, staff, slug, title, body, grid=grid)
    async with db.connection() as conn:
        resolved = await conn.fetch(
            "SELECT id, resident FROM mall_submission WHERE community = ? AND status = 'resolved' "
            "ORDER BY id",
            staff.community_id,
        )
    for row, (stars, comment) in zip(resolved, RATINGS, strict=False):
        filer = ResidentPrincipal(
            resident_id=int(row["resident"]), community_id=staff.community_id, community_slug=slug
        )
        await ratings.rate(db, filer, int(row["id"]), stars, comment)
    return []
