"""Importing a resident roster (导入居民名单) from a spreadsheet: every row checked by the rules of
``mall.people.residents``, every bad row named by its number and reason, and nothing created
unless every row is valid; then all of them in one transaction, with one audit entry.

Never creates anything on a dry run, nor when any row is bad.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ledger import Connection
from mall import access
from mall import query as q
from mall import tables as t
from mall.access import STAFF_ROLES, Principal, audit
from mall.db import Database
from mall.errors import N_, Invalid
from mall.people import residents, sheets

#: each column's key → the header names staff use for it (the first is the template's)
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "name", "名字"),
    "phone": ("电话", "phone", "手机", "手机号", "联系电话", "mobile"),
    "grid": ("网格", "grid"),
    "building": ("楼栋", "building", "楼号"),
    "unit": ("单元", "unit"),
}
REQUIRED = ("name",)
TEMPLATE_HEADER = [names[0] for names in COLUMNS.values()]
#: a few bad rows are enough to fix a file; a page of thousands helps nobody
MAX_ERRORS = 200


class RowError(msgspec.Struct, frozen=True, kw_only=True):
    """A bad row: ``message`` is a message id, shown with ``params`` in the reader's language."""

    row: int
    message: str
    params: dict[str, Any] = {}


class RosterRow(msgspec.Struct, frozen=True, kw_only=True):
    """A valid row, as it will be created."""

    row: int
    name: str
    phone: str | None
    grid: str | None
    """The grid's code."""
    building: str | None
    unit: str | None


class Imported(msgspec.Struct, frozen=True, kw_only=True):
    """``created`` residents (0 on a dry run or when a row is bad); ``valid`` rows; the bad
    rows' errors, in row order, at most ``MAX_ERRORS`` (``more_errors`` says how many more)."""

    created: int
    valid: int
    errors: list[RowError]
    rows: list[RosterRow]
    dry_run: bool
    more_errors: int = 0


async def import_roster(
    db: Database,
    p: Principal | None,
    slug: str,
    data: bytes,
    filename: str,
    *,
    dry_run: bool,
    ip: str = "",
) -> Imported:
    """Import the roster in ``data`` into the community (staff of it, or an administrator).

    The whole file is refused (``validation_error``) when it is too large, not a spreadsheet
    or unreadable, has too many rows or no header naming 姓名/name; each bad row is reported
    and then nothing is created."""
    p = access.staff(p)
    async with db.connection() as conn:  # who may import, before the file is read
        await access.community(conn, p, slug, STAFF_ROLES)
    sheet = sheets.read(data, filename, COLUMNS, REQUIRED)
    async with db.transaction() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES)
        if conn.dialect == "postgres":  # two imports into one community: one after the other
            await conn.execute(
                "SELECT id FROM mall_community WHERE id = ? FOR UPDATE", community["id"]
            )
        grids, grid_ids = await _grids(conn, community["id"])
        taken = await _phones(conn, community["id"])
        good, errors = check_rows(sheet.rows, grids, taken)
        if errors or dry_run:
            return _outcome(0, good, errors, dry_run)
        for r in good:
            await residents.register(
                conn,
                community,
                r.name,
                r.phone,
                grid_ids[r.grid] if r.grid else None,
                r.building,
                r.unit,
            )
        await audit.record(
            conn,
            p,
            "resident.import",
            community_id=community["id"],
            target=f"community:{community['id']}",
            ip=ip,
            created=len(good),
            file=(filename or "")[:100],
        )
    return _outcome(len(good), good, [], dry_run)


def _outcome(
    created: int, good: list[RosterRow], errors: list[RowError], dry_run: bool
) -> Imported:
    return Imported(
        created=created,
        valid=len(good),
        errors=errors[:MAX_ERRORS],
        rows=good,
        dry_run=dry_run,
        more_errors=max(0, len(errors) - MAX_ERRORS),
    )


async def _grids(conn: Connection, community_id: int) -> tuple[dict[str, str], dict[str, int]]:
    """The community's grids: what a row may name (a code, or a name where no code reads the
    same) → the grid's code; and each code → the grid's id."""
    rows = await q.fetch(
        conn,
        t.Grid.select(t.Grid.id, t.Grid.code, t.Grid.name).where(t.Grid.community == community_id),
    )
    typed = {r["name"]: r["code"] for r in rows}
    typed.update({r["code"]: r["code"] for r in rows})
    return typed, {r["code"]: int(r["id"]) for r in rows}


async def _phones(conn: Connection, community_id: int) -> set[str]:
    """The phones of the community's open records (a closed one's number may be someone's now)."""
    rows = await q.fetch(
        conn,
        t.Resident.select(t.Resident.phone).where(
            (t.Resident.community == community_id)
            & t.Resident.phone.is_not_null()
            & t.Resident.closed_at.is_null()
        ),
    )
    return {r["phone"] for r in rows}


def check_rows(
    rows: list[sheets.SheetRow], grids: dict[str, str], taken: set[str]
) -> tuple[list[RosterRow], list[RowError]]:
    """The valid rows and the errors of the bad ones, each named by its row number. ``grids``
    maps what a row may name a grid by to its code; ``taken`` holds the phones already
    registered."""
    good: list[RosterRow] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for row in rows:
        try:
            good.append(_check(row, grids, taken, seen))
        except _Bad as bad:
            errors.append(RowError(row=row.number, message=bad.message, params=bad.params))
    return good, errors


class _Bad(Exception):
    def __init__(self, message: str, **params: Any) -> None:
        self.message, self.params = message, params


def _check(
    row: sheets.SheetRow, codes: dict[str, str], taken: set[str], seen: dict[str, int]
) -> RosterRow:
    if row.formula:
        raise _Bad(sheets.FORMULA)
    cells = row.cells
    if not cells.get("name", "").strip():
        raise _Bad(N_("The name is missing."))
    try:
        name = residents.clean_name(cells.get("name"))
    except Invalid:
        raise _Bad(N_("The name is too long or has characters that cannot be stored.")) from None
    try:
        phone = residents.clean_phone(cells.get("phone"))
    except Invalid:
        raise _Bad(
            N_("The phone {phone} is not a mobile number (11 digits, starting with 1)."),
            phone=cells.get("phone", "")[:20],
        ) from None
    grid_typed = cells.get("grid", "").strip()
    grid = codes.get(grid_typed) if grid_typed else None
    if grid_typed and grid is None:
        raise _Bad(N_("No grid {grid} in this community."), grid=grid_typed[:40])
    try:
        building = residents.clean_place(cells.get("building"))
        unit = residents.clean_place(cells.get("unit"))
    except Invalid:
        raise _Bad(N_("A building or unit has at most {n} characters."), n=20) from None
    if phone is not None:
        if phone in taken:
            raise _Bad(
                N_("The phone {phone} is already registered in this community."), phone=phone
            )
        if phone in seen:
            raise _Bad(
                N_("The phone {phone} is also in row {other} of this file."),
                phone=phone,
                other=seen[phone],
            )
        seen[phone] = row.number
    return RosterRow(
        row=row.number, name=name, phone=phone, grid=grid, building=building, unit=unit
    )
