"""The street administrator's anomaly list (异常提醒): patterns that deserve a second look, never a
verdict. One issuer paying one resident again and again, awards just under an approval threshold,
cards issued again, and reversals. Reads only; every line names the records it is about.

The dates are calendar days in China time, ``end`` included (as the statistics read them).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Literal

import msgspec

from ledger import Connection, Row
from mall import access, days
from mall import query as q
from mall import tables as t
from mall.access import Principal
from mall.db import Database
from mall.earning.award_records import REJECTED, REVERSED
from mall.org import policy

#: One issuer, one resident: this many awards within ``REPEAT_DAYS`` days is a repeat.
REPEAT_AWARDS = 3
REPEAT_DAYS = 30
#: "Just under" a threshold: within this many per cent below it (the threshold itself included).
NEAR_PERCENT = 10
#: The window when no dates are given, and the longest one asked at once.
DEFAULT_DAYS = 30
MAX_DAYS = 366
ADMIN_ROLES = ("admin",)


class Person(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name: str


class RepeatedPayment(msgspec.Struct, frozen=True, kw_only=True):
    """``REPEAT_AWARDS`` or more awards from one issuer to one resident within ``REPEAT_DAYS``."""

    community: str
    issuer: str
    resident: Person
    award_ids: list[int]
    """Every award of this issuer to this resident in the window, oldest first."""
    points: int
    first_at: datetime
    last_at: datetime


class NearThreshold(msgspec.Struct, frozen=True, kw_only=True):
    """Points just under an approval threshold: one award under its rule's (``source="rule"``),
    or one issuer's day for one resident under the community policy's (``source="policy"``)."""

    source: Literal["rule", "policy"]
    community: str
    issuer: str
    award_ids: list[int]
    points: int
    threshold: int
    rule: str | None
    """The rule's name (``rule`` only)."""
    residents: list[Person]
    at: datetime


class ReissuedCard(msgspec.Struct, frozen=True, kw_only=True):
    """A resident with more than one printed card, the latest issued in the window."""

    community: str
    resident: Person
    cards: int
    last_issued_at: datetime
    last_issued_by: str | None


class ReversedAward(msgspec.Struct, frozen=True, kw_only=True):
    community: str
    award_id: int
    issuer: str
    reverser: str | None
    points: int
    reason: str
    residents: list[Person]
    at: datetime


class Anomalies(msgspec.Struct, frozen=True, kw_only=True):
    start: date
    end: date
    """Included."""
    repeats: list[RepeatedPayment]
    near_threshold: list[NearThreshold]
    cards_reissued: list[ReissuedCard]
    reversals: list[ReversedAward]


def window(start: date | None, end: date | None, *, today: date | None = None) -> tuple[date, date]:
    """The days asked for: by default the last ``DEFAULT_DAYS`` up to today (China time)."""
    return days.window(start, end, default_days=DEFAULT_DAYS, max_days=MAX_DAYS, today=today)


async def policy_approval_threshold(conn: Connection, community_id: int) -> int:
    """The community policy's ``approval_threshold``: what one staff member may issue to one
    resident in one China day before a second staff member must approve."""
    return (await policy.policy_of(conn, community_id)).approval_threshold


async def find(
    db: Database, p: Principal, start: date | None = None, end: date | None = None
) -> Anomalies:
    """Every anomaly in the window, across the street's communities (administrators only)."""
    access.require(p, ADMIN_ROLES)
    first, last = window(start, end)
    lo, hi = days.utc_bounds(first, last)
    async with db.connection() as conn:
        line = t.AwardLine
        lines = await q.fetch(
            conn,
            line.select(
                line.award.as_alias("id"),
                line.award.community.as_alias("community"),
                line.award._.community.slug.as_alias("slug"),
                line.award.created_by.as_alias("created_by"),
                line.award._.created_by.username.as_alias("username"),
                line.award.created_at.as_alias("created_at"),
                line.award.total.as_alias("total"),
                line.resident,
                line.resident.name.as_alias("name"),
                line.points,
            )
            .where(
                (line.award.status != REJECTED)
                & (line.award.created_at >= lo)
                & (line.award.created_at < hi)
            )
            .order_by(line.award, line.id),
        )
        near = await _near_rule(conn, lo, hi, lines)
        near += await _near_policy(conn, lines)
        return Anomalies(
            start=first,
            end=last,
            repeats=_repeats(lines),
            near_threshold=sorted(near, key=lambda n: n.at, reverse=True),
            cards_reissued=await _cards(conn, lo, hi),
            reversals=await _reversals(conn, lo, hi),
        )


def _people(lines: Sequence[Row], award_id: int) -> list[Person]:
    return [Person(id=x["resident"], name=x["name"]) for x in lines if x["id"] == award_id]


def _repeats(lines: Sequence[Row]) -> list[RepeatedPayment]:
    """Pairs of issuer and resident with ``REPEAT_AWARDS`` awards inside some ``REPEAT_DAYS``."""
    pairs: dict[tuple[int, int], list[Row]] = defaultdict(list)
    for line in lines:
        pairs[(line["created_by"], line["resident"])].append(line)
    found = []
    span = timedelta(days=REPEAT_DAYS)
    for rows in pairs.values():
        rows.sort(key=lambda x: x["created_at"])
        times = [x["created_at"] for x in rows]
        n = REPEAT_AWARDS - 1
        if not any(times[i + n] - times[i] <= span for i in range(len(times) - n)):
            continue
        found.append(
            RepeatedPayment(
                community=rows[0]["slug"],
                issuer=rows[0]["username"],
                resident=Person(id=rows[0]["resident"], name=rows[0]["name"]),
                award_ids=[x["id"] for x in rows],
                points=sum(int(x["points"]) for x in rows),
                first_at=times[0],
                last_at=times[-1],
            )
        )
    return sorted(found, key=lambda r: (-len(r.award_ids), r.community, r.issuer))


async def _near_rule(
    conn: Connection, lo: datetime, hi: datetime, lines: Sequence[Row]
) -> list[NearThreshold]:
    """Awards whose total is within ``NEAR_PERCENT`` below their rule's approval threshold."""
    # Hand-written: the builder writes arithmetic on a joined table's column without the join's
    # table ("approval_threshold" * ?), which is not the rule's threshold.
    rows = await conn.fetch(
        "SELECT a.id, a.total, a.created_at, ru.name AS rule, ru.approval_threshold, "
        "u.username, c.slug FROM mall_award a JOIN mall_rule ru ON ru.id = a.rule "
        "JOIN mall_user u ON u.id = a.created_by JOIN mall_community c ON c.id = a.community "
        "WHERE a.status <> ? AND a.created_at >= ? AND a.created_at < ? "
        "AND ru.approval_threshold > 0 AND a.total <= ru.approval_threshold "
        "AND a.total * 100 >= ru.approval_threshold * ? ORDER BY a.id",
        REJECTED,
        lo,
        hi,
        100 - NEAR_PERCENT,
    )
    return [
        NearThreshold(
            source="rule",
            community=r["slug"],
            issuer=r["username"],
            award_ids=[r["id"]],
            points=int(r["total"]),
            threshold=int(r["approval_threshold"]),
            rule=r["rule"],
            residents=_people(lines, r["id"]),
            at=r["created_at"],
        )
        for r in rows
    ]


async def _near_policy(conn: Connection, lines: Sequence[Row]) -> list[NearThreshold]:
    """One issuer's points to one resident in one China day, within ``NEAR_PERCENT`` below the
    community policy's threshold (``policy_approval_threshold``)."""
    by_day: dict[tuple[int, int, int, date], list[Row]] = defaultdict(list)
    for line in lines:
        day = line["created_at"].astimezone(days.CALENDAR).date()
        by_day[(line["community"], line["created_by"], line["resident"], day)].append(line)
    thresholds: dict[int, int] = {}
    found = []
    for (community, _, _, _), rows in by_day.items():
        if community not in thresholds:
            thresholds[community] = await policy_approval_threshold(conn, community)
        threshold = thresholds[community]
        points = sum(int(x["points"]) for x in rows)
        if not threshold or not threshold * (100 - NEAR_PERCENT) <= points * 100 <= threshold * 100:
            continue
        found.append(
            NearThreshold(
                source="policy",
                community=rows[0]["slug"],
                issuer=rows[0]["username"],
                award_ids=[x["id"] for x in rows],
                points=points,
                threshold=threshold,
                rule=None,
                residents=[Person(id=rows[0]["resident"], name=rows[0]["name"])],
                at=max(x["created_at"] for x in rows),
            )
        )
    return found


async def _cards(conn: Connection, lo: datetime, hi: datetime) -> list[ReissuedCard]:
    """Residents with more than one card (``mall_code`` rows of kind ``card``), the newest
    issued in the window."""
    k = t.Code
    issued = k.select(k.resident).where(
        (k.kind == "card") & (k.created_at >= lo) & (k.created_at < hi)
    )
    rows = await q.fetch(
        conn,
        k.select(
            k.resident,
            k.created_at,
            k.resident.name.as_alias("name"),
            k.resident._.community.slug.as_alias("slug"),
            k.created_by.username.as_alias("username"),
        )
        .where((k.kind == "card") & k.resident.is_in(issued))
        .order_by(k.id),
    )
    by_resident: dict[int, list[Row]] = defaultdict(list)
    for row in rows:
        by_resident[row["resident"]].append(row)
    found = []
    for cards in by_resident.values():
        last = cards[-1]
        if len(cards) < 2 or not lo <= last["created_at"] < hi:
            continue
        found.append(
            ReissuedCard(
                community=last["slug"],
                resident=Person(id=last["resident"], name=last["name"]),
                cards=len(cards),
                last_issued_at=last["created_at"],
                last_issued_by=last["username"],
            )
        )
    return sorted(found, key=lambda c: c.last_issued_at, reverse=True)


async def _reversals(conn: Connection, lo: datetime, hi: datetime) -> list[ReversedAward]:
    a = t.Award
    rows = await q.fetch(
        conn,
        a.select(
            a.id,
            a.total,
            a.reversal_reason,
            a.reversed_at,
            a.created_by.username.as_alias("issuer"),
            a.reversed_by.username.as_alias("reverser"),
            a.community.slug.as_alias("slug"),
        )
        .where((a.status == REVERSED) & (a.reversed_at >= lo) & (a.reversed_at < hi))
        .order_by(a.reversed_at, ascending=False),
    )
    people: list[Row] = []
    if rows:
        line = t.AwardLine
        people = await q.fetch(
            conn,
            line.select(
                line.award.as_alias("id"), line.resident, line.resident.name.as_alias("name")
            )
            .where(line.award.is_in([r["id"] for r in rows]))
            .order_by(line.id),
        )
    return [
        ReversedAward(
            community=r["slug"],
            award_id=r["id"],
            issuer=r["issuer"],
            reverser=r["reverser"],
            points=int(r["total"]),
            reason=r["reversal_reason"],
            residents=_people(people, r["id"]),
            at=r["reversed_at"],
        )
        for r in rows
    ]
