"""The community's daily approval threshold (审批门槛): what one staff member issues to one
resident in one calendar day (China time), across awards, activity settlements and submission
rewards together, beyond which an award waits for a second staff member. Splitting a large award
into small ones never gets round it: every award of the day counts. Reads only, and locks.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from piccolo.query.functions import Coalesce, Sum

from ledger import Connection
from mall import query as q
from mall import tables as t
from mall.access import Admin, Staff
from mall.earning import rules
from mall.org import policy


async def lock_issuer(conn: Connection, p: Staff | Admin) -> None:
    """Take the issuing staff member's lock (PostgreSQL; SQLite has one writer anyway), so that
    two of their awards at the same moment cannot both read today's total before either adds
    to it. Lock order: the activity (when settling), the issuer, the rule, the award, the
    ledger's accounts."""
    if conn.dialect == "postgres":
        u = t.User
        locked = u.select(u.id).where(u.id == p.user_id).lock_rows("NO KEY UPDATE")
        await q.fetchval(conn, locked)


async def issued_today(
    conn: Connection, issuer: int, resident_ids: Sequence[int], at: datetime
) -> dict[int, int]:
    """Points ``issuer`` gave each resident on ``at``'s calendar day (China time), by any rule,
    activity or submission: posted and pending awards alike, and the building heads' proposals
    ``issuer`` approved (``mall.earning.proposals``): approving one is issuing it."""
    (start, end), _ = rules.day_and_month(at)
    line = t.AwardLine
    rows = await q.fetch(
        conn,
        line.select(line.resident, Coalesce(Sum(line.points), 0, alias="had"))
        .where(
            (
                (line.award.created_by == issuer)
                | (
                    (line.award.decided_by == issuer)
                    & (line.award._.created_by._.role == "building_head")
                )
            )
            & line.award.status.is_in(list(rules.COUNTED))
            & (line.created_at >= start)
            & (line.created_at < end)
            & line.resident.is_in(list(resident_ids))
        )
        .group_by(line.resident),
    )
    return {int(r["resident"]): int(r["had"]) for r in rows}


async def over_daily(
    conn: Connection,
    p: Staff | Admin,
    community_id: int,
    resident_ids: Sequence[int],
    each: int,
    at: datetime,
) -> bool:
    """Whether ``each`` more points from ``p`` would take any of the residents past the
    community's approval threshold for today: then the award waits for a second staff member."""
    limit = (await policy.policy_of(conn, community_id)).approval_threshold
    if each > limit:
        return True
    had = await issued_today(conn, int(p.user_id or 0), resident_ids, at)
    return any(had.get(r, 0) + each > limit for r in resident_ids)
