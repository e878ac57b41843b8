"""Awards as staff read them: one award with its residents, a community's list (newest first) and
how many wait for approval; and the statuses an award goes through. Never writes: making and
deciding an award is ``mall.earning.awards``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

import msgspec
from piccolo.query.methods.select import Select

from ledger import Connection, Row
from mall import access
from mall import query as q
from mall import tables as t
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


def _select_awards() -> Select[t.Award]:
    """An award with the names of its maker, decider and reverser, its rule and community
    (outer joins throughout: maker, rule and community are never null, so no row is lost)."""
    a = t.Award
    return a.select(
        a.id,
        a.memo,
        a.points_each,
        a.total,
        a.status,
        a.created_at,
        a.decided_at,
        a.rejection_reason,
        a.reversed_at,
        a.reversal_reason,
        a.reversed_by.username.as_alias("reverser"),
        a.journal_id,
        a.created_by,
        a.created_by.username.as_alias("maker"),
        a.decided_by.username.as_alias("decider"),
        a.rule.code.as_alias("rule"),
        a.rule.name.as_alias("rule_name"),
        a.rule.path.as_alias("path"),
        a.community.slug.as_alias("community"),
    )


async def _with_lines(conn: Connection, rows: Sequence[Row]) -> list[Award]:
    if not rows:
        return []
    line = t.AwardLine
    lines = await q.fetch(
        conn,
        line.select(
            line.award, line.resident.id.as_alias("id"), line.resident.name.as_alias("name")
        )
        .where(line.award.is_in([a["id"] for a in rows]))
        .order_by(line.id),
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
        a = t.Award
        query = _select_awards().where(a.community == community["id"])
        if status:
            query = query.where(a.status == status)
        query = query.order_by(a.id, ascending=False).limit(max(1, min(limit, 200)))
        return await _with_lines(conn, await q.fetch(conn, query))


async def get_award(db: Database, p: Principal, award_id: int) -> Award:
    """One award with its residents (staff of its community); anyone else's is ``not_found``."""
    access.require(p, STAFF_ROLES)
    if not 0 < award_id <= access.MAX_ID:
        raise NotFound()
    async with db.connection() as conn:
        row = await q.fetchrow(conn, _select_awards().where(t.Award.id == award_id))
        if row is None:
            raise NotFound()
        if not p.is_admin and row["community"] != p.community_slug:
            raise NotFound()
        return (await _with_lines(conn, [row]))[0]


async def count_pending(db: Database, p: Principal, slug: str) -> int:
    """How many of the community's awards wait for a second staff member (staff)."""
    async with db.connection() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES)
        a = t.Award
        return int(
            await q.fetchval(
                conn, a.count().where((a.community == community["id"]) & (a.status == PENDING))
            )
        )
