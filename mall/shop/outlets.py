"""Outlets (兑换点: the community's points supermarket and partner merchants, 红色合伙人) and donors
(双报到单位 and merchants who give goods), as staff set them up. Scoped like every other read.
"""

from __future__ import annotations

from typing import Any

import catalog
import ledger
from mall import access, text
from mall.access import MAX_ID, STAFF_ROLES, Principal, audit
from mall.db import Database
from mall.errors import N_, AlreadyExists, Invalid, NotFound
from mall.org import points
from mall.shop.values import Donor, Outlet, from_row

#: Who may read a community's shelves: its staff, volunteers and residents (and the street).
VIEWERS = STAFF_ROLES + ("volunteer", "resident")


def whole_number(value: Any, least: int, most: int, message: str) -> int:
    """``value`` if it is a whole number from ``least`` to ``most``; otherwise ``Invalid(message)``."""
    if not isinstance(value, int) or isinstance(value, bool) or not least <= value <= most:
        raise Invalid(message)
    return value


async def _outlet(
    conn: ledger.Connection, p: Principal, outlet_id: int, roles: tuple[str, ...]
) -> Outlet:
    """The outlet, if ``p`` has one of ``roles`` in its community; anyone else's is not found."""
    access.require(p, roles)
    if not isinstance(outlet_id, int) or not 0 < outlet_id <= MAX_ID:
        raise NotFound()
    found = await catalog.get_outlet(conn, outlet_id)
    if found is None or not (p.is_admin or found["community_id"] == p.community_id):
        raise NotFound()
    return from_row(found, Outlet)


async def create_outlet(
    db: Database, p: Principal, slug: str, name: str, kind: str, *, ip: str = ""
) -> Outlet:
    """Open an outlet and its ``redeemed`` accounts in the community's book."""
    name = text.plain(name, max_length=100)
    if kind not in catalog.OUTLET_KINDS:
        raise Invalid(N_("An outlet is a points supermarket or a partner merchant."))
    async with db.transaction() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES)
        outlet = from_row(await catalog.create_outlet(conn, community["id"], name, kind), Outlet)
        await points.open_outlet_accounts(conn, community["book"], outlet.id)
        await audit.record(
            conn,
            p,
            "outlet.create",
            community_id=community["id"],
            target=f"outlet:{outlet.id}",
            ip=ip,
            name=name,
            kind=kind,
        )
    return outlet


async def list_outlets(db: Database, p: Principal, slug: str) -> list[Outlet]:
    async with db.connection() as conn:
        community = await access.community(conn, p, slug, VIEWERS)
        return [from_row(o, Outlet) for o in await catalog.list_outlets(conn, community["id"])]


async def get_outlet(db: Database, p: Principal, outlet_id: int) -> Outlet:
    async with db.connection() as conn:
        return await _outlet(conn, p, outlet_id, VIEWERS)


async def create_donor(
    db: Database, p: Principal, slug: str, name: str, kind: str, *, ip: str = ""
) -> Donor:
    name = text.plain(name, max_length=100)
    if kind not in catalog.DONOR_KINDS:
        raise Invalid(N_("A donor is a partner unit or a merchant."))
    async with db.transaction() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES)
        if await catalog.find_donor(conn, community["id"], name):
            raise AlreadyExists(N_("A donor with this name already exists."))
        donor = from_row(await catalog.create_donor(conn, community["id"], name, kind), Donor)
        await audit.record(
            conn,
            p,
            "donor.create",
            community_id=community["id"],
            target=f"donor:{donor.id}",
            ip=ip,
            name=name,
            kind=kind,
        )
    return donor


async def list_donors(db: Database, p: Principal, slug: str) -> list[Donor]:
    async with db.connection() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES)
        return [from_row(d, Donor) for d in await catalog.list_donors(conn, community["id"])]


async def outlet_donors(db: Database, p: Principal, outlet_id: int) -> list[Donor]:
    """The donors of the outlet's community, for its donation form."""
    async with db.connection() as conn:
        outlet = await _outlet(conn, p, outlet_id, STAFF_ROLES)
        return [from_row(d, Donor) for d in await catalog.list_donors(conn, outlet.community_id)]


async def _donor(
    conn: ledger.Connection, p: Principal, community_id: int, donor: str | int | None, ip: str
) -> int | None:
    """A donor named by id or by name; a new name is recorded as a partner unit."""
    if donor is None or donor == "":
        return None
    if isinstance(donor, int) and not isinstance(donor, bool):
        found = await catalog.get_donor(conn, donor) if 0 < donor <= MAX_ID else None
        if found is None or found["community_id"] != community_id:
            raise Invalid(N_("No such donor in this community."))
        return int(found["id"])
    if not isinstance(donor, str):
        raise Invalid(N_("No such donor in this community."))
    name = text.plain(donor, max_length=100)
    found = await catalog.find_donor(conn, community_id, name)
    if found is None:
        found = await catalog.create_donor(conn, community_id, name, "unit")
        await audit.record(
            conn,
            p,
            "donor.create",
            community_id=community_id,
            target=f"donor:{found['id']}",
            ip=ip,
            name=name,
            kind="unit",
        )
    return int(found["id"])
