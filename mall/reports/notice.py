"""The public notice board (公示): every posted or reversed award of a community, one entry per
resident, with the name masked (张晓明 → 张**) and the day until which anyone may object.

Public: no sign-in, so it must never return a full name, phone or resident id. The entry's id is
the award line's, which names an award and a resident only to staff, who can read both anyway.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal

import msgspec

from ledger import Connection, Row
from mall import access, days
from mall import query as q
from mall import tables as t
from mall.db import Database
from mall.earning.award_records import POSTED, REVERSED
from mall.earning.rules import Path
from mall.errors import NotFound
from mall.org import policy

DEFAULT_DAYS = 7
#: the longest range one request may ask for, and the most entries it returns
MAX_DAYS = 92
MAX_ENTRIES = 500

#: Two-character surnames kept whole when masking (欧阳娜娜 → 欧阳**). A plain list of the common
#: ones rather than a dictionary of every surname: a rare compound surname loses its second
#: character to a ``*``, which hides more, never less.
_COMPOUND = (
    "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 令狐 司徒 司空 夏侯 长孙 宇文 轩辕 "
    "端木 独孤 南宫 西门 闻人 澹台 百里 呼延 万俟 申屠 太史 钟离 拓跋 第五"
)
COMPOUND_SURNAMES = frozenset(_COMPOUND.split())

NoticeStatus = Literal["posted", "reversed"]


class NoticeEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One resident's points from one award, as the public reads it."""

    id: int
    at: datetime
    name: str
    """Masked: the surname, then one ``*`` for each other character."""
    path: Path
    rule: str
    """The rule's name."""
    points: int
    objection_until: datetime
    objections: int
    """How many objections residents have made to it."""
    status: NoticeStatus


class Notice(msgspec.Struct, frozen=True, kw_only=True):
    """A community's notice board for the days ``start`` to ``end`` (China time, included)."""

    community: str
    """The community's name (not a person's)."""
    slug: str
    start: date
    end: date
    entries: list[NoticeEntry]


def mask(name: str) -> str:
    """The surname and a ``*`` for each other character: 张晓明 → 张**, 张三 → 张*, 欧阳娜娜 →
    欧阳**. A one-character name still gets one ``*``, and a long one at most three, so the
    mask never shows a whole name nor how long a long one is."""
    name = "".join(name.split())
    if not name:
        return "*"
    keep = 2 if name[:2] in COMPOUND_SURNAMES and len(name) > 2 else 1
    return name[:keep] + "*" * min(3, max(1, len(name) - keep))


def window(start: date | None, end: date | None, *, today: date | None = None) -> tuple[date, date]:
    """The days asked for: by default the last ``DEFAULT_DAYS`` up to today (China time)."""
    return days.window(start, end, default_days=DEFAULT_DAYS, max_days=MAX_DAYS, today=today)


# Hand-written: it orders and filters on COALESCE(decided_at, created_at), which the builder
# cannot say, and counts objections in a correlated subquery.
ENTRY_SQL = (
    "SELECT l.id, l.points, r.name, a.status, a.created_at, a.decided_at, ru.path, "
    "ru.name AS rule, (SELECT COUNT(*) FROM mall_objection o WHERE o.award_line = l.id) "
    "AS objections FROM mall_award_line l JOIN mall_award a ON a.id = l.award "
    "JOIN mall_rule ru ON ru.id = a.rule JOIN mall_resident r ON r.id = l.resident "
)


def posted_at(row: Row) -> datetime:
    """When the award's points were posted: at once, or when a second staff member approved."""
    at: datetime = row["decided_at"] or row["created_at"]
    return at


def entry_of(row: Row, objection_days: int) -> NoticeEntry:
    at = posted_at(row)
    return NoticeEntry(
        id=int(row["id"]),
        at=at,
        name=mask(row["name"]),
        path=row["path"],
        rule=row["rule"],
        points=int(row["points"]),
        objection_until=at + timedelta(days=objection_days),
        objections=int(row["objections"]),
        status=REVERSED if row["status"] == REVERSED else POSTED,
    )


async def _community(conn: Connection, slug: str) -> Row:
    if not access.SLUG.fullmatch(slug):
        raise NotFound()
    c = t.Community
    row = await q.fetchrow(conn, c.select(c.id, c.slug, c.name).where(c.slug == slug))
    if row is None:
        raise NotFound()
    return row


async def notice_board(
    db: Database, slug: str, *, start: date | None = None, end: date | None = None
) -> Notice:
    """The community's notice for the days asked (default the last week), newest first. Anyone
    may read it: no principal. Pending and rejected awards are not on it."""
    start, end = window(start, end)
    async with db.connection() as conn:
        community = await _community(conn, slug)
        objection_days = (await policy.policy_of(conn, community["id"])).objection_days
        rows = await conn.fetch(
            ENTRY_SQL + "WHERE a.community = ? AND a.status IN (?, ?) "
            "AND COALESCE(a.decided_at, a.created_at) >= ? "
            "AND COALESCE(a.decided_at, a.created_at) < ? "
            "ORDER BY COALESCE(a.decided_at, a.created_at) DESC, l.id DESC LIMIT ?",
            community["id"],
            POSTED,
            REVERSED,
            *days.utc_bounds(start, end),
            MAX_ENTRIES,
        )
    entries = sorted(
        (entry_of(r, objection_days) for r in rows), key=lambda e: (e.at, e.id), reverse=True
    )
    return Notice(
        community=community["name"], slug=community["slug"], start=start, end=end, entries=entries
    )


async def find_entry(db: Database, slug: str, entry_id: int) -> NoticeEntry:
    """One entry of the community's notice (posted or reversed), as the public reads it;
    ``not_found`` for another community's, a waiting or rejected award's, or none."""
    if not 0 < entry_id <= access.MAX_ID:
        raise NotFound()
    async with db.connection() as conn:
        community = await _community(conn, slug)
        row = await conn.fetchrow(
            ENTRY_SQL + "WHERE l.id = ? AND a.community = ? AND a.status IN (?, ?)",
            entry_id,
            community["id"],
            POSTED,
            REVERSED,
        )
        if row is None:
            raise NotFound()
        objection_days = (await policy.policy_of(conn, community["id"])).objection_days
    return entry_of(row, objection_days)
