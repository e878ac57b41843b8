"""Printed cards under four eyes (印卡复核): a card issued while its resident holds points
(``credentials.issue_card``) pays for nothing until a different staff member approves it here,
and who issued and who approved each card, for the resident's pages and the staff's; a card
locked after too many wrong PINs, and staff unlocking it (解锁).

The issuer never approves their own card, and nobody approves or unlocks a card for their own
record.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import msgspec
from piccolo.custom_types import Combinable

from ledger import Connection
from mall import access
from mall import query as q
from mall import tables as t
from mall.access import STAFF_ROLES, Principal, audit
from mall.db import Database
from mall.errors import N_, AlreadyExists, Forbidden
from mall.people.credentials import MAX_WRONG_PINS
from mall.people.lifecycle import check_open

CardStatus = Literal["active", "pending_approval"]


class NothingToApprove(AlreadyExists):
    """No card of the resident waits for approval (none, or approved meanwhile): 409."""

    code = "already_exists"
    message = N_("No card of this resident is waiting for approval.")


class NothingToUnlock(AlreadyExists):
    """The resident's card is not locked (never was, unlocked meanwhile, or no card): 409."""

    code = "already_exists"
    message = N_("This resident's card is not locked.")


class CardState(msgspec.Struct, frozen=True, kw_only=True):
    """The resident's current printed card: whether it pays, who issued it and who approved it,
    and whether wrong PINs locked it (``wrong_pins`` in a row, ``MAX_WRONG_PINS`` locks it)."""

    status: CardStatus
    issued_at: datetime
    issued_by: str
    issued_by_id: int | None
    approved_at: datetime | None
    approved_by: str | None
    wrong_pins: int = 0
    locked: bool = False


class Approved(msgspec.Struct, frozen=True, kw_only=True):
    resident_id: int
    status: CardStatus


def _live_card(resident_id: int) -> Combinable:
    """The resident's printed cards that have not been revoked."""
    c = t.Code
    return (c.resident == resident_id) & (c.kind == "card") & c.revoked_at.is_null()


async def current_card(conn: Connection, resident_id: int) -> CardState | None:
    """The resident's live card (not revoked), if they have one."""
    c = t.Code
    row = await q.fetchrow(
        conn,
        c.select(
            c.pending,
            c.created_at,
            c.created_by,
            c.approved_at,
            c.failed_pins,
            c.created_by.username.as_alias("issuer"),
            c.approved_by.username.as_alias("approver"),
        )
        .where(_live_card(resident_id))
        .order_by(c.id, ascending=False)
        .first(),
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
        wrong_pins=int(row["failed_pins"]),
        locked=int(row["failed_pins"]) >= MAX_WRONG_PINS,
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
        c = t.Code
        card = await q.fetchrow(
            conn,
            c.select(c.id, c.created_by)
            .where(_live_card(resident_id) & (c.pending == True))  # noqa: E712 (SQL, not Python)
            .order_by(c.id, ascending=False)
            .first(),
        )
        if card is None:
            raise NothingToApprove()
        if card["created_by"] == approver.user_id:
            raise Forbidden(
                N_("You issued this card, so another staff member has to approve it (four eyes).")
            )
        approval = c.update(
            {c.pending: False, c.approved_by: approver.user_id, c.approved_at: datetime.now(UTC)}
        ).where((c.id == card["id"]) & (c.pending == True) & c.revoked_at.is_null())  # noqa: E712
        if not await q.fetchval(
            conn, approval.returning(c.id)
        ):  # the one of two at once that did it
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


async def unlock_card(db: Database, p: Principal, resident_id: int, *, ip: str = "") -> None:
    """Staff of the resident's community unlock the card that wrong PINs locked: its count of
    wrong PINs goes back to zero, audited (``card.unlock``). One's own record is
    ``self_dealing``; a card that is not locked (or none) is ``already_exists``."""
    access.staff(p)
    async with db.transaction() as conn:
        resident = await access.resident(conn, p, resident_id, STAFF_ROLES)
        await access.not_self_dealing(conn, p, [resident_id])
        await check_open(conn, [resident_id])
        c = t.Code
        unlocked = await q.fetchval(
            conn,
            c.update({c.failed_pins: 0})
            .where(_live_card(resident_id) & (c.failed_pins >= MAX_WRONG_PINS))
            .returning(c.id),
        )
        if not unlocked:
            raise NothingToUnlock()
        await audit.record(
            conn,
            p,
            "card.unlock",
            community_id=resident["community"],
            target=f"resident:{resident_id}",
            ip=ip,
        )
