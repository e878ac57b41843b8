"""The codes that stand for a resident (凭证): the activation paper that binds a phone, the
printed card with its PIN, and the pay code a phone shows; issuing, checking and using them.

The codes themselves (signed, parsed in constant time) are ``codes``; this module keeps their
rows: who they stand for, when they expire, whether they were used or revoked.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import msgspec

import ledger
from mall import access
from mall.access import STAFF_ROLES, Principal, audit, throttle
from mall.db import Database, must_exist
from mall.errors import (
    N_,
    AccountClosed,
    CardPending,
    CodeExpired,
    CodeInvalid,
    CodeUsed,
    Forbidden,
    Invalid,
)
from mall.people import codes, residents
from mall.people.auth import (
    RESIDENT_SESSION,
    create_session,
    forget_sessions,
    hash_password,
    password_matches,
    revoke_resident_sessions,
)
from mall.settings import get_settings

PIN = re.compile(r"^\d{4,6}$")
ACTIVATION_TTL = timedelta(days=7)
PAY_CODE_TTL = timedelta(seconds=60)
MAX_WRONG_PINS = 5


class CardLocked(Forbidden):
    """A printed card that had ``MAX_WRONG_PINS`` wrong PINs in a row: it pays for nothing until
    staff unlock it (``cards.unlock_card``) or issue a new one."""

    message = N_(
        "Too many wrong PINs: this card is locked. Please ask staff to unlock it on the "
        "resident's page."
    )


class Activation(msgspec.Struct, frozen=True, kw_only=True):
    """An activation paper: the one-time code, the link its QR code opens, and its end."""

    code: str
    url: str
    expires_at: datetime


class Card(msgspec.Struct, frozen=True, kw_only=True):
    """A printed card: the code its QR code holds (the PIN is the resident's), and whether it
    pays (``active``) or waits for a second staff member (``pending_approval``)."""

    card_code: str
    status: Literal["active", "pending_approval"] = "active"


class PayCode(msgspec.Struct, frozen=True, kw_only=True):
    """A pay code the resident's phone shows, valid until ``expires_at`` and for one checkout."""

    code: str
    expires_at: datetime


def now() -> datetime:
    return datetime.now(UTC)


async def insert_code(
    conn: ledger.Connection,
    kind: str,
    ident: str,
    resident_id: int,
    *,
    expires_at: datetime | None = None,
    pin_hash: str | None = None,
    created_by: int | None = None,
    pending: bool = False,
) -> None:
    await conn.execute(
        "INSERT INTO mall_code (kind, ident, resident, created_at, expires_at, pin_hash, "
        "failed_pins, created_by, pending) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)",
        kind,
        ident,
        resident_id,
        now(),
        expires_at,
        pin_hash,
        created_by,
        pending,
    )


async def _reissue(
    db: Database,
    p: Principal,
    resident_id: int,
    kind: str,
    ident: str,
    *,
    action: str,
    ip: str,
    expires_at: datetime | None = None,
    pin_hash: str | None = None,
) -> bool:
    """Revoke the resident's unused codes of ``kind``, issue a new one, and audit it. A card
    also ends the pay codes the counter made for the old one, and while the resident holds
    points it is ``pending`` (the return value) until a second staff member approves it."""
    pending = False
    async with db.transaction() as conn:
        p = access.staff(p)
        resident = await access.resident(conn, p, resident_id, STAFF_ROLES)
        if await conn.fetchval("SELECT closed_at FROM mall_resident WHERE id = ?", resident_id):
            raise AccountClosed()
        if kind == codes.CARD:
            await access.not_self_dealing(conn, p, [resident_id])
            held = await residents.balances(conn, resident["book"], resident_id)
            pending = held.balance > 0
        await conn.execute(
            "UPDATE mall_code SET revoked_at = ? WHERE resident = ? AND (kind = ? OR "
            "(? AND kind = 'pay' AND created_by IS NOT NULL)) AND used_at IS NULL "
            "AND revoked_at IS NULL",
            now(),
            resident_id,
            kind,
            kind == codes.CARD,
        )
        if kind == codes.ACTIVATION:  # a new activation signs out the phone bound before
            await revoke_resident_sessions(conn, resident_id)
        await insert_code(
            conn,
            kind,
            ident,
            resident_id,
            expires_at=expires_at,
            pin_hash=pin_hash,
            created_by=p.user_id,
            pending=pending,
        )
        await audit.record(
            conn,
            p,
            action,
            community_id=resident["community"],
            target=f"resident:{resident_id}",
            ip=ip,
            **({"status": "pending_approval"} if pending else {}),
        )
    if kind == codes.ACTIVATION:
        forget_sessions()
    return pending


async def issue_activation(
    db: Database, p: Principal, resident_id: int, *, ip: str = ""
) -> Activation:
    """A one-time activation code; issuing it signs out the phone bound before."""
    code, ident = codes.new_text_code(get_settings().secret_key, codes.ACTIVATION)
    expires = now() + ACTIVATION_TTL
    await _reissue(
        db,
        p,
        resident_id,
        codes.ACTIVATION,
        ident,
        action="resident.activation",
        ip=ip,
        expires_at=expires,
    )
    return Activation(code=code, url=activation_url(code), expires_at=expires)


def activation_url(code: str) -> str:
    return f"{get_settings().base_url}/a/{code}"


async def code_row(conn: ledger.Connection, code: str, kind: str) -> dict[str, Any]:
    parsed = codes.parse(get_settings().secret_key, code)
    if parsed.kind != kind:
        raise CodeInvalid()
    row = await conn.fetchrow(
        "SELECT c.id, c.resident, c.expires_at, c.used_at, c.revoked_at, c.pin_hash, c.pending, "
        "r.closed_at FROM mall_code c JOIN mall_resident r ON r.id = c.resident "
        "WHERE c.ident = ? AND c.kind = ?",
        parsed.ident,
        kind,
    )
    check_pays(row, now())
    return dict(must_exist(row))


def check_usable(row: ledger.Row | None, at: datetime) -> None:
    """A code row that can still be used at ``at``: else ``account_closed`` (its resident's record
    was closed, which revoked it: said plainly, as only the holder of a signed code learns it),
    ``code_invalid`` (unknown or revoked), ``code_used`` or ``code_expired``. The row has the
    resident's ``closed_at``."""
    if row is not None and row["closed_at"] is not None:
        raise AccountClosed()
    if row is None or row["revoked_at"] is not None:
        raise CodeInvalid()
    if row["used_at"] is not None:
        raise CodeUsed()
    if row["expires_at"] is not None and row["expires_at"] <= at:
        raise CodeExpired()


def check_pays(row: ledger.Row | None, at: datetime) -> None:
    """``check_usable``, and a printed card waiting for a second staff member's approval is
    ``card_pending`` (the row also has the code's ``pending``)."""
    check_usable(row, at)
    if must_exist(row)["pending"]:
        raise CardPending()


async def activate(db: Database, code: str, *, ip: str = "") -> tuple[str, int]:
    """Bind the phone that opened the activation link: ``(session token, resident id)``."""
    async with db.transaction() as conn:
        await throttle.hit(conn, f"activate:ip:{ip}", limit=20, window=timedelta(minutes=10))
    async with db.transaction() as conn:
        row = await code_row(conn, code, codes.ACTIVATION)
        if not await conn.fetchval(  # a phone that opened the link at the same moment won
            "UPDATE mall_code SET used_at = ? WHERE id = ? AND used_at IS NULL RETURNING id",
            now(),
            row["id"],
        ):
            raise CodeUsed()
        await revoke_resident_sessions(conn, row["resident"])
        token = await create_session(
            conn, "resident", resident_id=row["resident"], ttl=RESIDENT_SESSION
        )
        community = await conn.fetchval(
            "SELECT community FROM mall_resident WHERE id = ?", row["resident"]
        )
        await audit.record(
            conn,
            None,
            "resident.activated",
            community_id=community,
            target=f"resident:{row['resident']}",
            ip=ip,
        )
    forget_sessions()
    return token, int(row["resident"])


async def issue_card(
    db: Database, p: Principal, resident_id: int, pin: str, *, ip: str = ""
) -> Card:
    """A printed card (QR + PIN) for a resident without a smartphone; revokes the previous card
    at once. Issued while the resident holds points (a re-issue, usually), it pays for nothing
    until a different staff member approves it (``cards.approve_card``). Nobody issues a card
    for their own record (``self_dealing``)."""
    if not PIN.match(pin or ""):
        raise Invalid(N_("The PIN has 4 to 6 digits."))
    if len(set(pin)) == 1 or pin in "0123456789" or pin in "9876543210":
        raise Invalid(N_("This PIN is too easy to guess. Please choose another."))
    async with db.connection() as conn:
        await access.resident(conn, p, resident_id, STAFF_ROLES)  # before the costly hash
    pin_hash = await hash_password(pin)
    code, ident = codes.new_text_code(get_settings().secret_key, codes.CARD)
    pending = await _reissue(
        db, p, resident_id, codes.CARD, ident, action="resident.card", ip=ip, pin_hash=pin_hash
    )
    return Card(card_code=code, status="pending_approval" if pending else "active")


#: A resident's phone holds at most this many live pay codes; making another revokes the oldest,
#: so nobody piles up codes to use later (codes made at the counter for a card are not counted).
MAX_LIVE_PAY_CODES = 3
_LIVE = (
    "resident = ? AND kind = 'pay' AND created_by IS NULL AND used_at IS NULL "
    "AND revoked_at IS NULL"
)
#: Revokes every live code of the resident older than the newest ``MAX_LIVE_PAY_CODES``: a range
#: of the index of live codes (people/sql/mall_code_live_pay_index.sql), empty but for a race.
#: SQLite (the only engine that runs this statement; PostgreSQL runs mall_new_pay_code) is told
#: which index to use: left to itself it walked every code of the resident's day.
KEEP_LIVE_PAY_CODES = (
    f"UPDATE mall_code INDEXED BY mall_code_live_pay SET revoked_at = ? WHERE {_LIVE} AND id <= ("
    f"SELECT id FROM mall_code INDEXED BY mall_code_live_pay WHERE {_LIVE} "
    f"ORDER BY id DESC LIMIT 1 OFFSET {MAX_LIVE_PAY_CODES})"
)


async def new_pay_code(db: Database, p: Principal) -> PayCode:
    """A fresh pay code for the signed-in resident, valid for about a minute."""
    p = access.resident_self(p)
    code, ident = codes.new_pay_code(get_settings().secret_key)
    at = now()
    expires = at + PAY_CODE_TTL
    if db.dialect == "postgres":  # one round trip, not waiting for the disk (mall_new_pay_code.sql)
        async with db.connection() as conn:
            await conn.execute(
                "SELECT mall_new_pay_code(?, ?, ?, ?)", ident, p.resident_id, at, expires
            )
    else:
        async with db.transaction() as conn:
            await insert_code(conn, codes.PAY, ident, p.resident_id, expires_at=expires)
            await conn.execute(KEEP_LIVE_PAY_CODES, at, p.resident_id, p.resident_id)
    return PayCode(code=code, expires_at=expires)


async def check_activation(db: Database, code: str) -> None:
    """Whether an activation code could still bind a phone, without using it: raises
    ``CodeInvalid``, ``CodeExpired`` or ``CodeUsed`` if not. For the page the link opens, which
    must not bind anything on a GET (link previews open it too)."""
    async with db.connection() as conn:
        await code_row(conn, code, codes.ACTIVATION)


async def activated_phone_of(db: Database, code: str, resident_id: int) -> bool:
    """Whether ``code`` is the used activation code that bound ``resident_id``'s phone: the
    resident re-scanning their own paper, not somebody else scanning a used one."""
    parsed = codes.parse(get_settings().secret_key, code)
    async with db.connection() as conn:
        row = await conn.fetchrow(
            "SELECT resident, used_at FROM mall_code WHERE ident = ? AND kind = ?",
            parsed.ident,
            codes.ACTIVATION,
        )
    return row is not None and row["used_at"] is not None and row["resident"] == resident_id


async def resident_for_card(
    db: Database, p: Principal, card_code: str, pin: str, *, ip: str = ""
) -> int:
    """The resident whose printed card this is, if the PIN is right; for the counter.

    Each try is counted on the card before the PIN is checked, and the count goes back to
    zero when the PIN is right; after ``MAX_WRONG_PINS`` the card is locked (``CardLocked``)
    until staff unlock it (``cards.unlock_card``) or issue a new one; each wrong PIN says how
    many tries are left. Counting first, in one statement, means guesses sent at once cannot all see the
    count before any of them raises it. A card of another community is ``code_invalid``, never
    a hint that it exists.
    """
    access.require(p, ("admin", "staff", "volunteer"))
    async with db.transaction() as conn:
        await throttle.hit(conn, f"pin:ip:{ip}", limit=30, window=timedelta(minutes=10))
    async with db.connection() as conn:
        row = await code_row(conn, card_code, codes.CARD)
        community = await conn.fetchval(
            "SELECT community FROM mall_resident WHERE id = ?", row["resident"]
        )
    if not p.is_admin and community != p.community_id:
        raise CodeInvalid()
    async with db.transaction() as conn:
        tried = await conn.fetchval(
            "UPDATE mall_code SET failed_pins = failed_pins + 1 "
            "WHERE id = ? AND failed_pins < ? RETURNING failed_pins",
            row["id"],
            MAX_WRONG_PINS,
        )
    if tried is None:
        raise CardLocked()
    if await password_matches(row["pin_hash"], pin or ""):
        async with db.transaction() as conn:
            await conn.execute("UPDATE mall_code SET failed_pins = 0 WHERE id = ?", row["id"])
        return int(row["resident"])
    async with db.transaction() as conn:
        await audit.record(
            conn,
            p,
            "card.wrong_pin",
            community_id=community,
            target=f"resident:{row['resident']}",
            ip=ip,
        )
    left = MAX_WRONG_PINS - int(tried)
    if left <= 0:  # still a wrong PIN (validation_error); the next try is ``CardLocked``
        raise Invalid(N_("Wrong PIN: the card is now locked. Please ask staff to unlock it."))
    raise Invalid(N_("Wrong PIN. {n} more tries before the card is locked."), n=left)
