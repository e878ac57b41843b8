"""Reads in bulk for reports: what a community's shelves are worth in points now.

Plain SQL like the rest of the catalog: the catalog imports nothing of the project, so not
``mall.query`` either. It never writes.
"""

from __future__ import annotations

from catalog.connection import Connection


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
