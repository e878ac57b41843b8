"""Street, communities, grids and their points budgets (街道、社区、网格、预算)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import msgspec

import ledger
from mall import access, text
from mall import query as q
from mall import tables as t
from mall.access import Principal, audit
from mall.db import Database
from mall.errors import N_, AlreadyExists, Invalid
from mall.org import points

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")
GRID_CODE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


class Community(msgspec.Struct, frozen=True, kw_only=True):
    """A community (社区) as those who work in it know it: its code and name."""

    id: int
    slug: str
    name: str


class Grid(msgspec.Struct, frozen=True, kw_only=True):
    """A grid (网格) of a community."""

    id: int
    code: str
    name: str


class Grant(msgspec.Struct, frozen=True, kw_only=True):
    """A grant to a community's budget: the budget right after it, and its journal."""

    balance: int
    journal_id: int


class Budget(msgspec.Struct, frozen=True, kw_only=True):
    """A community's budget: what is left, everything granted, everything awarded."""

    balance: int
    granted: int
    issued: int


async def default_street(db: Database) -> int:
    async with db.transaction() as conn:
        street = await q.fetchval(conn, t.Street.select(t.Street.id).order_by(t.Street.id).first())
        if street is None:
            street = await q.fetchval(
                conn, t.Street.insert(t.Street(name="街道")).returning(t.Street.id)
            )
        return int(street)


async def create_community(
    db: Database, p: Principal, slug: str, name: str, *, ip: str = ""
) -> Community:
    """A community with its ledger book and chart of accounts (admin only)."""
    access.require(p, ["admin"])
    if not SLUG.match(slug or ""):
        raise Invalid(N_("A community code uses 2 to 63 lowercase letters, digits and dashes."))
    name = text.plain(name, max_length=200)
    street = await default_street(db)
    async with db.transaction() as conn:
        if await q.fetchval(conn, t.Community.exists().where(t.Community.slug == slug)):
            raise AlreadyExists(N_("A community with this code already exists."))
        book = await points.open_community_book(conn, slug, name)
        row = t.Community(
            street=street, slug=slug, name=name, book=book, created_at=datetime.now(UTC)
        )
        community_id = await q.fetchval(conn, t.Community.insert(row).returning(t.Community.id))
        await audit.record(
            conn, p, "community.create", community_id=community_id, target=slug, ip=ip, name=name
        )
    return Community(id=int(community_id), slug=slug, name=name)


async def create_grid(
    db: Database, p: Principal, slug: str, code: str, name: str, *, ip: str = ""
) -> Grid:
    if not GRID_CODE.match(code or ""):
        raise Invalid(N_("A grid code uses 1 to 40 letters, digits, dashes or underscores."))
    name = text.plain(name, max_length=200)
    async with db.transaction() as conn:
        community = await access.community(conn, p, slug, ["admin", "staff"])
        if await q.fetchval(
            conn,
            t.Grid.exists().where((t.Grid.community == community["id"]) & (t.Grid.code == code)),
        ):
            raise AlreadyExists(N_("A grid with this code already exists."))
        grid = t.Grid(community=community["id"], code=code, name=name)
        grid_id = await q.fetchval(conn, t.Grid.insert(grid).returning(t.Grid.id))
        await audit.record(
            conn, p, "grid.create", community_id=community["id"], target=code, ip=ip, name=name
        )
    return Grid(id=int(grid_id), code=code, name=name)


async def grant_budget(
    db: Database,
    p: Principal,
    slug: str,
    amount: int,
    memo: str,
    *,
    idempotency_key: str,
    req_hash: str | None = None,
    ip: str = "",
) -> Grant:
    """The street funds a community: points move from ``mint`` to ``budget`` (admin only)."""
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= 10_000_000:
        raise Invalid(N_("Points must be a whole number from 1 to 10,000,000."))
    memo = (memo or "").strip()[:200]
    async with db.transaction() as conn:
        community = await access.community(conn, p, slug, ["admin"])
        journal = await ledger.post_journal(
            conn,
            community["book"],
            "grant",
            [(points.MINT, -amount), (points.BUDGET, amount)],
            idempotency_key=idempotency_key,
            req_hash=req_hash,
            memo=memo,
        )
        if not journal.replayed:
            await audit.record(
                conn,
                p,
                "budget.grant",
                community_id=community["id"],
                target=slug,
                ip=ip,
                points=amount,
                memo=memo,
                journal=journal.id,
            )
    # The balance right after this grant, from its own posting: a replay answers the same.
    balance = next(leg.balance_after for leg in journal.postings if leg.account == points.BUDGET)
    return Grant(balance=balance, journal_id=journal.id)


class GrantEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One grant from the street, as the community's budget page lists it."""

    journal_id: int
    at: datetime
    points: int
    memo: str


async def recent_grants(
    db: Database, p: Principal, slug: str, *, limit: int = 20
) -> list[GrantEntry]:
    """The street's latest grants to the community, newest first (from the ``mint`` account)."""
    async with db.connection() as conn:
        community = await access.community(conn, p, slug, ["admin", "staff"])
        statement = await ledger.get_statement(conn, community["book"], points.MINT, limit=limit)
    return [
        GrantEntry(journal_id=e.journal_id, at=e.at, points=-e.amount, memo=e.memo)
        for e in statement.entries
        if e.kind == "grant"
    ]


async def budget(db: Database, p: Principal, slug: str) -> Budget:
    """Granted (everything minted for the community), issued, and what is left: all O(1)."""
    async with db.connection() as conn:
        community = await access.community(conn, p, slug, ["admin", "staff"])
        left = (await ledger.get_balance(conn, community["book"], points.BUDGET)).balance
        granted = -(await ledger.get_balance(conn, community["book"], points.MINT)).balance
    return Budget(balance=left, granted=granted, issued=granted - left)


async def list_communities(db: Database, p: Principal) -> list[Community]:
    """Every community of the street, by code (street administrators only)."""
    access.require(p, ["admin"])
    async with db.connection() as conn:
        c = t.Community
        rows = await q.fetch(conn, c.select(c.id, c.slug, c.name).order_by(c.slug))
    return [Community(id=int(r["id"]), slug=r["slug"], name=r["name"]) for r in rows]


async def list_grids(db: Database, p: Principal, slug: str) -> list[Grid]:
    """The community's grids by code (its staff, or an administrator)."""
    async with db.connection() as conn:
        community = await access.community(conn, p, slug, ["admin", "staff"])
        g = t.Grid
        rows = await q.fetch(
            conn,
            g.select(g.id, g.code, g.name).where(g.community == community["id"]).order_by(g.code),
        )
    return [Grid(id=int(r["id"]), code=r["code"], name=r["name"]) for r in rows]


async def get_community(db: Database, p: Principal, slug: str) -> Community:
    """A community's code and name, for anyone who works in it (staff, volunteers, admins)."""
    async with db.connection() as conn:
        row = await access.community(conn, p, slug, ["admin", "staff", "volunteer"])
    return Community(id=row["id"], slug=row["slug"], name=row["name"])
