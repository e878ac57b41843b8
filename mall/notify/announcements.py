"""Announcements (通知公告): staff write one to their whole community, one grid or one building,
and every resident it reaches (open records only) finds it in their inbox at once. The words are
staff's own, kept as written: every page escapes them where it shows them.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from piccolo.query.methods.select import Select

from ledger import Connection
from mall import access, text
from mall import query as q
from mall import tables as t
from mall.access import STAFF_ROLES, Principal, audit
from mall.db import Database
from mall.errors import N_, Invalid
from mall.notify import kinds
from mall.notify.inbox import now

TITLE_MAX = 100
BODY_MAX = 2000
LIST_MAX = 100


class Announcement(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    title: str
    body: str
    grid: str | None
    """The grid's code when it went to one grid."""
    building: str | None
    """The building when it went to one building."""
    created_at: datetime
    created_by: str | None
    recipients: int
    """Residents whose inbox it reached."""


def _body(value: str | None) -> str:
    body = (value or "").strip()
    if not body or len(body) > BODY_MAX:
        raise Invalid(N_("Please write the text (at most {n} characters)."), n=BODY_MAX)
    if any(ch in body for ch in "\x00\x7f") or any(
        ord(ch) < 32 and ch not in "\n\r\t" for ch in body
    ):
        raise Invalid(N_("Please use ordinary letters, digits and punctuation only."))
    return body


async def publish(
    db: Database,
    p: Principal,
    slug: str,
    title: str,
    body: str,
    *,
    grid: str | None = None,
    building: str | None = None,
    ip: str = "",
) -> Announcement:
    """Staff of the community (or an administrator) announce to the whole community, or only
    to the residents of one grid (its code) or one building (as residents' records name it)."""
    title = text.plain(
        title,
        max_length=TITLE_MAX,
        empty=N_("Please write a short title (at most {n} characters)."),
    )
    body = _body(body)
    grid = (grid or "").strip() or None
    building = text.plain(building, max_length=20, required=False) or None
    async with db.transaction() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES)
        cid = int(community["id"])
        grid_id = None
        if grid is not None:
            g = t.Grid
            grid_id = await q.fetchval(
                conn, g.select(g.id).where((g.community == cid) & (g.code == grid))
            )
            if grid_id is None:
                raise Invalid(N_("No grid with this code in the community."))
        at = now()
        a, r, m = t.Announcement, t.Resident, t.Message
        announcement_id = int(
            await q.fetchval(
                conn,
                a.insert(
                    a(
                        community=cid,
                        grid=grid_id,
                        building=building,
                        title=title,
                        body=body,
                        created_by=p.user_id if p.kind == "user" else None,
                        created_at=at,
                    )
                ).returning(a.id),
            )
        )
        reached = (r.community == cid) & r.closed_at.is_null()
        if grid_id is not None:
            reached = reached & (r.grid == grid_id)
        if building is not None:
            reached = reached & (r.building == building)
        ids = [int(row["id"]) for row in await q.fetch(conn, r.select(r.id).where(reached))]
        for start in range(0, len(ids), 500):
            await q.execute(
                conn,
                m.insert(
                    *(
                        m(
                            community=cid,
                            resident=rid,
                            kind=kinds.ANNOUNCEMENT,
                            title=title,
                            body=body,
                            params="{}",
                            announcement=announcement_id,
                            created_at=at,
                        )
                        for rid in ids[start : start + 500]
                    )
                ),
            )
        await q.execute(conn, a.update({a.recipients: len(ids)}).where(a.id == announcement_id))
        await audit.record(
            conn,
            p,
            "announcement.publish",
            community_id=cid,
            target=f"announcement:{announcement_id}",
            ip=ip,
            title=title,
            grid=grid,
            building=building,
            recipients=len(ids),
        )
        return await _one(conn, announcement_id)


def _select() -> Select[t.Announcement]:
    a = t.Announcement
    return a.select(
        a.id,
        a.title,
        a.body,
        a.grid.code.as_alias("grid"),
        a.building,
        a.created_at,
        a.created_by.username.as_alias("created_by"),
        a.recipients,
    )


async def _one(conn: Connection, announcement_id: int) -> Announcement:
    a = t.Announcement
    row = await q.fetchrow(conn, _select().where(a.id == announcement_id))
    assert row is not None
    return msgspec.convert(dict(row), Announcement)


async def community_announcements(
    db: Database, p: Principal, slug: str, *, limit: int = LIST_MAX
) -> list[Announcement]:
    """The community's announcements, newest first (staff of the community, administrators)."""
    a = t.Announcement
    async with db.connection() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES)
        rows = await q.fetch(
            conn,
            _select()
            .where(a.community == community["id"])
            .order_by(a.id, ascending=False)
            .limit(max(1, min(limit, LIST_MAX))),
        )
    return [msgspec.convert(dict(r), Announcement) for r in rows]
