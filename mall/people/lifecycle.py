"""A resident's record over its life (居民档案变更): correcting it, closing it (moved away,
deceased) and merging a duplicate into the record that stays.

A closed record keeps its history for staff, and nothing more is done for it: every act on it
is ``account_closed``. Its phone sessions, pay codes and cards stop in the closing transaction,
and the points still available go back to the community's budget by one journal (or, for a
duplicate, into the record it was merged into). Points set aside for reservations are not taken:
the caller hands in ``release``, the reservations service's ``cancel_waiting`` (``mall.counter``
sits above this package, so it is passed in, not imported), which cancels them in the same
transaction and puts the goods back on the shelf; without it, closing a record with reservations
waiting is ``ReservationsWaiting``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Literal

import msgspec
from piccolo.columns import Column

import ledger
from ledger import Connection, Row
from mall import access, text
from mall import query as q
from mall import tables as t
from mall.access import STAFF_ROLES, Principal, audit
from mall.db import Database
from mall.errors import N_, AccountClosed, AlreadyExists, Invalid, MallError, NotFound
from mall.org import points
from mall.people import residents
from mall.people.auth import forget_sessions, revoke_resident_sessions

#: cancels the resident's reservations waiting for pickup, in the caller's transaction
Release = Callable[[Connection, Principal, int], Awaitable[int]]

#: the fields ``update_resident`` changes; any other is ``validation_error``
EDITABLE = ("name", "phone", "grid", "building", "unit")


class ReservationsWaiting(MallError):
    code, status = "validation_error", 409
    message = N_(
        "This resident has {n} reservation(s) waiting for pickup. Cancel them first, so the "
        "goods go back on the shelf, then close the record."
    )


class Closed(msgspec.Struct, frozen=True, kw_only=True):
    """A closed record: ``returned`` points went back to the community's budget."""

    id: int
    returned: int


class Merged(msgspec.Struct, frozen=True, kw_only=True):
    """A duplicate merged into ``into``: ``moved`` points went with it; it is closed now."""

    id: int
    into: int
    moved: int


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
    r = t.Resident
    query = r.select(r.id, r.closed_at).where(r.id.is_in(ids))
    if conn.dialect == "postgres":
        query = query.order_by(r.id).lock_rows(lock)
    rows = await q.fetch(conn, query)
    if any(r["closed_at"] is not None for r in rows):
        raise AccountClosed()


def _reason(reason: str | None) -> str:
    return text.plain(
        reason,
        max_length=200,
        empty=N_("Please give the reason (at most {n} characters)."),
    )


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
        values: dict[Column | str, Any] = {column: v for column, v in clean.items()}
        if "grid" in changes:
            grid = (changes["grid"] or "").strip() or None
            values["grid"] = await residents.grid_id(conn, row["community"], grid)
            clean["grid"] = grid
        r = t.Resident
        if clean.get("phone") and await q.fetchval(
            conn,
            r.exists().where(
                (r.community == row["community"])
                & (r.phone == clean["phone"])
                & (r.id != resident_id)
                & r.closed_at.is_null()
            ),
        ):
            raise AlreadyExists(
                N_(
                    "Another resident of the community has this mobile number. If it is the "
                    "same person, merge the two records."
                )
            )
        if values:
            await q.execute(conn, r.update(values).where(r.id == resident_id))
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
    r = t.Resident
    row = await q.fetchrow(
        conn,
        r.select(r.name, r.phone, r.grid.code.as_alias("grid"), r.building, r.unit).where(
            r.id == resident_id
        ),
    )
    assert row is not None
    return {k: row[k] for k in EDITABLE}


async def close_resident(
    db: Database,
    p: Principal,
    resident_id: int,
    reason: str,
    *,
    release: Release | None = None,
    ip: str = "",
) -> Closed:
    """Close a record: its reservations waiting for pickup are cancelled by ``release`` (without
    it they are ``ReservationsWaiting``), its phone, pay codes and cards stop, and the points
    available then go back to the budget by one journal whose memo gives the reason. Closing
    it again is ``account_closed``."""
    reason = _reason(reason)
    async with db.transaction() as conn:
        row = await access.resident(conn, p, resident_id, STAFF_ROLES)
        await _shut(conn, p, row, reason, merged_into=None, release=release)
        returned = await _move_available(
            conn,
            row,
            points.BUDGET,
            kind="closure",
            key=f"close:r{resident_id}",
            memo=f"账户注销，积分退回预算：{reason}",
        )
        await audit.record(
            conn,
            p,
            "resident.close",
            community_id=row["community"],
            target=f"resident:{resident_id}",
            ip=ip,
            reason=reason,
            returned=returned,
        )
    forget_sessions()
    return Closed(id=resident_id, returned=returned)


async def merge_residents(
    db: Database,
    p: Principal,
    resident_id: int,
    into: int,
    reason: str,
    *,
    release: Release | None = None,
    ip: str = "",
) -> Merged:
    """Merge a duplicate record into the one that stays (an open record of the same community,
    not itself): its available points move by one journal, then it is closed as
    ``close_resident`` closes one. Nobody merges into or out of their own record."""
    reason = _reason(reason)
    async with db.transaction() as conn:
        row = await access.resident(conn, p, resident_id, STAFF_ROLES)
        if into == resident_id:
            raise Invalid(N_("A record cannot be merged into itself."))
        target = await access.resident(conn, p, into, STAFF_ROLES)
        if target["community"] != row["community"]:
            raise NotFound()
        await access.not_self_dealing(conn, p, [resident_id, into])
        if conn.dialect == "postgres":  # both rows, in id order: two merges never deadlock
            r = t.Resident
            both = r.select(r.id).where(r.id.is_in([resident_id, into]))
            await q.fetch(conn, both.order_by(r.id).lock_rows("UPDATE"))
        await _shut(conn, p, row, reason, merged_into=into, release=release)
        await check_open(conn, [into])
        moved = await _move_available(
            conn,
            row,
            points.wallet(into),
            kind="merge",
            key=f"merge:r{resident_id}",
            memo=f"重复档案合并（#{resident_id} → #{into}）：{reason}",
        )
        await audit.record(
            conn,
            p,
            "resident.merge",
            community_id=row["community"],
            target=f"resident:{resident_id}",
            ip=ip,
            into=into,
            reason=reason,
            moved=moved,
        )
    forget_sessions()
    return Merged(id=resident_id, into=into, moved=moved)


async def _shut(
    conn: Connection,
    p: Principal,
    row: Row,
    reason: str,
    *,
    merged_into: int | None,
    release: Release | None,
) -> None:
    """Mark the record closed (its row first: on PostgreSQL that waits for, and then stops,
    anyone who checked it open), cancel its reservations (``release``), then stop its phone
    sessions, pay codes and cards."""
    at = residents.now()
    resident_id = int(row["id"])
    r, c = t.Resident, t.Code
    closing = r.update(
        {r.closed_at: at, r.closed_reason: reason, r.merged_into: merged_into}
    ).where((r.id == resident_id) & r.closed_at.is_null())
    if not await q.fetchval(conn, closing.returning(r.id)):
        raise AccountClosed()
    if release is not None:
        await release(conn, p, resident_id)
    held = t.Reservation
    waiting = await q.fetchval(
        conn, held.count().where((held.resident == resident_id) & (held.status == "held"))
    )
    if waiting:
        raise ReservationsWaiting(n=int(waiting))
    await revoke_resident_sessions(conn, resident_id)
    await q.execute(
        conn,
        c.update({c.revoked_at: at}).where(
            (c.resident == resident_id) & c.used_at.is_null() & c.revoked_at.is_null()
        ),
    )


async def _move_available(
    conn: Connection, row: Row, to: str, *, kind: str, key: str, memo: str
) -> int:
    """Move what the resident has available to account ``to`` by one journal: the amount.

    The balance is read, then posted under the wallet's lock; a checkout that took points in
    between (a card paid just before its code was revoked) makes the post fail with nothing
    written, and the balance is read again."""
    wallet = points.wallet(int(row["id"]))
    for _ in range(5):
        available = (await ledger.get_balance(conn, row["book"], wallet)).balance
        if available <= 0:
            return 0
        try:
            await ledger.post_journal(
                conn,
                row["book"],
                kind,
                [(wallet, -available), (to, available)],
                idempotency_key=key,
                memo=memo,
            )
        except ledger.InsufficientFunds:
            continue
        return int(available)
    raise AssertionError(f"the balance of {wallet} kept changing")
