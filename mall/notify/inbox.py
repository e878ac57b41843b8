"""Each resident's inbox (消息): ``post`` writes one message inside the caller's transaction (the
service that posts the event calls it, so the message and the event commit together or not at
all); a message with a ``key`` is written once per resident and key, whoever tries twice. The
resident reads their own messages and marks them read; nobody else reads them.

Announcements reach residents registered later too: before a resident's messages or unread
count are read, ``catch_up`` writes them the community's announcements of their scope from the
last ``CATCH_UP`` that they have no message of (registered, moved into the grid or building, or
reopened since it was sent). Read at inbox time, it covers every way a resident arrives (a new
record, an import, a move) in this one place, and each copy keeps its own read state.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from ledger import Connection, Row
from mall import access, days
from mall import query as q
from mall import tables as t
from mall.db import Database
from mall.errors import N_, Invalid
from mall.notify import kinds

#: messages one page shows, newest first
PAGE = 50
MAX_PAGE = 200
#: how far back a resident registered (or moved) later still finds the announcements of their scope
CATCH_UP = timedelta(days=30)


class Message(msgspec.Struct, frozen=True, kw_only=True):
    """One message: ``title`` and ``body`` are message ids to fill from ``params`` in the
    reader's language, except an announcement's (``literal``), which are shown as written."""

    id: int
    at: datetime
    kind: str
    title: str
    body: str
    params: dict[str, Any]
    read: bool
    literal: bool


def now() -> datetime:
    return datetime.now(UTC)


def moment(at: datetime) -> str:
    """A moment as a message shows it: China time, to the minute."""
    return at.astimezone(days.CALENDAR).strftime("%Y-%m-%d %H:%M")


def _params(params: dict[str, Any]) -> str:
    return msgspec.json.encode(
        {k: v if isinstance(v, int) else str(v) for k, v in params.items()}
    ).decode()


async def post(
    conn: Connection,
    *,
    community_id: int,
    resident_id: int,
    kind: str,
    key: str | None = None,
    at: datetime | None = None,
    **params: Any,
) -> bool:
    """Write one message of ``kind`` (``mall.notify.kinds``) to a resident's inbox, in the
    caller's transaction; its words come from the kind, filled from ``params`` when shown.
    With ``key``, only the first message of that key for that resident is written (the others
    are dropped quietly). Returns whether it was written."""
    title, body = kinds.WORDS[kind]
    m = t.Message
    new = m(
        community=community_id,
        resident=resident_id,
        kind=kind,
        title=title,
        body=body,
        params=_params(params),
        key=key,
        created_at=at or now(),
    )
    if key is None:
        await q.execute(conn, m.insert(new))
        return True
    written = await q.fetch(
        conn,
        m.insert(new).on_conflict(target=(m.resident, m.key), action="DO NOTHING").returning(m.id),
    )
    return bool(written)


async def post_each(
    conn: Connection,
    community_id: int,
    lines: Sequence[tuple[int, int]],
    kind: str,
    **params: Any,
) -> None:
    """One message to each ``(resident, points)`` of ``lines``, with ``points`` among the params
    (an award or its reversal, to every resident on it)."""
    for resident_id, points in lines:
        await post(
            conn,
            community_id=community_id,
            resident_id=resident_id,
            kind=kind,
            points=points,
            **params,
        )


def _message(row: Row) -> Message:
    return Message(
        id=int(row["id"]),
        at=row["created_at"],
        kind=row["kind"],
        title=row["title"],
        body=row["body"],
        params=msgspec.json.decode(row["params"] or "{}"),
        read=row["read_at"] is not None,
        literal=row["kind"] == kinds.ANNOUNCEMENT,
    )


async def catch_up(db: Database, resident_id: int, at: datetime | None = None) -> int:
    """Write ``resident_id`` the announcements of their community, grid and building from the
    last ``CATCH_UP`` they have no message of (a closed record gets none); how many. Each copy
    is keyed by its announcement, so two readers at once write it once; it keeps the time the
    announcement was sent. Reads only, unless something is missing."""
    at = at or now()
    r, a, m = t.Resident, t.Announcement, t.Message
    async with db.connection() as conn:
        me = await q.fetchrow(
            conn,
            r.select(r.community, r.grid, r.building, r.closed_at).where(r.id == resident_id),
        )
        if me is None or me["closed_at"] is not None:
            return 0
        scope = (a.community == me["community"]) & (a.created_at >= at - CATCH_UP)
        scope &= a.grid.is_null() | (a.grid == me["grid"]) if me["grid"] else a.grid.is_null()
        scope &= (
            a.building.is_null() | (a.building == me["building"])
            if me["building"]
            else a.building.is_null()
        )
        sent = await q.fetch(conn, a.select(a.id, a.title, a.body, a.created_at).where(scope))
        if not sent:
            return 0
        have = await q.fetch(
            conn,
            m.select(m.announcement).where(
                (m.resident == resident_id) & m.announcement.is_in([int(x["id"]) for x in sent])
            ),
        )
    had = {int(x["announcement"]) for x in have}
    missing = [x for x in sent if int(x["id"]) not in had]
    if not missing:
        return 0
    async with db.transaction() as conn:
        written = await q.fetch(
            conn,
            m.insert(
                *(
                    m(
                        community=me["community"],
                        resident=resident_id,
                        kind=kinds.ANNOUNCEMENT,
                        title=x["title"],
                        body=x["body"],
                        params="{}",
                        key=f"announcement:{x['id']}",
                        announcement=x["id"],
                        created_at=x["created_at"],
                    )
                    for x in missing
                )
            )
            .on_conflict(target=(m.resident, m.key), action="DO NOTHING")
            .returning(m.id),
        )
    return len(written)


class Page(msgspec.Struct, frozen=True, kw_only=True):
    """One page of a resident's inbox and how many of all their messages are unread."""

    messages: list[Message]
    unread: int


async def page(
    db: Database, p: access.Principal | None, *, limit: int = PAGE, before: int | None = None
) -> Page:
    """``messages`` and ``unread`` together, catching up on late announcements once."""
    me = access.resident_self(p)
    await catch_up(db, me.resident_id)
    async with db.connection() as conn:
        found = await _messages(conn, me.resident_id, limit, before)
        return Page(messages=found, unread=await _unread(conn, me.resident_id))


async def messages(
    db: Database, p: access.Principal | None, *, limit: int = PAGE, before: int | None = None
) -> list[Message]:
    """The signed-in resident's own messages, newest first by when they were sent (a late
    announcement, ``catch_up``, by when it was announced), ``before``: after that message of
    theirs in this order (older than that id, if it is not theirs)."""
    me = access.resident_self(p)
    await catch_up(db, me.resident_id)
    async with db.connection() as conn:
        return await _messages(conn, me.resident_id, limit, before)


async def unread(db: Database, p: access.Principal | None) -> int:
    """How many of the signed-in resident's messages are unread."""
    me = access.resident_self(p)
    await catch_up(db, me.resident_id)
    async with db.connection() as conn:
        return await _unread(conn, me.resident_id)


async def _messages(
    conn: Connection, resident_id: int, limit: int, before: int | None
) -> list[Message]:
    m = t.Message
    query = m.select(m.id, m.created_at, m.kind, m.title, m.body, m.params, m.read_at).where(
        m.resident == resident_id
    )
    if before is not None:
        at = await q.fetchval(
            conn, m.select(m.created_at).where((m.id == before) & (m.resident == resident_id))
        )
        query = query.where(
            (m.id < before)
            if at is None
            else (m.created_at < at) | ((m.created_at == at) & (m.id < before))
        )
    query = query.order_by(m.created_at, m.id, ascending=False).limit(max(1, min(limit, MAX_PAGE)))
    return [_message(r) for r in await q.fetch(conn, query)]


async def _unread(conn: Connection, resident_id: int) -> int:
    m = t.Message
    return int(
        await q.fetchval(conn, m.count().where((m.resident == resident_id) & m.read_at.is_null()))
    )


async def mark_read(
    db: Database, p: access.Principal | None, ids: Sequence[int] | None = None
) -> int:
    """Mark the signed-in resident's messages read: those of ``ids`` (others' ids are ignored,
    never touched), or every one when ``ids`` is None. Returns how many were unread before."""
    me = access.resident_self(p)
    if ids is not None:
        if len(ids) > MAX_PAGE or any(
            isinstance(i, bool) or not isinstance(i, int) or not 0 < i <= 2**53 for i in ids
        ):
            raise Invalid(N_("Please check what you entered."))
        if not ids:
            return 0
    if ids is None:  # all of them: the late announcements too
        await catch_up(db, me.resident_id)
    m = t.Message
    mine = (m.resident == me.resident_id) & m.read_at.is_null()
    if ids is not None:
        mine = mine & m.id.is_in(list(ids))
    async with db.transaction() as conn:
        done = await q.fetch(conn, m.update({m.read_at: now()}).where(mine).returning(m.id))
    return len(done)
