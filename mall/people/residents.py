"""Residents (居民): registration, binding a phone by activation QR, printed cards, pay codes,
balances and the passbook (积分存折)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import ledger
from mall import access, text
from mall.access import STAFF_ROLES, Principal, audit, throttle
from mall.db import Database, must_exist
from mall.errors import N_, CodeExpired, CodeInvalid, CodeUsed, Forbidden, Invalid
from mall.org import points
from mall.people import codes
from mall.people.auth import (
    RESIDENT_SESSION,
    create_session,
    forget_sessions,
    hash_password,
    password_matches,
    revoke_resident_sessions,
)
from mall.settings import get_settings

PHONE = re.compile(r"^1\d{10}$")
PIN = re.compile(r"^\d{4,6}$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
ACTIVATION_TTL = timedelta(days=7)
PAY_CODE_TTL = timedelta(seconds=60)


@dataclass(frozen=True)
class Balances:
    balance: int
    held: int
    available: int


def now() -> datetime:
    return datetime.now(UTC)


def mask_name(name: str) -> str:
    """王秀英 → 王*英, 黄明 → 黄*: enough to recognise at a counter, not to identify."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


async def balances(conn: ledger.Connection, book: int, resident_id: int) -> Balances:
    available = (await ledger.get_balance(conn, book, points.wallet(resident_id))).balance
    held = await ledger.held_amount(conn, book, points.wallet(resident_id))
    return Balances(balance=available + held, held=held, available=available)


async def create_resident(
    db: Database,
    p: Principal,
    slug: str,
    name: str,
    phone: str | None,
    grid: str | None,
    *,
    ip: str = "",
) -> dict[str, Any]:
    name = text.plain(
        name, max_length=50, empty=N_("Please enter the resident's name (at most {n} characters).")
    )
    phone = re.sub(r"[\s-]", "", phone or "") or None
    if phone is not None and not PHONE.match(phone):
        raise Invalid(N_("A mobile number has 11 digits and starts with 1."))
    async with db.transaction() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES)
        grid_id = None
        if grid:
            grid_id = await conn.fetchval(
                "SELECT id FROM mall_grid WHERE community = ? AND code = ?", community["id"], grid
            )
            if grid_id is None:
                raise Invalid(N_("No grid with this code in the community."))
        resident_id = await conn.fetchval(
            "INSERT INTO mall_resident (community, grid, name, phone, created_at) "
            "VALUES (?, ?, ?, ?, ?) RETURNING id",
            community["id"],
            grid_id,
            name,
            phone,
            now(),
        )
        await ledger.open_account(
            conn, community["book"], points.wallet(resident_id), no_negative=True
        )
        await audit.record(
            conn,
            p,
            "resident.create",
            community_id=community["id"],
            target=f"resident:{resident_id}",
            ip=ip,
        )
    return {"id": resident_id, "name": name, "phone": phone, "grid": grid, "community": slug}


async def get_resident(db: Database, p: Principal, resident_id: int) -> dict[str, Any]:
    async with db.connection() as conn:
        row = await access.resident(conn, p, resident_id, STAFF_ROLES + ("resident",))
        money = await balances(conn, row["book"], row["id"])
        grid = (
            await conn.fetchval("SELECT code FROM mall_grid WHERE id = ?", row["grid"])
            if row["grid"]
            else None
        )
    return {
        "id": row["id"],
        "name": row["name"],
        "phone": row["phone"],
        "grid": grid,
        "community": row["slug"],
        "community_name": row["community_name"],
        "balance": money.balance,
        "held": money.held,
        "available": money.available,
    }


async def list_residents(
    db: Database,
    p: Principal,
    slug: str,
    *,
    query: str = "",
    grid: str | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Search by name, phone or grid within one community.

    ``balance``, ``held`` and ``available`` mean what they mean for one resident (``balances``).
    The query matches a part of the name or phone, taken literally (``%`` and ``_`` are not
    wildcards) and, for Latin letters, in either case on both engines.
    """
    query = CONTROL.sub("", query or "").strip()[:100]
    grid = CONTROL.sub("", grid or "").strip() or None
    async with db.connection() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES)
        sql = (
            "SELECT r.id, r.name, r.phone, g.code AS grid, a.balance, "
            "COALESCE((SELECT SUM(h.amount) FROM ledger_hold h LEFT JOIN ledger_hold_resolution x "
            "ON x.hold = h.id WHERE h.account = a.id AND x.id IS NULL), 0) AS held "
            "FROM mall_resident r "
            "LEFT JOIN mall_grid g ON g.id = r.grid JOIN ledger_account a ON a.book = ? "
            "AND a.code = ? || CAST(r.id AS TEXT) WHERE r.community = ?"
        )
        args: list[Any] = [community["book"], points.WALLET_PREFIX, community["id"]]
        if query:
            pattern = "%" + re.sub(r"([\\%_])", r"\\\1", query.lower()) + "%"
            sql += " AND (LOWER(r.name) LIKE ? ESCAPE '\\' OR r.phone LIKE ? ESCAPE '\\')"
            args += [pattern, pattern]
        if grid:
            sql += " AND g.code = ?"
            args.append(grid)
        sql += " ORDER BY r.name, r.id LIMIT ?"
        args.append(max(1, min(limit, 200)))
        rows = await conn.fetch(sql, *args)
    return [
        dict(
            id=r["id"],
            name=r["name"],
            phone=r["phone"],
            grid=r["grid"],
            balance=int(r["balance"]) + int(r["held"]),
            held=int(r["held"]),
            available=int(r["balance"]),
        )
        for r in rows
    ]


async def insert_code(
    conn: ledger.Connection,
    kind: str,
    ident: str,
    resident_id: int,
    *,
    expires_at: datetime | None = None,
    pin_hash: str | None = None,
    created_by: int | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO mall_code (kind, ident, resident, created_at, expires_at, pin_hash, "
        "failed_pins, created_by) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
        kind,
        ident,
        resident_id,
        now(),
        expires_at,
        pin_hash,
        created_by,
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
) -> None:
    """Revoke the resident's unused codes of ``kind``, issue a new one, and audit it."""
    async with db.transaction() as conn:
        resident = await access.resident(conn, p, resident_id, STAFF_ROLES)
        await conn.execute(
            "UPDATE mall_code SET revoked_at = ? WHERE resident = ? AND kind = ? "
            "AND used_at IS NULL AND revoked_at IS NULL",
            now(),
            resident_id,
            kind,
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
        )
        await audit.record(
            conn,
            p,
            action,
            community_id=resident["community"],
            target=f"resident:{resident_id}",
            ip=ip,
        )
    if kind == codes.ACTIVATION:
        forget_sessions()


async def issue_activation(
    db: Database, p: Principal, resident_id: int, *, ip: str = ""
) -> dict[str, Any]:
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
    return {"code": code, "url": activation_url(code), "expires_at": expires}


def activation_url(code: str) -> str:
    return f"{get_settings().base_url}/a/{code}"


async def _code_row(conn: ledger.Connection, code: str, kind: str) -> dict[str, Any]:
    parsed = codes.parse(get_settings().secret_key, code)
    if parsed.kind != kind:
        raise CodeInvalid()
    row = await conn.fetchrow(
        "SELECT id, resident, expires_at, used_at, revoked_at, pin_hash FROM mall_code "
        "WHERE ident = ? AND kind = ?",
        parsed.ident,
        kind,
    )
    check_usable(row, now())
    return dict(must_exist(row))


def check_usable(row: ledger.Row | None, at: datetime) -> None:
    """A code row that can still be used at ``at``: else ``code_invalid`` (unknown or revoked),
    ``code_used`` or ``code_expired``."""
    if row is None or row["revoked_at"] is not None:
        raise CodeInvalid()
    if row["used_at"] is not None:
        raise CodeUsed()
    if row["expires_at"] is not None and row["expires_at"] <= at:
        raise CodeExpired()


async def activate(db: Database, code: str, *, ip: str = "") -> tuple[str, int]:
    """Bind the phone that opened the activation link: ``(session token, resident id)``."""
    async with db.transaction() as conn:
        await throttle.hit(conn, f"activate:ip:{ip}", limit=20, window=timedelta(minutes=10))
    async with db.transaction() as conn:
        row = await _code_row(conn, code, codes.ACTIVATION)
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
) -> dict[str, Any]:
    """A printed card (QR + PIN) for a resident without a smartphone; revokes the previous card."""
    if not PIN.match(pin or ""):
        raise Invalid(N_("The PIN has 4 to 6 digits."))
    if len(set(pin)) == 1 or pin in "0123456789" or pin in "9876543210":
        raise Invalid(N_("This PIN is too easy to guess. Please choose another."))
    async with db.connection() as conn:
        await access.resident(conn, p, resident_id, STAFF_ROLES)  # before the costly hash
    pin_hash = await hash_password(pin)
    code, ident = codes.new_text_code(get_settings().secret_key, codes.CARD)
    await _reissue(
        db, p, resident_id, codes.CARD, ident, action="resident.card", ip=ip, pin_hash=pin_hash
    )
    return {"card_code": code}


async def new_pay_code(db: Database, p: Principal) -> dict[str, Any]:
    """A fresh pay code for the signed-in resident, valid for about a minute."""
    access.require(p, ["resident"])
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
            await insert_code(conn, codes.PAY, ident, p.own_resident, expires_at=expires)
    return {"code": code, "expires_at": expires}


async def passbook(
    db: Database, p: Principal, resident_id: int, *, limit: int = 20, before: int | None = None
) -> ledger.Statement:
    before = access.cursor(before)
    async with db.connection() as conn:
        row = await access.resident(conn, p, resident_id, STAFF_ROLES + ("resident",))
        return await ledger.get_statement(
            conn, row["book"], points.wallet(resident_id), limit=limit, before=before
        )


async def check_activation(db: Database, code: str) -> None:
    """Whether an activation code could still bind a phone, without using it: raises
    ``CodeInvalid``, ``CodeExpired`` or ``CodeUsed`` if not. For the page the link opens, which
    must not bind anything on a GET (link previews open it too)."""
    async with db.connection() as conn:
        await _code_row(conn, code, codes.ACTIVATION)


MAX_WRONG_PINS = 5


async def resident_for_card(
    db: Database, p: Principal, card_code: str, pin: str, *, ip: str = ""
) -> int:
    """The resident whose printed card this is, if the PIN is right; for the counter.

    Each try is counted on the card before the PIN is checked, and the count goes back to
    zero when the PIN is right; after ``MAX_WRONG_PINS`` the card is blocked until staff issue
    a new one. Counting first, in one statement, means guesses sent at once cannot all see the
    count before any of them raises it. A card of another community is ``code_invalid``, never
    a hint that it exists.
    """
    access.require(p, ("admin", "staff", "volunteer"))
    async with db.transaction() as conn:
        await throttle.hit(conn, f"pin:ip:{ip}", limit=30, window=timedelta(minutes=10))
    async with db.connection() as conn:
        row = await _code_row(conn, card_code, codes.CARD)
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
        raise Forbidden(
            N_("Too many wrong PINs: this card is blocked. Please ask staff for a new card.")
        )
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
    raise Invalid(N_("Wrong PIN."))


async def find_resident_by_code(
    db: Database, p: Principal, code: str, pin: str | None = None, *, ip: str = ""
) -> dict[str, Any]:
    """The resident behind a pay code (digits) or a printed card code plus its PIN, for staff
    finding someone to award or check in: ``{id, name}``. The pay code is NOT used up (only a
    checkout uses it); a card needs its PIN, with ``resident_for_card``'s limit on wrong PINs.
    A code of another community is ``code_invalid``, never a hint that it exists."""
    access.require(p, STAFF_ROLES)
    parsed = codes.parse(get_settings().secret_key, code)
    if parsed.kind == codes.CARD:
        resident_id = await resident_for_card(db, p, code, pin or "", ip=ip)
    elif parsed.kind == codes.PAY:
        async with db.connection() as conn:
            resident_id = int((await _code_row(conn, code, codes.PAY))["resident"])
    else:
        raise CodeInvalid()
    async with db.connection() as conn:
        row = await conn.fetchrow(
            "SELECT id, name, community FROM mall_resident WHERE id = ?", resident_id
        )
    if row is None or (not p.is_admin and row["community"] != p.community_id):
        raise CodeInvalid()
    return {"id": row["id"], "name": row["name"]}
