"""Awards as staff read them: one award with its residents, a community's list (newest first) and
how many wait for approval; and the statuses an award goes through. Never writes: making and
deciding an award is ``mall.earning.awards``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

import msgspec

from ledger import Connection, Row
from mall import access
from mall.access import STAFF_ROLES, Principal
from mall.db import Database
from mall.earning.rules import Path
from mall.errors import N_, Invalid, NotFound

POSTED: Literal["posted"] = "posted"
PENDING: Literal["pending_approval"] = "pending_approval"
REJECTED: Literal["rejected"] = "rejected"
REVERSED: Literal["reversed"] = "reversed"
STATUSES = (POSTED, PENDING, REJECTED, REVERSED)
AwardStatus = Literal["posted", "pending_approval", "rejected", "reversed"]


class AwardedResident(msgspec.Struct, frozen=True, kw_only=True):
    """One resident an award gives points to."""

    id: int
    name: str


class Award(msgspec.Struct, frozen=True, kw_only=True):
    """An award (发积分) with its rule, its maker and decider, and its residents."""

    id: int
    community: str
    """The community's slug."""
    rule: str
    """The rule's code."""
    rule_name: str
    path: Path
    memo: str
    points_each: int
    total: int
    status: AwardStatus
    created_by: int
    maker: str
    decider: str | None
    created_at: datetime
    decided_at: datetime | None
    rejection_reason: str
    journal_id: int | None
    residents: list[AwardedResident]
    reverser: str | None = None
    """Who reversed it (``reversed`` only), with when and why."""
    reversed_at: datetime | None = None
    reversal_reason: str = ""


AWARD_SQL = (
    "SELECT a.id, a.memo, a.points_each, a.total, a.status, a.created_at, a.decided_at, "
    "a.rejection_reason, a.reversed_at, a.reversal_reason, rv.username AS reverser, "
    "a.journal_id, a.created_by, mk.username AS maker, dc.username AS decider, "
    "ru.code AS rule, ru.name AS rule_name, ru.path, c.slug AS community "
    "FROM mall_award a JOIN mall_user mk ON mk.id = a.created_by "
    "LEFT JOIN mall_user dc ON dc.id = a.decided_by LEFT JOIN mall_user rv ON rv.id = a.reversed_by "
    "JOIN mall_rule ru ON ru.id = a.rule "
    "JOIN mall_community c ON c.id = a.community"
)


async def _with_lines(conn: Connection, rows: Sequence[Row]) -> list[Award]:
    if not rows:
        return []
    marks = ", ".join("?" for _ in rows)
    lines = await conn.fetch(
        "SELECT l.award, r.id, r.name FROM mall_award_line l JOIN mall_resident r "
        f"ON r.id = l.resident WHERE l.award IN ({marks}) ORDER BY l.id",
        *[a["id"] for a in rows],
    )
    return [
        Award(
            id=row["id"],
            community=row["community"],
            rule=row["rule"],
            rule_name=row["rule_name"],
            path=row["path"],
            memo=row["memo"],
            points_each=row["points_each"],
            total=row["total"],
            status=row["status"],
            created_by=row["created_by"],
            maker=row["maker"],
            decider=row["decider"],
            created_at=row["created_at"],
            decided_at=row["decided_at"],
            rejection_reason=row["rejection_reason"],
            journal_id=row["journal_id"],
            reverser=row["reverser"],
            reversed_at=row["reversed_at"],
            reversal_reason=row["reversal_reason"],
            residents=[
                AwardedResident(id=line["id"], name=line["name"])
                for line in lines
                if line["award"] == row["id"]
            ],
        )
        for row in rows
    ]


async def list_awards(
    db: Database, p: Principal, slug: str, *, status: str | None = None, limit: int = 50
) -> list[Award]:
    """The community's awards, newest first, with their residents (staff)."""
    if status is not None and status not in STATUSES:
        raise Invalid(N_("Unknown status."))
    async with db.connection() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES)
        sql = AWARD_SQL + " WHERE a.community = ?"
        args: list[Any] = [community["id"]]
        if status:
            sql += " AND a.status = ?"
            args.append(status)
        sql += " ORDER BY a.id DESC LIMIT ?"
        args.append(max(1, min(limit, 200)))
        return await _with_lines(conn, await conn.fetch(sql, *args))


async def get_award(db: Database, p: Principal, award_id: int) -> Award:
    """One award with its residents (staff of its community); anyone else's is ``not_found``."""
    access.require(p, STAFF_ROLES)
    if not 0 < award_id <= access.MAX_ID:
        raise NotFound()
    async with db.connection() as conn:
        row = await conn.fetchrow(AWARD_SQL + " WHERE a.id = ?", award_id)
        if row is None:
            raise NotFound()
        if not p.is_admin and row["community"] != p.community_slug:
            raise NotFound()
        return (await _with_lines(conn, [row]))[0]


async def count_pending(db: Database, p: Principal, slug: str) -> int:
    """How many of the community's awards wait for a second staff member (staff)."""
    async with db.connection() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES)
        return int(
            await conn.fetchval(
                "SELECT COUNT(*) FROM mall_award WHERE community = ? AND status = ?",
                community["id"],
                PENDING,
            )
        )
