"""Demo data for the public notice in `mall demo`: the week's awards are on it already (the
history's last week, and what ``mall.demo.earning.load`` awards now); one resident's objection
waits for staff, and another was dismissed."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from mall.access import ResidentPrincipal, Staff
from mall.db import Database
from mall.reports import objections


async def load(
    db: Database, rng: random.Random, slug: str, staff: Staff, resident_ids: list[int]
) -> list[str]:
    """Two objections to posted entries of other residents: one open, one dismissed."""
    async with db.connection() as conn:
        rows = await conn.fetch(
            "SELECT l.id, l.resident FROM mall_award_line l JOIN mall_award a ON a.id = l.award "
            "WHERE a.community = ? AND a.status = 'posted' AND a.created_at > ? ORDER BY l.id",
            staff.community_id,
            datetime.now(UTC) - timedelta(days=5),  # well inside the week to object
        )
    objector = resident_ids[0]
    entries = [int(r["id"]) for r in rows if r["resident"] != objector]
    me = ResidentPrincipal(
        resident_id=objector, community_id=staff.community_id, community_slug=slug
    )
    reasons = ("没见过他参加这件事，请核实", "这件事是邻居们一起做的，不是他一个人")
    filed = [
        await objections.file(db, me, entry, reason)
        for entry, reason in zip(rng.sample(entries, 2), reasons, strict=True)
    ]
    await objections.decide(
        db, staff, filed[1].id, "dismiss", "已核对签到表和照片，情况属实，积分保留"
    )
    return []
