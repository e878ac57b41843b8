"""Opening balances (期初积分) from the paper passbooks at launch: one staff member uploads a
spreadsheet (姓名/电话 or 居民编号, 存折号, 积分), every bad row named; the batch then waits until a
different staff member of the community approves it (``mall.earning.opening_approval``).

Never posts anything itself: uploading only checks the rows and keeps the batch as pending.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

import msgspec

from ledger import Connection
from mall import access
from mall import query as q
from mall import tables as t
from mall.access import STAFF_ROLES, Principal, audit
from mall.db import Database
from mall.errors import N_, Forbidden, NotFound
from mall.people import roster, sheets

#: each column's key → the header names staff use for it (the first is the template's)
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "name"),
    "phone": ("电话", "phone", "手机", "手机号"),
    "resident": ("居民编号", "resident", "resident id", "resident_id", "编号"),
    "passbook": ("存折号", "passbook", "存折编号"),
    "points": ("积分", "points", "期初积分"),
}
REQUIRED = ("passbook", "points")
TEMPLATE_HEADER = [names[0] for names in COLUMNS.values()]
MAX_POINTS = 100_000
MAX_PASSBOOK = 40

PENDING: Literal["pending_approval"] = "pending_approval"
APPROVED: Literal["approved"] = "approved"
REJECTED: Literal["rejected"] = "rejected"
BatchStatus = Literal["pending_approval", "approved", "rejected"]


class OpeningRow(msgspec.Struct, frozen=True, kw_only=True):
    row: int
    resident_id: int
    name: str
    passbook: str
    points: int


class Uploaded(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of an upload: ``batch_id`` is None on a dry run or when a row is bad."""

    batch_id: int | None
    status: BatchStatus | None
    valid: int
    total: int
    errors: list[roster.RowError]
    rows: list[OpeningRow]
    more_errors: int = 0


class Batch(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    community: str
    status: BatchStatus
    filename: str
    residents: int
    total: int
    created_by: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str
    lines: list[OpeningRow] = []


def now() -> datetime:
    return datetime.now(UTC)


async def upload(
    db: Database,
    p: Principal | None,
    slug: str,
    data: bytes,
    filename: str,
    *,
    dry_run: bool,
    ip: str = "",
) -> Uploaded:
    """Check the opening balances in ``data`` and, unless ``dry_run`` or a row is bad, keep them
    as a batch waiting for a different staff member's approval (staff of the community)."""
    user = access.staff(p)
    if user.user_id is None:
        raise Forbidden()
    async with db.connection() as conn:
        await access.community(conn, user, slug, STAFF_ROLES)
    sheet = sheets.read(data, filename, COLUMNS, REQUIRED)
    async with db.transaction() as conn:
        community = await access.community(conn, user, slug, STAFF_ROLES)
        if conn.dialect == "postgres":  # two uploads for one community: one after the other
            await conn.execute(
                "SELECT id FROM mall_community WHERE id = ? FOR UPDATE", community["id"]
            )
        people = await _people(conn, community["id"])
        given = await _given(conn, community["id"])
        good, errors = check_rows(sheet.rows, people, given)
        total = sum(r.points for r in good)
        if errors or dry_run:
            return Uploaded(
                batch_id=None,
                status=None,
                valid=len(good),
                total=total,
                errors=errors[: roster.MAX_ERRORS],
                rows=good,
                more_errors=max(0, len(errors) - roster.MAX_ERRORS),
            )
        batch_id = await q.fetchval(
            conn,
            t.OpeningBatch.insert(
                t.OpeningBatch(
                    community=community["id"],
                    status=PENDING,
                    filename=(filename or "")[:200],
                    residents=len(good),
                    total=total,
                    created_by=user.user_id,
                    created_at=now(),
                )
            ).returning(t.OpeningBatch.id),
        )
        await conn.executemany(
            "INSERT INTO mall_opening_line (batch, sheet_row, resident, passbook, points) "
            "VALUES (?, ?, ?, ?, ?)",
            [(batch_id, r.row, r.resident_id, r.passbook, r.points) for r in good],
        )
        await audit.record(
            conn,
            user,
            "opening.upload",
            community_id=community["id"],
            target=f"opening:{batch_id}",
            ip=ip,
            residents=len(good),
            total=total,
        )
    return Uploaded(
        batch_id=int(batch_id), status=PENDING, valid=len(good), total=total, errors=[], rows=good
    )


class _Person(msgspec.Struct, frozen=True):
    id: int
    name: str
    phone: str | None
    closed: bool


async def _people(conn: Connection, community_id: int) -> list[_Person]:
    rows = await q.fetch(
        conn,
        t.Resident.select(
            t.Resident.id, t.Resident.name, t.Resident.phone, t.Resident.closed_at
        ).where(t.Resident.community == community_id),
    )
    return [_Person(int(r["id"]), r["name"], r["phone"], r["closed_at"] is not None) for r in rows]


async def _given(conn: Connection, community_id: int) -> dict[int, str]:
    """The community's residents with an opening balance given or waiting: id → batch status."""
    rows = await q.fetch(
        conn,
        t.OpeningLine.select(t.OpeningLine.resident, t.OpeningLine.batch.status).where(
            (t.OpeningLine.batch.community == community_id)
            & (t.OpeningLine.batch.status != REJECTED)
        ),
    )
    return {int(r["resident"]): r["batch.status"] for r in rows}


class _Bad(Exception):
    def __init__(self, message: str, **params: Any) -> None:
        self.message, self.params = message, params


def check_rows(
    rows: list[sheets.SheetRow], people: list[_Person], given: dict[int, str]
) -> tuple[list[OpeningRow], list[roster.RowError]]:
    """The valid rows and each bad row's error, by its own row number."""
    by_id = {person.id: person for person in people}
    by_phone = {person.phone: person for person in people if person.phone and not person.closed}
    by_name: dict[str, list[_Person]] = {}
    for person in people:
        if not person.closed:
            by_name.setdefault(person.name, []).append(person)
    good: list[OpeningRow] = []
    errors: list[roster.RowError] = []
    seen: dict[int, int] = {}
    for row in rows:
        try:
            person = _who(row, by_id, by_phone, by_name)
            found = _check(row, person, given, seen)
        except _Bad as bad:
            errors.append(roster.RowError(row=row.number, message=bad.message, params=bad.params))
            continue
        seen[person.id] = row.number
        good.append(found)
    return good, errors


def _who(
    row: sheets.SheetRow,
    by_id: dict[int, _Person],
    by_phone: dict[str, _Person],
    by_name: dict[str, list[_Person]],
) -> _Person:
    if row.formula:
        raise _Bad(sheets.FORMULA)
    cells = row.cells
    name, phone, number = (cells.get(k, "").strip() for k in ("name", "phone", "resident"))
    who = number or phone or name
    person: _Person | None = None
    if number:
        person = by_id.get(int(number)) if number.isdigit() and len(number) < 10 else None
    elif phone:
        person = by_phone.get(phone.replace(" ", "").replace("-", ""))
    elif name:
        named = by_name.get(name, [])
        if len(named) > 1:
            raise _Bad(
                N_("Several residents are named {name}; please add the phone or resident number."),
                name=name[:50],
            )
        person = named[0] if named else None
    else:
        raise _Bad(N_("Please give the resident's name and phone, or their resident number."))
    if person is None or (name and person.name != name):
        raise _Bad(N_("No resident {who} in this community."), who=who[:50])
    if person.closed:
        raise _Bad(N_("{name}'s record is closed."), name=person.name)
    return person


def _check(
    row: sheets.SheetRow, person: _Person, given: dict[int, str], seen: dict[int, int]
) -> OpeningRow:
    cells = row.cells
    passbook = cells.get("passbook", "").strip()
    if not passbook or len(passbook) > MAX_PASSBOOK or not passbook.isprintable():
        raise _Bad(N_("Please give the passbook number (at most {n} characters)."), n=MAX_PASSBOOK)
    typed = cells.get("points", "").strip().replace(",", "")
    if not typed.isdigit() or not 1 <= int(typed) <= MAX_POINTS:
        raise _Bad(
            N_("Points must be a whole number from 1 to {most}; this row has {points}."),
            most=f"{MAX_POINTS:,}",
            points=typed[:20] or "—",
        )
    if person.id in given:
        if given[person.id] == APPROVED:
            raise _Bad(N_("{name} already has an opening balance."), name=person.name)
        raise _Bad(
            N_("{name} already has an opening balance waiting for approval."), name=person.name
        )
    if person.id in seen:
        raise _Bad(N_("{name} is also in row {other}."), name=person.name, other=seen[person.id])
    return OpeningRow(
        row=row.number,
        resident_id=person.id,
        name=person.name,
        passbook=passbook,
        points=int(typed),
    )


async def batches(db: Database, p: Principal | None, slug: str) -> list[Batch]:
    """The community's batches, waiting ones first, newest first (staff of the community)."""
    user = access.staff(p)
    async with db.connection() as conn:
        community = await access.community(conn, user, slug, STAFF_ROLES)
        rows = await q.fetch(conn, _select().where(t.OpeningBatch.community == community["id"]))
    found = [_batch(r, slug) for r in rows]
    return sorted(found, key=lambda b: (b.status != PENDING, -b.id))


async def batch(db: Database, p: Principal | None, batch_id: int) -> Batch:
    """One batch with its lines; another community's is ``not_found``."""
    user = access.staff(p)
    if not 0 < batch_id <= access.MAX_ID:
        raise NotFound()
    async with db.connection() as conn:
        row = await q.fetchrow(conn, _select().where(t.OpeningBatch.id == batch_id).first())
        if row is None or (not user.is_admin and row["community"] != user.community_id):
            raise NotFound()
        lines = await q.fetch(
            conn,
            t.OpeningLine.select(
                t.OpeningLine.sheet_row,
                t.OpeningLine.resident,
                t.OpeningLine.resident.name,
                t.OpeningLine.passbook,
                t.OpeningLine.points,
            )
            .where(t.OpeningLine.batch == batch_id)
            .order_by(t.OpeningLine.id),
        )
    return msgspec.structs.replace(
        _batch(row, row["community.slug"]),
        lines=[
            OpeningRow(
                row=int(r["sheet_row"]),
                resident_id=int(r["resident"]),
                name=r["resident.name"],
                passbook=r["passbook"],
                points=int(r["points"]),
            )
            for r in lines
        ],
    )


def _select() -> Any:
    b = t.OpeningBatch
    return b.select(
        b.id,
        b.community,
        b.community.slug,
        b.status,
        b.filename,
        b.residents,
        b.total,
        b.created_by.username,
        b.created_at,
        b.decided_by.username,
        b.decided_at,
        b.reason,
    )


def _batch(row: Any, slug: str) -> Batch:
    return Batch(
        id=int(row["id"]),
        community=slug,
        status=row["status"],
        filename=row["filename"],
        residents=int(row["residents"]),
        total=int(row["total"]),
        created_by=row["created_by.username"],
        created_at=row["created_at"],
        decided_by=row["decided_by.username"],
        decided_at=row["decided_at"],
        reason=row["reason"],
    )
