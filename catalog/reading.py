"""Bulk reads for reports: a community's stock movements, a page at a time by movement id
(keyset), with the outlet's, item's and donor's names. Reads only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from catalog.connection import Connection

#: the most movements one page may hold
MAX_PAGE = 5000


@dataclass(frozen=True)
class MovementLine:
    """One stock movement as a report shows it."""

    id: int
    at: datetime
    outlet_id: int
    outlet: str
    sku: str
    item: str
    quantity: int
    reason: str
    reference: str
    donor: str | None
    memo: str
    level_after: int


async def movements(
    conn: Connection,
    community_id: int,
    *,
    since: datetime,
    until: datetime,
    after_id: int = 0,
    limit: int = 1000,
) -> list[MovementLine]:
    """Up to ``limit`` movements at the community's outlets made in ``[since, until)``, with
    ids above ``after_id``, oldest id first; pass the last id back for the next page."""
    limit = max(1, min(int(limit), MAX_PAGE))
    rows = await conn.fetch(
        "SELECT m.id, m.at, m.outlet, o.name AS outlet_name, i.sku, i.name AS item_name, "
        "m.quantity, m.reason, m.reference, d.name AS donor_name, m.memo, m.level_after "
        # CROSS JOIN: SQLite keeps this order, walking movements by id from the cursor rather
        # than reading and sorting every movement of the community on every page
        "FROM catalog_stock_movement m CROSS JOIN catalog_outlet o CROSS JOIN catalog_item i "
        "LEFT JOIN catalog_donor d ON d.id = m.donor "
        "WHERE o.id = m.outlet AND i.id = m.item "
        "AND o.community_id = ? AND m.id > ? AND m.at >= ? AND m.at < ? "
        "ORDER BY m.id LIMIT ?",
        community_id,
        after_id,
        since,
        until,
        limit,
    )
    return [
        MovementLine(
            id=int(r["id"]),
            at=r["at"],
            outlet_id=int(r["outlet"]),
            outlet=r["outlet_name"],
            sku=r["sku"],
            item=r["item_name"],
            quantity=int(r["quantity"]),
            reason=r["reason"],
            reference=r["reference"],
            donor=r["donor_name"],
            memo=r["memo"],
            level_after=int(r["level_after"]),
        )
        for r in rows
    ]


async def stock_value(conn: Connection, community_id: int) -> int:
    """Price × level of every item of goods on the shelves of the community's outlets (active or
    not: goods on a closed outlet's shelf are still there), from the cached levels. Services
    have no level and so no value here."""
    total = await conn.fetchval(
        "SELECT COALESCE(SUM(i.price_points * l.level), 0) FROM catalog_stock_level l"
        " JOIN catalog_outlet o ON o.id = l.outlet"
        " JOIN catalog_item i ON i.id = l.item"
        " WHERE o.community_id = ? AND i.kind = 'goods' AND l.level > 0",
        community_id,
    )
    return int(total)
