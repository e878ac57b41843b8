"""Printed cards under four eyes (印卡复核): a card issued while its resident holds points
(``credentials.issue_card``) pays for nothing until a different staff member approves it here,
and who issued and who approved each card, for the resident's pages and the staff's.

The issuer never approves their own card, and nobody approves a card for their own record.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import msgspec

from ledger import Connection
from mall import access
from mall.access import STAFF_ROLES, Principal, audit
from mall.db import Database
from mall.errors import N_, AlreadyExists, Forbidden
from mall.people.lifecycle import check_open

CardStatus = Literal["active", "pending_approval"]


class NothingToApprove(AlreadyExists):
    """No card of the resident waits for approval (none, or approved meanwhile): 409."""

    code = "already_exists"
    message = N_("No card of this resident is waiting for approval.")


class CardState(msgspec.Struct, frozen=True, kw_only=True):
    """The resident's current printed card: whether it pays, who issued it and who approved it."""

    status: CardStatus
    issued_at: datetime
    issued_by: str
    issued_by_id: int | None
    approved_at: datetime | None
    approved_by: str | None


class Approved(msgspec.Struct, frozen=True, kw_only=True):
    resident_id: int
    status: CardStatus


async def current_card(conn: Connection, resident_id: int) -> CardState | None:
    """The resident's live card (not revoked), if they have one."""
    row = await conn.fetchrow(
        "SELECT c.pending, c.created_at, c.created_by, c.approved_at, i.username AS issuer, "
        "a.username AS approver FROM mall_code c LEFT JOIN mall_user i ON i.id = c.created_by "
        "LEFT JOIN mall_user a ON a.id = c.approved_by WHERE c.resident = ? AND c.kind = 'card' "
        "AND c.revoked_at IS NULL ORDER BY c.id DESC LIMIT 1",
        resident_id,
    )
    if row is None:
        return None
    return CardState(
        status="pending_approval" if row["pending"] else "active",
        issued_at=row["created_at"],
        issued_by=row["issuer"] or "",
        issued_by_id=row["created_by"],
        approved_at=row["approved_at"],
        approved_by=row["approver"],
    )


async def card_of(db: Database, p: Principal, resident_id: int) -> CardState | None:
    """The live card of a resident the caller may see (staff, or the resident themselves)."""
    async with db.connection() as conn:
        await access.resident(conn, p, resident_id, (*STAFF_ROLES, "resident"))
        return await current_card(conn, resident_id)


async def approve_card(db: Database, p: Principal, resident_id: int, *, ip: str = "") -> Approved:
    """A second staff member lets the resident's waiting card pay. The one who issued it is
    ``forbidden``; one's own record is ``self_dealing``; a card no longer waiting (approved
    meanwhile, or none) is ``already_exists``. Of two approvals at once, one wins."""
    approver = access.staff(p)
    async with db.transaction() as conn:
        resident = await access.resident(conn, p, resident_id, STAFF_ROLES)
        await access.not_self_dealing(conn, p, [resident_id])
        await check_open(conn, [resident_id])
        card = await conn.fetchrow(
            "SELECT id, created_by FROM mall_code WHERE resident = ? AND kind = 'card' "
            "AND revoked_at IS NULL AND pending = ? ORDER BY id DESC LIMIT 1",
            resident_id,
            True,
        )
        if card is None:
            raise NothingToApprove()
        if card["created_by"] == approver.user_id:
            raise Forbidden(
                N_("You issued this card, so another staff member has to approve it (four eyes).")
            )
        if not await conn.fetchval(  # the one of two approvals at once that did it
            "UPDATE mall_code SET pending = ?, approved_by = ?, approved_at = ? "
            "WHERE id = ? AND pending = ? AND revoked_at IS NULL RETURNING id",
            False,
            approver.user_id,
            datetime.now(UTC),
            card["id"],
            True,
        ):
            raise NothingToApprove()
        await audit.record(
            conn,
            p,
            "card.approve",
            community_id=resident["community"],
            target=f"resident:{resident_id}",
            ip=ip,
            issued_by=card["created_by"],
        )
    return Approved(resident_id=resident_id, status="active")
