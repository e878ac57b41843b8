"""Reads for the public thank-you page (爱心榜): a community's donors and what each gave (the
items recorded as theirs, with the totals of their donation stock movements). Reads only.

Hand-written SQL like the rest of the catalog: ``catalog/`` imports nothing of the project, so it
does not use ``mall.query``'s builder.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog.connection import Connection


@dataclass(frozen=True)
class Gift:
    """One item a donor gave: ``quantity`` is the total of its donation movements (0 for an item
    recorded as theirs whose stock came in otherwise)."""

    item: str
    unit: str
    quantity: int


@dataclass(frozen=True)
class DonorGifts:
    donor_id: int
    name: str
    kind: str
    """``unit`` (双报到/共建单位) or ``merchant``."""
    gifts: tuple[Gift, ...]


async def donor_gifts(conn: Connection, community_id: int) -> list[DonorGifts]:
    """The community's donors, first recorded first, each with what they gave by item name:
    two grouped reads (donation movements; items recorded as the donor's)."""
    donors = await conn.fetch(
        "SELECT id, name, kind FROM catalog_donor WHERE community_id = ? ORDER BY id",
        community_id,
    )
    given: dict[tuple[int, int], tuple[str, str, int]] = {}
    moved = await conn.fetch(
        "SELECT m.donor, i.id AS item, i.name, i.unit, SUM(m.quantity) AS quantity "
        "FROM catalog_stock_movement m JOIN catalog_donor d ON d.id = m.donor "
        "JOIN catalog_item i ON i.id = m.item "
        "WHERE d.community_id = ? AND m.reason = 'donation' "
        "GROUP BY m.donor, i.id, i.name, i.unit",
        community_id,
    )
    for r in moved:
        given[(int(r["donor"]), int(r["item"]))] = (r["name"], r["unit"], int(r["quantity"]))
    recorded = await conn.fetch(
        "SELECT i.donor, i.id AS item, i.name, i.unit FROM catalog_item i "
        "JOIN catalog_donor d ON d.id = i.donor WHERE d.community_id = ?",
        community_id,
    )
    for r in recorded:
        given.setdefault((int(r["donor"]), int(r["item"])), (r["name"], r["unit"], 0))
    return [
        DonorGifts(
            donor_id=int(d["id"]),
            name=d["name"],
            kind=d["kind"],
            gifts=tuple(
                Gift(item=name, unit=unit, quantity=quantity)
                for (donor, _), (name, unit, quantity) in sorted(
                    given.items(), key=lambda kv: (kv[1][0], kv[0][1])
                )
                if donor == d["id"]
            ),
        )
        for d in donors
    ]
