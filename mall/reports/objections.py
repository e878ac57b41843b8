"""Objections (异议) to the public notice: a resident of the community objects to an entry while
its window is open; staff uphold it (the award is reversed through ``mall.earning.reversals``,
with the objection as the reason) or dismiss it, with a reply the resident reads.

Never reverses anything itself: upholding goes through the reversal service, in the same
transaction as the decision, so a refused reversal leaves the objection open and nothing changed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import msgspec
from piccolo.columns import Column

from ledger import Connection, Row
from mall import access, text
from mall import query as q
from mall import tables as t
from mall.access import STAFF_ROLES, Principal, audit, throttle
from mall.db import Database, must_exist
from mall.earning import reversals
from mall.earning.award_records import POSTED, REVERSED
from mall.errors import (
    N_,
    AlreadyExists,
    AlreadyReversed,
    Forbidden,
    Invalid,
    NotFound,
    ObjectionClosed,
)
from mall.notify import inbox, kinds
from mall.org import policy
from mall.reports import notice

MAX_REASON = 180
"""An objection's reason fits, after ``REVERSAL_PREFIX``, in a reversal's reason."""
MAX_REPLY = 500
REVERSAL_PREFIX = "异议："
#: staff answer an objection within this many days (the due date on their dashboard)
REPLY_DAYS = 7
#: objections one resident may file a day
DAILY_LIMIT = 10

OPEN: Literal["open"] = "open"
UPHELD: Literal["upheld"] = "upheld"
DISMISSED: Literal["dismissed"] = "dismissed"
ObjectionStatus = Literal["open", "upheld", "dismissed"]
Decision = Literal["uphold", "dismiss"]


class AlreadyDecided(AlreadyExists):
    """Deciding an objection already upheld or dismissed: ``already_exists`` (409)."""

    message = N_("This objection has already been answered.")


class Filed(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    due_at: datetime


class Objection(msgspec.Struct, frozen=True, kw_only=True):
    """An objection as staff read it (with who objected) or as its resident reads it."""

    id: int
    entry_id: int
    award_id: int
    reason: str
    status: ObjectionStatus
    created_at: datetime
    due_at: datetime
    """When staff should have answered by."""
    entry: notice.NoticeEntry
    """The notice entry objected to, as the public sees it."""
    reply: str = ""
    decided_at: datetime | None = None
    objector_id: int | None = None
    """Staff only: the resident who objected, and their name."""
    objector: str = ""


class Decided(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    status: ObjectionStatus


SELECT = (
    "SELECT o.id, o.award_line, o.reason, o.status, o.created_at, o.due_at, o.reply, "
    "o.decided_at, o.resident AS objector_id, ob.name AS objector, l.award, "
    "l.id AS line_id, l.points, r.name, a.status AS award_status, a.created_at AS award_at, "
    "a.decided_at AS award_decided_at, ru.path, ru.name AS rule, "
    "(SELECT COUNT(*) FROM mall_objection x WHERE x.award_line = l.id) AS objections "
    "FROM mall_objection o JOIN mall_resident ob ON ob.id = o.resident "
    "JOIN mall_award_line l ON l.id = o.award_line JOIN mall_award a ON a.id = l.award "
    "JOIN mall_rule ru ON ru.id = a.rule JOIN mall_resident r ON r.id = l.resident "
)


def _objection(row: Row, days: int, *, for_staff: bool) -> Objection:
    entry = notice.entry_of(
        {
            "id": row["line_id"],
            "points": row["points"],
            "name": row["name"],
            "status": row["award_status"],
            "created_at": row["award_at"],
            "decided_at": row["award_decided_at"],
            "path": row["path"],
            "rule": row["rule"],
            "objections": row["objections"],
        },
        days,
    )
    return Objection(
        id=int(row["id"]),
        entry_id=int(row["award_line"]),
        award_id=int(row["award"]),
        reason=row["reason"],
        status=row["status"],
        created_at=row["created_at"],
        due_at=row["due_at"],
        entry=entry,
        reply=row["reply"],
        decided_at=row["decided_at"],
        objector_id=int(row["objector_id"]) if for_staff else None,
        objector=row["objector"] if for_staff else "",
    )


OBJ = t.Objection


async def _community_of(conn: Connection, objection_id: int) -> int | None:
    """The community an objection belongs to, if it exists."""
    found = await q.fetchval(conn, OBJ.select(OBJ.community).where(OBJ.id == objection_id))
    return None if found is None else int(found)


async def file(
    db: Database, p: Principal | None, entry_id: int, reason: str, *, ip: str = ""
) -> Filed:
    """Object to a notice entry (a resident of its community, while its window is open).

    Refusals: ``not_found`` for an entry of another community (or none), ``objection_closed``
    after ``objection_until``, ``already_reversed`` for an entry already reversed,
    ``already_exists`` the second time for the same entry, ``rate_limited`` past
    ``DAILY_LIMIT`` a day, ``validation_error`` for a reason empty or too long."""
    me = access.resident_self(p)
    reason = text.plain(
        reason, max_length=MAX_REASON, empty=N_("Please give your reason (at most {n} characters).")
    )
    if not 0 < entry_id <= access.MAX_ID:
        raise NotFound()
    async with db.transaction() as conn:
        al = t.AwardLine
        line = await q.fetchrow(
            conn,
            al.select(
                al.id,
                al.award,
                al.award.community.as_alias("community"),
                al.award.status.as_alias("status"),
                al.award.created_at.as_alias("created_at"),
                al.award.decided_at.as_alias("decided_at"),
            ).where(al.id == entry_id),
        )
        if (
            line is None
            or line["community"] != me.community_id
            or line["status"] not in (POSTED, REVERSED)
        ):
            raise NotFound()
        if line["status"] == REVERSED:
            raise AlreadyReversed()
        days = (await policy.policy_of(conn, me.community_id)).objection_days
        now = datetime.now(UTC)
        if now > notice.posted_at(line) + timedelta(days=days):
            raise ObjectionClosed()
        await throttle.hit(
            conn, f"objection:r{me.resident_id}", limit=DAILY_LIMIT, window=timedelta(days=1)
        )
        due = now + timedelta(days=REPLY_DAYS)
        o = t.Objection
        objection = o(
            community=me.community_id,
            award_line=entry_id,
            resident=me.resident_id,
            reason=reason,
            status=OPEN,
            created_at=now,
            due_at=due,
            reply="",
        )
        made = await q.fetchval(
            conn,
            o.insert(objection)
            .on_conflict(target=(o.award_line, o.resident), action="DO NOTHING")
            .returning(o.id),
        )
        if made is None:
            raise AlreadyExists(N_("You have already objected to this entry."))
        await audit.record(
            conn,
            me,
            "objection.file",
            community_id=me.community_id,
            target=f"objection:{made}",
            ip=ip,
            entry=entry_id,
            award=line["award"],
            resident=me.resident_id,
        )
    return Filed(id=int(made), due_at=due)


async def _list(conn: Connection, where: str, *args: object, for_staff: bool) -> list[Objection]:
    rows = await conn.fetch(
        SELECT + where + " ORDER BY CASE WHEN o.status = 'open' THEN 0 ELSE 1 END, "
        "o.due_at, o.id DESC LIMIT 200",
        *args,
    )
    community = None if not rows else await _community_of(conn, int(rows[0]["id"]))
    if community is None:
        return []
    days = (await policy.policy_of(conn, community)).objection_days
    return [_objection(r, days, for_staff=for_staff) for r in rows]


async def community_objections(
    db: Database, p: Principal | None, slug: str, *, status: str | None = None
) -> list[Objection]:
    """A community's objections, open ones first by due date, with who objected (its staff)."""
    if status is not None and status not in (OPEN, UPHELD, DISMISSED):
        raise Invalid(N_("Unknown status."))
    p = access.require(p, STAFF_ROLES)
    async with db.connection() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES)
        if status is None:
            return await _list(conn, "WHERE o.community = ?", community["id"], for_staff=True)
        return await _list(
            conn,
            "WHERE o.community = ? AND o.status = ?",
            community["id"],
            status,
            for_staff=True,
        )


async def mine(db: Database, p: Principal | None) -> list[Objection]:
    """The signed-in resident's own objections with staff's replies."""
    me = access.resident_self(p)
    async with db.connection() as conn:
        return await _list(conn, "WHERE o.resident = ?", me.resident_id, for_staff=False)


async def one(db: Database, p: Principal | None, objection_id: int) -> Objection:
    """One objection with who objected (staff of its community); anyone else's is ``not_found``."""
    staff = access.staff(p)
    if not 0 < objection_id <= access.MAX_ID:
        raise NotFound()
    async with db.connection() as conn:
        community = await _community_of(conn, objection_id)
        if community is None or (not staff.is_admin and community != staff.community_id):
            raise NotFound()
        return (await _list(conn, "WHERE o.id = ?", objection_id, for_staff=True))[0]


async def count_open(db: Database, p: Principal | None, slug: str) -> int:
    """How many of the community's objections wait for an answer (staff)."""
    p = access.require(p, STAFF_ROLES)
    async with db.connection() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES)
        return int(
            await q.fetchval(
                conn,
                OBJ.count().where((OBJ.community == community["id"]) & (OBJ.status == OPEN)),
            )
        )


async def decide(
    db: Database,
    p: Principal | None,
    objection_id: int,
    decision: str,
    reply: str,
    *,
    ip: str = "",
) -> Decided:
    """Uphold (reverse the award, with the objection as the reason) or dismiss an objection, with
    a reply the resident reads (staff of its community), once.

    Upholding reverses the whole award through ``reversals.reverse_award``, so its refusals
    (``insufficient_points``, ``already_reversed``, ``self_dealing``) apply and leave the
    objection open. A second decision is ``already_exists``; another community's is
    ``not_found``."""
    staff = access.staff(p)
    if staff.user_id is None:
        raise Forbidden()
    if decision not in ("uphold", "dismiss"):
        raise Invalid(N_("Please choose to uphold or dismiss the objection."))
    reply = text.plain(
        reply, max_length=MAX_REPLY, empty=N_("Please write a reply (at most {n} characters).")
    )
    if not 0 < objection_id <= access.MAX_ID:
        raise NotFound()
    async with db.transaction() as conn:
        found = await _community_of(conn, objection_id)
        if found is None or (not staff.is_admin and found != staff.community_id):
            raise NotFound()
        # hand-written: FOR UPDATE over an inner join (the builder joins LEFT, which PostgreSQL
        # refuses to lock)
        lock = " FOR UPDATE" if conn.dialect == "postgres" else ""
        row = must_exist(
            await conn.fetchrow(
                "SELECT o.id, o.status, o.reason, o.resident, o.award_line, l.award FROM mall_objection o "
                "JOIN mall_award_line l ON l.id = o.award_line WHERE o.id = ?" + lock,
                objection_id,
            )
        )
        if row["status"] != OPEN:
            raise AlreadyDecided()
        status = UPHELD if decision == "uphold" else DISMISSED
        if status == UPHELD:
            await reversals.reverse_award(
                db,
                staff,
                int(row["award"]),
                REVERSAL_PREFIX + row["reason"],
                idempotency_key=f"objection:{objection_id}",
                ip=ip,
            )
        decided: dict[Column | str, Any] = {
            OBJ.status: status,
            OBJ.decided_by: staff.user_id,
            OBJ.decided_at: datetime.now(UTC),
            OBJ.reply: reply,
        }
        await q.execute(conn, OBJ.update(decided).where(OBJ.id == objection_id))
        await inbox.post(
            conn,
            community_id=found,
            resident_id=int(row["resident"]),
            kind=kinds.OBJECTION_UPHELD if status == UPHELD else kinds.OBJECTION_DISMISSED,
            reply=reply,
        )
        await audit.record(
            conn,
            staff,
            "objection.uphold" if status == UPHELD else "objection.dismiss",
            community_id=found,
            target=f"objection:{objection_id}",
            ip=ip,
            entry=row["award_line"],
            award=row["award"],
            reply=reply,
        )
    return Decided(id=objection_id, status=status)
