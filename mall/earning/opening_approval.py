"""Deciding a batch of opening balances (期初积分): a staff member of the community other than the
one who uploaded it approves it, and each resident's points go from the community's budget to
their wallet by one journal each, all in one transaction, and each finds a "points received"
message in their inbox (written in that transaction); or any staff member rejects it.

Nobody mints alone: the uploader cannot approve (four eyes), nor can a user whose own resident
record is in the batch (``self_dealing``). Once per resident ever: ``mall_opening_given``'s
primary key, claimed before anything is posted, and the ledger's idempotency key per resident.
"""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

import ledger
from ledger import Connection, Row
from mall import access, text
from mall import query as q
from mall import tables as t
from mall.access import Admin, Principal, Staff, audit
from mall.db import Database
from mall.earning.openings import APPROVED, PENDING, REJECTED, BatchStatus
from mall.errors import N_, AlreadyExists, BudgetExhausted, Forbidden, NotFound
from mall.notify import inbox, kinds
from mall.org import points
from mall.people import lifecycle

KIND = "opening"
"""The ledger journal kind; the passbook reads it as 期初积分."""


class Decided(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    status: BatchStatus
    posted: int = 0
    """Residents whose opening balance was posted."""
    total: int = 0


class AlreadyDecided(AlreadyExists):
    """Deciding a batch no longer waiting: ``already_exists`` (409)."""

    message = N_("This batch has already been decided.")


class AlreadyGiven(AlreadyExists):
    """A resident of the batch was given an opening balance meanwhile: ``already_exists``."""

    message = N_("{name} already has an opening balance; nothing in this batch was posted.")


def now() -> datetime:
    return datetime.now(UTC)


def memo(passbook: str) -> str:
    """What the passbook shows beside 期初积分: the paper passbook's number."""
    return f"存折号 {passbook}"


async def _pending(conn: Connection, p: Staff | Admin, batch_id: int) -> Row:
    """The batch waiting for a decision, locked on PostgreSQL; another community's (or none)
    is ``not_found``."""
    if not 0 < batch_id <= access.MAX_ID:
        raise NotFound()
    lock = " FOR UPDATE" if conn.dialect == "postgres" else ""
    # FOR UPDATE: the builder has no row locks; the second of two approvals waits here
    row = await conn.fetchrow(
        "SELECT b.id, b.community, b.status, b.created_by, b.total, c.book "
        f"FROM mall_opening_batch b JOIN mall_community c ON c.id = b.community "
        f"WHERE b.id = ?{lock}",
        batch_id,
    )
    if row is None or (not p.is_admin and row["community"] != p.community_id):
        raise NotFound()
    if row["status"] != PENDING:
        raise AlreadyDecided()
    return row


async def approve(db: Database, p: Principal | None, batch_id: int, *, ip: str = "") -> Decided:
    """Post the batch: for each resident one journal budget → wallet, with the passbook's
    number in the memo. Refusals, with nothing posted: the uploader (``forbidden``), a user
    whose own record is in the batch (``self_dealing``), a closed record (``account_closed``),
    a resident given an opening balance meanwhile (``already_exists``), a budget short of the
    batch's total (``budget_exhausted``), a batch already decided (``already_exists``)."""
    user = access.staff(p)
    if user.user_id is None:
        raise Forbidden()
    async with db.transaction() as conn:
        found = await _pending(conn, user, batch_id)
        if found["created_by"] == user.user_id:
            raise Forbidden(
                N_(
                    "You uploaded this batch, so another staff member has to approve it (four eyes)."
                )
            )
        lines = await q.fetch(
            conn,
            t.OpeningLine.select(
                t.OpeningLine.id,
                t.OpeningLine.resident,
                t.OpeningLine.resident.name,
                t.OpeningLine.passbook,
                t.OpeningLine.points,
            )
            .where(t.OpeningLine.batch == batch_id)
            .order_by(t.OpeningLine.id),
        )
        ids = [int(line["resident"]) for line in lines]
        await access.not_self_dealing(conn, user, ids)
        await lifecycle.check_open(conn, ids)
        total = sum(int(line["points"]) for line in lines)
        left = (await ledger.get_balance(conn, found["book"], points.BUDGET)).balance
        if left < total:
            raise BudgetExhausted(
                N_("The community's budget has {left} points left; this batch needs {total}."),
                left=left,
                total=total,
            )
        for line in lines:
            await _claim(conn, line)
            journal = await ledger.post_journal(
                conn,
                found["book"],
                KIND,
                [
                    (points.BUDGET, -int(line["points"])),
                    (points.wallet(line["resident"]), int(line["points"])),
                ],
                idempotency_key=f"opening:r{line['resident']}",
                memo=memo(line["passbook"]),
            )
            await q.execute(
                conn,
                t.OpeningLine.update({t.OpeningLine.journal_id: journal.id}).where(
                    t.OpeningLine.id == line["id"]
                ),
            )
            await inbox.post(  # as an award does, in the same transaction
                conn,
                community_id=found["community"],
                resident_id=int(line["resident"]),
                kind=kinds.POINTS_RECEIVED,
                points=int(line["points"]),
                memo=f"期初积分，{memo(line['passbook'])}",
            )
        await _decide(conn, batch_id, APPROVED, user.user_id, "")
        await audit.record(
            conn,
            user,
            "opening.approve",
            community_id=found["community"],
            target=f"opening:{batch_id}",
            ip=ip,
            residents=len(lines),
            total=total,
        )
    return Decided(id=batch_id, status=APPROVED, posted=len(lines), total=total)


async def _claim(conn: Connection, line: Row) -> None:
    """Mark the resident as given, or ``AlreadyGiven``: the primary key holds whatever races."""
    # ON CONFLICT DO NOTHING RETURNING, written as both engines read it
    claimed = await conn.fetchval(
        "INSERT INTO mall_opening_given (resident, line) VALUES (?, ?) "
        "ON CONFLICT (resident) DO NOTHING RETURNING resident",
        line["resident"],
        line["id"],
    )
    if claimed is None:
        raise AlreadyGiven(name=line["resident.name"])


async def reject(
    db: Database, p: Principal | None, batch_id: int, reason: str, *, ip: str = ""
) -> Decided:
    """Turn a waiting batch down (any staff member of the community, the uploader too:
    withdrawing it). Nothing is posted; its residents may be uploaded again."""
    reason = text.plain(
        reason, max_length=200, empty=N_("Please give the reason (at most {n} characters).")
    )
    user = access.staff(p)
    async with db.transaction() as conn:
        found = await _pending(conn, user, batch_id)
        await _decide(conn, batch_id, REJECTED, user.user_id, reason)
        await audit.record(
            conn,
            user,
            "opening.reject",
            community_id=found["community"],
            target=f"opening:{batch_id}",
            ip=ip,
            reason=reason,
        )
    return Decided(id=batch_id, status=REJECTED)


async def _decide(
    conn: Connection, batch_id: int, status: BatchStatus, user_id: int | None, reason: str
) -> None:
    b = t.OpeningBatch
    await q.execute(
        conn,
        b.update(
            {b.status: status, b.decided_by: user_id, b.decided_at: now(), b.reason: reason}
        ).where(b.id == batch_id),
    )
