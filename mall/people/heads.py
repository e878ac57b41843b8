"""Building and unit heads (楼栋长/单元长): the residents of the buildings a head serves, which is
all a head may see or propose points for. Reads only.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from ledger import Connection
from mall import access
from mall import query as q
from mall import tables as t
from mall.access import BuildingHead, Principal
from mall.db import Database
from mall.errors import N_, Forbidden, SelfDealing


class Neighbour(msgspec.Struct, frozen=True, kw_only=True):
    """A resident of one of the head's buildings."""

    id: int
    name: str
    building: str
    unit: str | None


def head(p: Principal | None) -> BuildingHead:
    """A building head's own session; anyone else is ``forbidden``."""
    found = access.require(p, ["building_head"])
    if found.role != "building_head":
        raise Forbidden()
    return found


async def neighbours(db: Database, p: Principal) -> list[Neighbour]:
    """The open records of the head's buildings in their community, by building, unit and name
    (their own record too: they see it, and never propose for it)."""
    p = head(p)
    if not p.buildings:
        return []
    r = t.Resident
    async with db.connection() as conn:
        rows = await q.fetch(
            conn,
            r.select(r.id, r.name, r.building, r.unit)
            .where(
                (r.community == p.community_id)
                & r.building.is_in(sorted(p.buildings))
                & r.closed_at.is_null()
            )
            .order_by(r.building, r.unit, r.name, r.id),
        )
    return [
        Neighbour(id=int(x["id"]), name=x["name"], building=x["building"], unit=x["unit"])
        for x in rows
    ]


async def check_neighbours(conn: Connection, p: BuildingHead, resident_ids: Sequence[int]) -> None:
    """Every resident is of the head's community and buildings (else ``forbidden``), and none is
    the head's own record (``self_dealing``)."""
    ids = sorted(set(resident_ids))
    if p.resident_id is not None and p.resident_id in ids:
        raise SelfDealing(N_("You cannot propose points for yourself; ask staff."))
    if any(not 0 < i <= access.MAX_ID for i in ids):
        raise Forbidden(OUTSIDE)
    r = t.Resident
    found = await q.fetchval(
        conn,
        r.count().where(
            r.id.is_in(ids)
            & (r.community == p.community_id)
            & r.building.is_in(sorted(p.buildings) or [""])
        ),
    )
    if int(found or 0) != len(ids):
        raise Forbidden(OUTSIDE)


OUTSIDE = N_("A building head proposes points only for residents of their own buildings.")
