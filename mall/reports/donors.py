"""The donors' thank-you page (爱心榜): a community's donor units and merchants and what they
gave, for anyone to read (no sign-in), like the public notice. Only the names of donor units and
merchants appear; never a resident, a staff member or an id of either."""

from __future__ import annotations

import msgspec

import catalog
from mall import access
from mall import query as q
from mall import tables as t
from mall.db import Database
from mall.errors import NotFound


class Gift(msgspec.Struct, frozen=True, kw_only=True):
    item: str
    unit: str
    quantity: int
    """Donated so far (the total of the donor's donation stock movements of this item)."""


class Donor(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    kind: str
    """``unit`` (双报到/共建单位) or ``merchant``."""
    gifts: list[Gift]


class DonorBoard(msgspec.Struct, frozen=True, kw_only=True):
    community: str
    slug: str
    donors: list[Donor]


async def donor_board(db: Database, slug: str) -> DonorBoard:
    """The community's donors, first recorded first; an unknown community is ``not_found``."""
    if not access.SLUG.fullmatch(slug):
        raise NotFound()
    c = t.Community
    async with db.connection() as conn:
        row = await q.fetchrow(conn, c.select(c.id, c.slug, c.name).where(c.slug == slug).first())
        if row is None:
            raise NotFound()
        found = await catalog.donor_gifts(conn, int(row["id"]))
    return DonorBoard(
        community=row["name"],
        slug=row["slug"],
        donors=[
            Donor(
                name=d.name,
                kind=d.kind,
                gifts=[Gift(item=g.item, unit=g.unit, quantity=g.quantity) for g in d.gifts],
            )
            for d in found
        ],
    )
