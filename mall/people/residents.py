"""Residents (居民): registering them, finding them, their balances and the passbook (积分存折).

The codes that stand for a resident (activation papers, printed cards, pay codes) are in
``credentials``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec

import ledger
from ledger import Row
from mall import access, text
from mall import query as q
from mall import tables as t
from mall.access import STAFF_ROLES, Principal, audit
from mall.db import Database
from mall.errors import N_, Invalid
from mall.org import points

PHONE = re.compile(r"^1\d{10}$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Balances(msgspec.Struct, frozen=True, kw_only=True):
    """A resident's points: ``balance`` is ``held`` (set aside for reservations) + ``available``."""

    balance: int
    held: int
    available: int


class Registered(msgspec.Struct, frozen=True, kw_only=True):
    """A resident just registered; ``grid`` is the grid's code, ``community`` its slug."""

    id: int
    name: str
    phone: str | None
    grid: str | None
    community: str
    building: str | None = None
    unit: str | None = None


class Resident(msgspec.Struct, frozen=True, kw_only=True):
    """A resident with their community and balances (``Balances`` says what each means)."""

    id: int
    name: str
    phone: str | None
    grid: str | None
    community: str
    community_name: str
    balance: int
    held: int
    available: int
    building: str | None = None
    unit: str | None = None
    closed_at: datetime | None = None
    """When the record was closed; a closed record keeps its history, and nothing more is done
    for it (``account_closed``)."""
    closed_reason: str | None = None
    merged_into: int | None = None
    """The record a duplicate was merged into."""


class Listed(msgspec.Struct, frozen=True, kw_only=True):
    """A resident as a search lists them, with their balances."""

    id: int
    name: str
    phone: str | None
    grid: str | None
    balance: int
    held: int
    available: int
    closed: bool = False


class Found(msgspec.Struct, frozen=True, kw_only=True):
    """A page of a search: ``next`` is the offset of the next page, None on the last."""

    residents: list[Listed]
    next: int | None


#: which records a search lists: every one, only the open ones, only the closed ones
STATUSES = ("all", "open", "closed")


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


def clean_name(name: str | None) -> str:
    return text.plain(
        name, max_length=50, empty=N_("Please enter the resident's name (at most {n} characters).")
    )


def clean_phone(phone: str | None) -> str | None:
    phone = re.sub(r"[\s-]", "", phone or "") or None
    if phone is not None and not PHONE.match(phone):
        raise Invalid(N_("A mobile number has 11 digits and starts with 1."))
    return phone


def clean_place(value: str | None) -> str | None:
    """A building or unit as typed (楼栋 "3", 单元 "2"): short text, or None when left empty."""
    return (
        text.plain(
            value,
            max_length=20,
            required=False,
            empty=N_("A building or unit has at most {n} characters."),
        )
        or None
    )


async def grid_id(conn: ledger.Connection, community_id: int, grid: str | None) -> int | None:
    """The id of the community's grid with this code; no code: None."""
    if not grid:
        return None
    g = t.Grid
    found = await q.fetchval(
        conn, g.select(g.id).where((g.community == community_id) & (g.code == grid))
    )
    if found is None:
        raise Invalid(N_("No grid with this code in the community."))
    return int(found)


async def register(
    conn: ledger.Connection,
    community: Row,
    name: str,
    phone: str | None,
    grid: int | None,
    building: str | None,
    unit: str | None,
) -> int:
    """The new resident's id: the record and its wallet, inside the caller's transaction, from
    values the caller has cleaned (``clean_name``, ``clean_phone``, ``grid_id``,
    ``clean_place``) and after it checked the principal (``create_resident``, the roster
    import)."""
    r = t.Resident
    record = r(
        community=community["id"],
        grid=grid,
        name=name,
        phone=phone,
        building=building,
        unit=unit,
        created_at=now(),
    )
    resident_id = await q.fetchval(conn, r.insert(record).returning(r.id))
    await ledger.open_account(conn, community["book"], points.wallet(resident_id), no_negative=True)
    return int(resident_id)


async def create_resident(
    db: Database,
    p: Principal,
    slug: str,
    name: str,
    phone: str | None,
    grid: str | None,
    *,
    building: str | None = None,
    unit: str | None = None,
    ip: str = "",
) -> Registered:
    name = clean_name(name)
    phone = clean_phone(phone)
    building, unit = clean_place(building), clean_place(unit)
    async with db.transaction() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES)
        grid_row = await grid_id(conn, community["id"], grid)
        resident_id = await register(conn, community, name, phone, grid_row, building, unit)
        await audit.record(
            conn,
            p,
            "resident.create",
            community_id=community["id"],
            target=f"resident:{resident_id}",
            ip=ip,
        )
    return Registered(
        id=int(resident_id),
        name=name,
        phone=phone,
        grid=grid,
        community=slug,
        building=building,
        unit=unit,
    )


async def get_resident(db: Database, p: Principal, resident_id: int) -> Resident:
    async with db.connection() as conn:
        row = await access.resident(conn, p, resident_id, STAFF_ROLES + ("resident",))
        money = await balances(conn, row["book"], row["id"])
        r = t.Resident
        more = await q.fetchrow(
            conn,
            r.select(
                r.grid.code.as_alias("grid"),
                r.building,
                r.unit,
                r.closed_at,
                r.closed_reason,
                r.merged_into,
            ).where(r.id == resident_id),
        )
        assert more is not None
    return Resident(
        id=row["id"],
        name=row["name"],
        phone=row["phone"],
        grid=more["grid"],
        community=row["slug"],
        community_name=row["community_name"],
        balance=money.balance,
        held=money.held,
        available=money.available,
        building=more["building"],
        unit=more["unit"],
        closed_at=more["closed_at"],
        closed_reason=more["closed_reason"],
        merged_into=more["merged_into"],
    )


async def list_residents(
    db: Database,
    p: Principal,
    slug: str,
    *,
    query: str = "",
    grid: str | None = None,
    status: str = "all",
    ids: Sequence[int] | None = None,
    limit: int = 50,
) -> list[Listed]:
    """The first ``limit`` residents ``search_residents`` finds."""
    found = await search_residents(
        db, p, slug, query=query, grid=grid, status=status, ids=ids, limit=limit
    )
    return found.residents


async def search_residents(
    db: Database,
    p: Principal,
    slug: str,
    *,
    query: str = "",
    grid: str | None = None,
    status: str = "all",
    ids: Sequence[int] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Found:
    """Search by name, phone or grid across one community, a page at a time, by name.

    ``balance``, ``held`` and ``available`` mean what they mean for one resident (``balances``).
    The query matches a part of the name or phone, taken literally (``%`` and ``_`` are not
    wildcards) and, for Latin letters, in either case on both engines; or a part of a grid's
    code or name. ``grid`` is one grid's exact code; ``ids`` keeps only those residents
    (another community's are simply not found). ``status`` is one of ``STATUSES``.
    """
    query = CONTROL.sub("", query or "").strip()[:100]
    grid = CONTROL.sub("", grid or "").strip() or None
    if status not in STATUSES or not 0 <= offset <= access.MAX_ID:
        raise Invalid()
    limit = max(1, min(limit, 200))
    async with db.connection() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES)
        # hand-written: a join on a computed key (the wallet's code) and a summed subquery of
        # open holds, which the builder cannot say; the search's LIKE needs ESCAPE
        sql = (
            "SELECT r.id, r.name, r.phone, g.code AS grid, r.closed_at, a.balance, "
            "COALESCE((SELECT SUM(h.amount) FROM ledger_hold h LEFT JOIN ledger_hold_resolution x "
            "ON x.hold = h.id WHERE h.account = a.id AND x.id IS NULL), 0) AS held "
            "FROM mall_resident r "
            "LEFT JOIN mall_grid g ON g.id = r.grid JOIN ledger_account a ON a.book = ? "
            "AND a.code = ? || CAST(r.id AS TEXT) WHERE r.community = ?"
        )
        args: list[Any] = [community["book"], points.WALLET_PREFIX, community["id"]]
        if query:
            pattern = "%" + re.sub(r"([\\%_])", r"\\\1", query.lower()) + "%"
            sql += (
                " AND (LOWER(r.name) LIKE ? ESCAPE '\\' OR r.phone LIKE ? ESCAPE '\\' "
                "OR LOWER(g.code) LIKE ? ESCAPE '\\' OR LOWER(g.name) LIKE ? ESCAPE '\\')"
            )
            args += [pattern, pattern, pattern, pattern]
        if grid:
            sql += " AND g.code = ?"
            args.append(grid)
        if ids is not None:
            wanted = [i for i in ids if 0 < i <= access.MAX_ID][:200]
            if not wanted:
                return Found(residents=[], next=None)
            sql += f" AND r.id IN ({', '.join('?' for _ in wanted)})"
            args += wanted
        if status != "all":
            sql += (
                " AND r.closed_at IS NULL" if status == "open" else " AND r.closed_at IS NOT NULL"
            )
        sql += " ORDER BY r.name, r.id LIMIT ? OFFSET ?"
        args += [limit + 1, offset]
        rows = await conn.fetch(sql, *args)
    listed = [
        Listed(
            id=r["id"],
            name=r["name"],
            phone=r["phone"],
            grid=r["grid"],
            balance=int(r["balance"]) + int(r["held"]),
            held=int(r["held"]),
            available=int(r["balance"]),
            closed=r["closed_at"] is not None,
        )
        for r in rows[:limit]
    ]
    return Found(residents=listed, next=offset + limit if len(rows) > limit else None)


async def passbook(
    db: Database, p: Principal, resident_id: int, *, limit: int = 20, before: int | None = None
) -> ledger.Statement:
    before = access.cursor(before)
    async with db.connection() as conn:
        row = await access.resident(conn, p, resident_id, STAFF_ROLES + ("resident",))
        return await ledger.get_statement(
            conn, row["book"], points.wallet(resident_id), limit=limit, before=before
        )


async def my_balances(db: Database, p: Principal) -> Balances:
    """The signed-in resident's own points, the one value every page of theirs shows: 可用积分
    (``available``) and 预约冻结 (``held``), so the headline, passbook and receipt agree."""
    p = access.resident_self(p)
    async with db.connection() as conn:
        row = await access.resident(conn, p, p.resident_id, ("resident",))
        return await balances(conn, row["book"], row["id"])
