"""The audit log: every privileged action, who did it, when and from where. Append-only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ledger import Connection
from mall.auth import Principal


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
    await conn.execute(
        "INSERT INTO mall_audit (at, community, user_id, action, target, detail, ip) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        datetime.now(UTC),
        community_id,
        principal.user_id if principal else None,
        action,
        target,
        json.dumps(detail, ensure_ascii=False, default=str),
        ip,
    )


async def entries(
    conn: Connection, community_id: int, *, limit: int = 50, before: int | None = None
) -> list[Entry]:
    rows = await conn.fetch(
        "SELECT a.id, a.at, a.action, a.target, a.detail, a.ip, u.username FROM mall_audit a "
        "LEFT JOIN mall_user u ON u.id = a.user_id WHERE a.community = ? AND a.id < ? "
        "ORDER BY a.id DESC LIMIT ?",
        community_id,
        before or 2**31 - 1,
        max(1, min(limit, 200)),
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
