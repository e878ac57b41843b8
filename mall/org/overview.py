"""The street at a glance (街道总览): each community's budget left, the points it has issued and
the points its residents hold now, all read from the ledger's cached balances (never by adding
up postings), and its submissions past their due date. Street administrators only; it changes
nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

import ledger
from ledger import Connection, Row
from mall import access
from mall import query as q
from mall import tables as t
from mall.access import Principal
from mall.db import Database
from mall.org import points


class CommunityFigures(msgspec.Struct, frozen=True, kw_only=True):
    """One community's points now.

    ``issued`` is everything granted less the budget left (what went out to residents, net of
    reversals); ``outstanding`` is what residents hold: their wallets plus points set aside for
    their reservations. The rest of ``issued`` was spent at the outlets or expired."""

    slug: str
    name: str
    budget_left: int
    granted: int
    issued: int
    outstanding: int
    overdue: int = 0
    """Residents' submissions still undecided past their due date (限时办结) now."""


class Totals(msgspec.Struct, frozen=True, kw_only=True):
    """The same figures added up over the street."""

    budget_left: int
    granted: int
    issued: int
    outstanding: int
    overdue: int = 0


class StreetOverview(msgspec.Struct, frozen=True, kw_only=True):
    communities: list[CommunityFigures]
    total: Totals


async def street_overview(db: Database, p: Principal) -> StreetOverview:
    """Every community of the street by code, with its figures and the street's total."""
    access.require(p, ["admin"])
    async with db.connection() as conn:
        c = t.Community
        rows = await q.fetch(conn, c.select(c.id, c.slug, c.name, c.book).order_by(c.slug))
        found = [await _figures(conn, row) for row in rows]
    total = Totals(
        budget_left=sum(f.budget_left for f in found),
        granted=sum(f.granted for f in found),
        issued=sum(f.issued for f in found),
        outstanding=sum(f.outstanding for f in found),
        overdue=sum(f.overdue for f in found),
    )
    return StreetOverview(communities=found, total=total)


async def community_figures(db: Database, p: Principal, slug: str) -> CommunityFigures:
    """One community's figures (its staff, or an administrator)."""
    async with db.connection() as conn:
        row = await access.community(conn, p, slug, ["admin", "staff"])
        return await _figures(conn, row)


async def _figures(conn: Connection, community: Row) -> CommunityFigures:
    book = community["book"]
    left = (await ledger.get_balance(conn, book, points.BUDGET)).balance
    granted = -(await ledger.get_balance(conn, book, points.MINT)).balance
    return CommunityFigures(
        slug=community["slug"],
        name=community["name"],
        budget_left=left,
        granted=granted,
        issued=granted - left,
        outstanding=await held_by_residents(conn, book),
        overdue=await overdue_submissions(conn, community["id"]),
    )


async def overdue_submissions(conn: Connection, community_id: int) -> int:
    """The community's submissions still open or accepted past their due date now (the
    statuses of ``mall.earning.submissions``, which this package sits below)."""
    s = t.Submission
    return int(
        await q.fetchval(
            conn,
            s.count().where(
                (s.community == community_id)
                & s.status.is_in(["open", "accepted"])
                & (s.due_at <= datetime.now(UTC))
            ),
        )
    )


async def held_by_residents(conn: Connection, book: int) -> int:
    """The points the book's residents hold now: their wallets plus points set aside for their
    reservations (the ledger's cached balances)."""
    wallets = await ledger.total_balance(conn, book, points.WALLET_PREFIX)
    held = (await ledger.get_balance(conn, book, ledger.HOLDS_ACCOUNT)).balance
    return wallets + held
