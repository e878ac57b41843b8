"""Households (户): staff group a community's residents by address (the paper passbook was one
per household). A resident belongs to at most one household; an address once per community.
Never moves points.
"""

from __future__ import annotations

import msgspec

from mall import access, text
from mall import query as q
from mall import tables as t
from mall.access import STAFF_ROLES, Principal, audit
from mall.db import Database
from mall.errors import N_, AlreadyExists, NotFound
from mall.people.residents import grid_id


class Member(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name: str
    building: str | None
    unit: str | None


class Household(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    address: str
    grid: str | None
    members: list[Member]


def clean_address(address: str | None) -> str:
    return text.plain(
        address, max_length=200, empty=N_("Please enter the address (at most {n} characters).")
    )


async def create_household(
    db: Database, p: Principal, slug: str, address: str, grid: str | None = None, *, ip: str = ""
) -> Household:
    """A new household at ``address`` (staff of the community); the same address again is
    ``already_exists``."""
    address = clean_address(address)
    async with db.transaction() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES)
        grid_row = await grid_id(conn, community["id"], grid)
        h = t.Household
        if await q.fetchval(
            conn, h.exists().where((h.community == community["id"]) & (h.address == address))
        ):
            raise AlreadyExists(N_("A household with this address exists already."))
        new_id = await q.fetchval(
            conn,
            h.insert(h(community=community["id"], grid=grid_row, address=address)).returning(h.id),
        )
        await audit.record(
            conn,
            p,
            "household.create",
            community_id=community["id"],
            target=f"household:{new_id}",
            ip=ip,
            address=address,
        )
    return Household(id=int(new_id), address=address, grid=grid or None, members=[])


async def assign(
    db: Database, p: Principal, resident_id: int, household_id: int | None, *, ip: str = ""
) -> None:
    """Put the resident in the household of their own community, or (``None``) in none."""
    async with db.transaction() as conn:
        row = await access.resident(conn, p, resident_id, STAFF_ROLES)
        if household_id is not None:
            h = t.Household
            if not 0 < household_id <= access.MAX_ID or not await q.fetchval(
                conn,
                h.exists().where((h.id == household_id) & (h.community == row["community"])),
            ):
                raise NotFound(N_("No such household in this community."))
        r = t.Resident
        await q.execute(conn, r.update({r.household: household_id}).where(r.id == resident_id))
        await audit.record(
            conn,
            p,
            "household.assign",
            community_id=row["community"],
            target=f"resident:{resident_id}",
            ip=ip,
            household=household_id,
        )


async def list_households(db: Database, p: Principal, slug: str) -> list[Household]:
    """The community's households by address, each with its members by name (staff)."""
    async with db.connection() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES)
        h, r = t.Household, t.Resident
        rows = await q.fetch(
            conn,
            h.select(h.id, h.address, h.grid.code.as_alias("grid"))
            .where(h.community == community["id"])
            .order_by(h.address),
        )
        members = await q.fetch(
            conn,
            r.select(r.id, r.name, r.building, r.unit, r.household)
            .where((r.community == community["id"]) & r.household.is_not_null())
            .order_by(r.name),
        )
    by_household: dict[int, list[Member]] = {}
    for m in members:
        by_household.setdefault(int(m["household"]), []).append(
            Member(id=int(m["id"]), name=m["name"], building=m["building"], unit=m["unit"])
        )
    return [
        Household(
            id=int(row["id"]),
            address=row["address"],
            grid=row["grid"],
            members=by_household.get(int(row["id"]), []),
        )
        for row in rows
    ]
