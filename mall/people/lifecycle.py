"""A resident's record over its life (居民档案变更): correcting it.

A closed record (``closed_at``) keeps its history for staff, and nothing more is done for it:
every act on it is ``account_closed``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from ledger import Connection
from mall import access
from mall.access import STAFF_ROLES, Principal, audit
from mall.db import Database
from mall.errors import N_, AccountClosed, AlreadyExists, Invalid
from mall.people import residents

#: the fields ``update_resident`` changes; any other is ``validation_error``
EDITABLE = ("name", "phone", "grid", "building", "unit")


async def check_open(
    conn: Connection,
    resident_ids: Iterable[int],
    *,
    lock: Literal["SHARE", "NO KEY UPDATE"] = "SHARE",
) -> None:
    """``AccountClosed`` if any of the residents' records is closed.

    On PostgreSQL the rows are locked (``FOR SHARE``, or ``FOR NO KEY UPDATE`` for a caller that
    takes that lock later anyway, as ``mall.counter.basket.check_limits`` does: two callers
    holding SHARE would deadlock there) until the caller's transaction ends, so a record cannot
    be closed between this check and the caller's writes (closing updates the row first, and
    waits); on SQLite the transaction already is the only writer.
    """
    ids = sorted(set(resident_ids))
    if not ids:
        return
    marks = ", ".join("?" for _ in ids)
    locked = f" ORDER BY id FOR {lock}" if conn.dialect == "postgres" else ""
    rows = await conn.fetch(
        f"SELECT id, closed_at FROM mall_resident WHERE id IN ({marks}){locked}", *ids
    )
    if any(r["closed_at"] is not None for r in rows):
        raise AccountClosed()


async def update_resident(
    db: Database,
    p: Principal,
    resident_id: int,
    changes: Mapping[str, str | None],
    *,
    ip: str = "",
) -> residents.Resident:
    """Correct a record: any of ``EDITABLE``, validated as registering does; an empty phone,
    grid, building or unit clears it. A mobile number another open record of the community
    already has is ``already_exists`` (merge the duplicate instead). Audited with before/after."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise Invalid()
    clean: dict[str, str | None] = {}
    if "name" in changes:
        clean["name"] = residents.clean_name(changes["name"])
    if "phone" in changes:
        clean["phone"] = residents.clean_phone(changes["phone"])
    for place in ("building", "unit"):
        if place in changes:
            clean[place] = residents.clean_place(changes[place])
    async with db.transaction() as conn:
        row = await access.resident(conn, p, resident_id, STAFF_ROLES)
        await check_open(conn, [resident_id])
        before = await _record(conn, resident_id)
        values: dict[str, object] = dict(clean)
        if "grid" in changes:
            grid = (changes["grid"] or "").strip() or None
            values["grid"] = await residents.grid_id(conn, row["community"], grid)
            clean["grid"] = grid
        if clean.get("phone") and await conn.fetchval(
            "SELECT id FROM mall_resident WHERE community = ? AND phone = ? AND id <> ? "
            "AND closed_at IS NULL",
            row["community"],
            clean["phone"],
            resident_id,
        ):
            raise AlreadyExists(
                N_(
                    "Another resident of the community has this mobile number. If it is the "
                    "same person, merge the two records."
                )
            )
        if values:
            assignments = ", ".join(f"{column} = ?" for column in values)
            await conn.execute(
                f"UPDATE mall_resident SET {assignments} WHERE id = ?",
                *values.values(),
                resident_id,
            )
        after = await _record(conn, resident_id)
        await audit.record(
            conn,
            p,
            "resident.update",
            community_id=row["community"],
            target=f"resident:{resident_id}",
            ip=ip,
            before={k: before[k] for k in clean},
            after={k: after[k] for k in clean},
        )
    return await residents.get_resident(db, p, resident_id)


async def _record(conn: Connection, resident_id: int) -> dict[str, str | None]:
    row = await conn.fetchrow(
        "SELECT r.name, r.phone, g.code AS grid, r.building, r.unit FROM mall_resident r "
        "LEFT JOIN mall_grid g ON g.id = r.grid WHERE r.id = ?",
        resident_id,
    )
    assert row is not None
    return {k: row[k] for k in EDITABLE}
