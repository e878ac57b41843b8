"""The audit log: every privileged action, who did it, when and from where. Append-only.

Reading it, and checking the ledger, are scoped here like every other read (``community_log``,
``check_ledger``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import catalog
import ledger
from ledger import Connection
from mall import access
from mall import query as q
from mall import tables as t
from mall.access.principal import Principal, acting_user_id
from mall.db import Database


@dataclass(frozen=True)
class Entry:
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    detail: dict[str, Any]
    ip: str


async def record(
    conn: Connection,
    principal: Principal | None,
    action: str,
    *,
    community_id: int | None,
    target: str = "",
    ip: str = "",
    **detail: Any,
) -> None:
    entry = t.AuditEntry(
        at=datetime.now(UTC),
        community=community_id,
        user_id=acting_user_id(principal),
        action=action,
        target=target,
        detail=json.dumps(detail, ensure_ascii=False, default=str),
        ip=ip,
    )
    await q.execute(conn, t.AuditEntry.insert(entry))


async def entries(
    conn: Connection, community_id: int, *, limit: int = 50, before: int | None = None
) -> list[Entry]:
    a = t.AuditEntry
    rows = await q.fetch(
        conn,
        a.select(
            a.id, a.at, a.action, a.target, a.detail, a.ip, a.user_id.username.as_alias("username")
        )
        .where((a.community == community_id) & (a.id < (before or 2**31 - 1)))
        .order_by(a.id, ascending=False)
        .limit(max(1, min(limit, 200))),
    )
    return [
        Entry(
            r["id"],
            r["at"],
            r["username"] or "",
            r["action"],
            r["target"],
            json.loads(r["detail"] or "{}"),
            r["ip"],
        )
        for r in rows
    ]


@dataclass(frozen=True)
class Page:
    entries: list[Entry]
    next: int | None
    """Pass as ``before`` to read the next (older) page; ``None`` on the last page."""


async def community_log(
    db: Database, p: Principal, slug: str, *, limit: int = 50, before: int | None = None
) -> Page:
    """A community's audit log, newest first (its staff and street administrators)."""
    limit = max(1, min(limit, 200))
    before = access.cursor(before)
    async with db.connection() as conn:
        community = await access.community(conn, p, slug, ["admin", "staff"])
        found = await entries(conn, community["id"], limit=limit + 1, before=before)
    page = found[:limit]
    return Page(page, page[-1].id if len(found) > limit else None)


async def check_ledger(db: Database, p: Principal) -> ledger.Report:
    """Every consistency check of ``mall verify``, over every book (street administrators)."""
    access.require(p, ["admin"])
    async with db.connection() as conn:
        return await ledger.verify_ledger(conn)


async def check_stock(db: Database, p: Principal) -> catalog.StockReport:
    """The stock half of ``mall verify``: every level against its movements (administrators)."""
    access.require(p, ["admin"])
    async with db.connection() as conn:
        return await catalog.verify_stock(conn)
