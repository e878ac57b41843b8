"""The queries behind the statistics (统计): one community's awards, orders, refunds, activities,
volunteer hours, submissions and their ratings between two instants, added up in the database through the query builder.

Each function reads one community and never writes. Balances and stock levels are not here:
they come from the cores' own reads (``mall.org.overview.held_by_residents``,
``catalog.stock_value``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from piccolo.query.functions.aggregate import Count, Sum

from ledger import Connection, Row
from mall import query as q
from mall import tables as t
from mall.earning import hours
from mall.earning.activities import CANCELLED
from mall.earning.award_records import POSTED, REVERSED
from mall.earning.submissions import ACCEPTED, OPEN

A, L, Od, OdL = t.Award, t.AwardLine, t.Order, t.OrderLine
#: an award that was posted (and may since have been reversed): issued, whatever came after
WERE_POSTED = (POSTED, REVERSED)


def _between(column: Any, lo: datetime, hi: datetime) -> Any:
    return (column >= lo) & (column < hi)


def posted_between(award: Any, lo: datetime, hi: datetime) -> Any:
    """The awards of ``award`` (``t.Award`` or a join to it) posted in ``[lo, hi)``: posted at
    once when made (no decision), or when a second staff member approved them."""
    return award.status.is_in(list(WERE_POSTED)) & (
        (award.decided_at.is_null() & _between(award.created_at, lo, hi))
        | (award.decided_at.is_not_null() & _between(award.decided_at, lo, hi))
    )


def _int(value: Any) -> int:
    return int(value or 0)


async def issued_by_path(
    conn: Connection, community: int, lo: datetime, hi: datetime
) -> dict[str, int]:
    rows = await q.fetch(
        conn,
        A.select(A.rule.path.as_alias("path"), Sum(A.total, alias="points"))
        .where((A.community == community) & posted_between(A, lo, hi))
        .group_by(A.rule.path),
    )
    return {r["path"]: _int(r["points"]) for r in rows}


async def issued(conn: Connection, community: int, lo: datetime, hi: datetime) -> int:
    return _int(
        await q.fetchval(
            conn,
            A.select(Sum(A.total)).where((A.community == community) & posted_between(A, lo, hi)),
        )
    )


async def reversed_points(conn: Connection, community: int, lo: datetime, hi: datetime) -> int:
    """Points of the awards reversed in the range (whenever they were posted)."""
    return _int(
        await q.fetchval(
            conn,
            A.select(Sum(A.total)).where(
                (A.community == community)
                & (A.status == REVERSED)
                & _between(A.reversed_at, lo, hi)
            ),
        )
    )


async def earners(conn: Connection, community: int, lo: datetime, hi: datetime) -> int:
    return _int(
        await q.fetchval(
            conn,
            L.select(Count(distinct=[L.resident])).where(
                (L.award.community == community) & posted_between(L.award, lo, hi)
            ),
        )
    )


async def redemptions(
    conn: Connection, community: int, lo: datetime, hi: datetime
) -> tuple[int, int]:
    """Points of every order made in the range (refunds are counted apart), and how many
    residents ordered."""
    row = await q.fetchrow(
        conn,
        Od.select(
            Sum(Od.total, alias="points"), Count(distinct=[Od.resident], alias="people")
        ).where((Od.community == community) & _between(Od.created_at, lo, hi)),
    )
    assert row is not None
    return _int(row["points"]), _int(row["people"])


async def refunded(conn: Connection, community: int, lo: datetime, hi: datetime) -> int:
    """Points given back by refunds in the range, whole orders and chosen lines alike."""
    R = t.Refund
    return _int(
        await q.fetchval(
            conn,
            R.select(Sum(R.points)).where(
                (R.community == community) & _between(R.created_at, lo, hi)
            ),
        )
    )


async def residents(conn: Connection, community: int) -> int:
    """Residents of the community now: closed records (moved away, merged) are not."""
    R = t.Resident
    return _int(
        await q.fetchval(
            conn, R.select(Count()).where((R.community == community) & R.closed_at.is_null())
        )
    )


async def by_rule(
    conn: Connection, community: int, lo: datetime, hi: datetime
) -> list[dict[str, Any]]:
    """``{code, name, path, points}`` of each rule with an award posted in the range."""
    rows = await q.fetch(
        conn,
        A.select(
            A.rule.code.as_alias("code"),
            A.rule.name.as_alias("name"),
            A.rule.path.as_alias("path"),
            Sum(A.total, alias="points"),
        )
        .where((A.community == community) & posted_between(A, lo, hi))
        .group_by(A.rule.code, A.rule.name, A.rule.path),
    )
    return [{**r, "points": _int(r["points"])} for r in rows]


async def by_grid(
    conn: Connection, community: int, lo: datetime, hi: datetime
) -> list[tuple[int | None, int]]:
    """``(grid id or None, points)`` of the residents awarded in the range."""
    rows = await q.fetch(
        conn,
        L.select(L.resident.grid.as_alias("grid"), Sum(L.points, alias="points"))
        .where((L.award.community == community) & posted_between(L.award, lo, hi))
        .group_by(L.resident.grid),
    )
    return [(r["grid"], _int(r["points"])) for r in rows]


async def grids(conn: Connection, community: int) -> list[Row]:
    G = t.Grid
    return await q.fetch(
        conn, G.select(G.id, G.code, G.name).where(G.community == community).order_by(G.code)
    )


async def goods(conn: Connection, community: int, lo: datetime, hi: datetime) -> list[Row]:
    """``{item, name, price_points, quantity}`` of the lines of orders made in the range, by
    item, name and price (a price or name may have changed within the range)."""
    return await q.fetch(
        conn,
        OdL.select(OdL.item, OdL.name, OdL.price_points, Sum(OdL.quantity, alias="quantity"))
        .where((OdL.order.community == community) & _between(OdL.order.created_at, lo, hi))
        .group_by(OdL.item, OdL.name, OdL.price_points),
    )


async def volunteering(
    conn: Connection, community: int, lo: datetime, hi: datetime
) -> tuple[int, int, int]:
    """Activities starting in the range (not cancelled), their sign-ups (confirmed or waiting)
    and their check-ins."""
    Ac, S = t.Activity, t.Signup
    held = _int(
        await q.fetchval(
            conn,
            Ac.select(Count()).where(
                (Ac.community == community)
                & (Ac.status != CANCELLED)
                & _between(Ac.starts_at, lo, hi)
            ),
        )
    )
    of_held = (
        (S.activity.community == community)
        & (S.activity.status != CANCELLED)
        & _between(S.activity.starts_at, lo, hi)
    )
    signups = _int(
        await q.fetchval(conn, S.select(Count()).where(of_held & (S.status != CANCELLED)))
    )
    checkins = _int(
        await q.fetchval(conn, S.select(Count()).where(of_held & S.checked_in_at.is_not_null()))
    )
    return held, signups, checkins


async def submissions(
    conn: Connection, community: int, lo: datetime, hi: datetime, now: datetime
) -> tuple[list[dict[str, Any]], int]:
    """``{kind, status, count}`` of the submissions filed in the range, and how many of them
    are still undecided past their due date at ``now``."""
    S = t.Submission
    filed = (S.community == community) & _between(S.created_at, lo, hi)
    rows = await q.fetch(
        conn, S.select(S.kind, S.status, Count()).where(filed).group_by(S.kind, S.status)
    )
    overdue = await q.fetchval(
        conn,
        S.select(Count()).where(filed & S.status.is_in([OPEN, ACCEPTED]) & (S.due_at <= now)),
    )
    return [{**r, "count": _int(r["count"])} for r in rows], _int(overdue)


async def ratings(conn: Connection, community: int, lo: datetime, hi: datetime) -> tuple[int, int]:
    """How many ratings of resolved submissions residents gave in the range, and their stars
    added up."""
    R = t.SubmissionRating
    row = await q.fetchrow(
        conn,
        R.select(Count(alias="ratings"), Sum(R.stars, alias="stars")).where(
            (R.community == community) & _between(R.created_at, lo, hi)
        ),
    )
    assert row is not None
    return _int(row["ratings"]), _int(row["stars"])


async def hours_by_path(
    conn: Connection, community: int, lo: datetime, hi: datetime
) -> dict[str, int]:
    """Tenths of volunteer hours by path, of the activities settled in the range (each
    attendee's own hours, as settlement wrote them)."""
    S = t.Signup
    rows = await q.fetch(
        conn,
        S.select(S.activity.path.as_alias("path"), Sum(S.hours_tenths, alias="tenths"))
        .where(
            (S.activity.community == community)
            & hours.settled_hours(S)
            & _between(S.activity.settled_at, lo, hi)
        )
        .group_by(S.activity.path),
    )
    return {r["path"]: _int(r["tenths"]) for r in rows}
