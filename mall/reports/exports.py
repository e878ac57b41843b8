"""Exports (导出): a community's awards, orders, residents, stock movements, every passbook and
the partners' monthly settlement as one header row and a stream of rows, for the days asked (China
time, ``to`` included). Everything a caller can get wrong (who they are, which community, the
table, the days) is refused here, before the first byte is sent; the rows are read a page at a
time while they are written out (``mall.reports.writers``)."""

from __future__ import annotations

from datetime import date

import msgspec

from mall import access, days
from mall.access import STAFF_ROLES, Principal
from mall.db import Database
from mall.errors import NotFound
from mall.reports import settlement
from mall.reports.export_tables import TABLES as _TABLES
from mall.reports.export_tables import Reader
from mall.reports.sheets import Rows, Scope

#: the longest range one export may cover
MAX_DAYS = 366

TABLES: dict[str, tuple[tuple[str, ...], Reader]] = {
    **_TABLES,
    "partner-settlement": (settlement.HEADERS, settlement.rows),
}
"""Every table an export may name: its Chinese headers and the reader of its rows."""


class Sheet(msgspec.Struct, frozen=True, kw_only=True):
    """An export ready to write: its headers now, its rows as they are read."""

    table: str
    slug: str
    start: date
    end: date
    headers: tuple[str, ...]
    rows: Rows

    @property
    def filename(self) -> str:
        """``awards-maple-2026-12-01-2026-12-31`` (ASCII: the slug is, and so are the dates)."""
        return f"{self.table}-{self.slug}-{self.start.isoformat()}-{self.end.isoformat()}"


def month_window(
    start: date | None, end: date | None, *, today: date | None = None
) -> tuple[date, date]:
    """The days asked for: by default the current calendar month up to today (China time), or
    from the first of ``end``'s month; more than ``MAX_DAYS`` or backwards is refused."""
    end = end or today or days.today()
    start = start or end.replace(day=1)
    return days.window(start, end, default_days=1, max_days=MAX_DAYS)


async def open_sheet(
    db: Database,
    p: Principal | None,
    slug: str,
    table: str,
    *,
    start: date | None = None,
    end: date | None = None,
) -> Sheet:
    """The table of the community for the days (staff of the community, administrators).
    An unknown table is ``not_found``; backwards or over-long days are ``validation_error``."""
    staff = access.staff(p)
    if table not in TABLES:
        raise NotFound()
    async with db.connection() as conn:
        community = await access.community(conn, staff, slug, STAFF_ROLES)
    start, end = month_window(start, end)
    since, until = days.utc_bounds(start, end)
    scope = Scope(
        community_id=int(community["id"]),
        slug=community["slug"],
        book=int(community["book"]),
        start=start,
        end=end,
        since=since,
        until=until,
    )
    headers, reader = TABLES[table]
    return Sheet(
        table=table,
        slug=scope.slug,
        start=start,
        end=end,
        headers=headers,
        rows=reader(db, scope),
    )
