"""Proxies (代领): a resident's grant to a family member or neighbour of the same community to
collect reservations and pay at the counter for them, with the proxy's own pay code or card.

A grant is made by the resident themselves or by staff on their behalf, and ended at any time by
either; both acts are in the audit log. The counter asks ``check_grant`` inside its own
transaction before it debits the resident; without a live grant it is ``forbidden``. This module
never moves points.
"""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from ledger import Connection, Row
from mall import access
from mall import query as q
from mall import tables as t
from mall.access import STAFF_ROLES, Principal, acting_user_id, audit
from mall.db import Database
from mall.errors import N_, AlreadyExists, Forbidden, Invalid, NotFound
from mall.people import lifecycle, residents

#: who may grant and end a resident's proxies: staff of the community, or the resident
GRANT_ROLES = (*STAFF_ROLES, "resident")


class Grant(msgspec.Struct, frozen=True, kw_only=True):
    """A live grant: ``resident`` lets ``proxy`` collect and pay for them."""

    resident_id: int
    resident_name: str
    proxy_id: int
    proxy_name: str
    granted_at: datetime


class Grants(msgspec.Struct, frozen=True, kw_only=True):
    """A resident's live grants both ways: who may act for them, and for whom they may act."""

    proxies: list[Grant]
    principals: list[Grant]


class NoGrant(Forbidden):
    message = N_("This resident has not named the person at the counter as their proxy.")


def now() -> datetime:
    return datetime.now(UTC)


async def _pair(conn: Connection, p: Principal, resident_id: int, proxy_id: int) -> tuple[Row, Row]:
    """The resident (in the caller's scope) and the proxy, a resident of the same community."""
    row = await access.resident(conn, p, resident_id, GRANT_ROLES)
    if not 0 < proxy_id <= access.MAX_ID:
        raise NotFound(N_("No such resident in this community."))
    r = t.Resident
    other = await q.fetchrow(
        conn,
        r.select(r.id, r.name).where((r.id == proxy_id) & (r.community == row["community"])),
    )
    if other is None:
        raise NotFound(N_("No such resident in this community."))
    return row, other


async def grant(
    db: Database, p: Principal, resident_id: int, proxy_id: int, *, ip: str = ""
) -> Grant:
    """``proxy_id`` may now collect and pay for ``resident_id``: staff of their community, or
    the resident for themselves. Both records open, two different people; a live grant of the
    same pair is ``already_exists``."""
    if resident_id == proxy_id:
        raise Invalid(N_("A resident cannot be their own proxy."))
    at = now()
    async with db.transaction() as conn:
        row, other = await _pair(conn, p, resident_id, proxy_id)
        await lifecycle.check_open(conn, [resident_id, proxy_id])
        x = t.Proxy
        live = (x.resident == resident_id) & (x.proxy == proxy_id) & x.ended_at.is_null()
        if await q.fetchval(conn, x.exists().where(live)):
            raise AlreadyExists(N_("This person is already this resident's proxy."))
        await q.execute(
            conn,
            x.insert(
                x(
                    community=row["community"],
                    resident=resident_id,
                    proxy=proxy_id,
                    granted_at=at,
                    granted_by=acting_user_id(p),
                )
            ),
        )
        await audit.record(
            conn,
            p,
            "proxy.grant",
            community_id=row["community"],
            target=f"resident:{resident_id}",
            ip=ip,
            proxy=proxy_id,
        )
    return Grant(
        resident_id=resident_id,
        resident_name=row["name"],
        proxy_id=proxy_id,
        proxy_name=other["name"],
        granted_at=at,
    )


async def end(db: Database, p: Principal, resident_id: int, proxy_id: int, *, ip: str = "") -> None:
    """End the live grant (the resident or staff of their community); none is ``not_found``."""
    async with db.transaction() as conn:
        row, _ = await _pair(conn, p, resident_id, proxy_id)
        x = t.Proxy
        ended = await q.fetchval(
            conn,
            x.update({x.ended_at: now(), x.ended_by: acting_user_id(p)})
            .where((x.resident == resident_id) & (x.proxy == proxy_id) & x.ended_at.is_null())
            .returning(x.id),
        )
        if ended is None:
            raise NotFound(N_("This person is not this resident's proxy."))
        await audit.record(
            conn,
            p,
            "proxy.end",
            community_id=row["community"],
            target=f"resident:{resident_id}",
            ip=ip,
            proxy=proxy_id,
        )


async def grants(db: Database, p: Principal, resident_id: int) -> Grants:
    """The resident's live grants: their proxies, and the residents they are a proxy for."""
    async with db.connection() as conn:
        await access.resident(conn, p, resident_id, GRANT_ROLES)
        x = t.Proxy
        rows = await q.fetch(
            conn,
            x.select(
                x.resident,
                x.resident.name.as_alias("resident_name"),
                x.proxy,
                x.proxy.name.as_alias("proxy_name"),
                x.granted_at,
            )
            .where(((x.resident == resident_id) | (x.proxy == resident_id)) & x.ended_at.is_null())
            .order_by(x.id),
        )
    found = [
        Grant(
            resident_id=int(r["resident"]),
            resident_name=r["resident_name"],
            proxy_id=int(r["proxy"]),
            proxy_name=r["proxy_name"],
            granted_at=r["granted_at"],
        )
        for r in rows
    ]
    return Grants(
        proxies=[g for g in found if g.resident_id == resident_id],
        principals=[g for g in found if g.proxy_id == resident_id],
    )


async def check_grant(conn: Connection, proxy_id: int, resident_id: int, community_id: int) -> None:
    """In the caller's transaction: ``proxy_id`` holds a live grant from ``resident_id``, both
    of ``community_id`` (else ``forbidden``), and both records are open (``account_closed``)."""
    x = t.Proxy
    live = (
        (x.resident == resident_id)
        & (x.proxy == proxy_id)
        & (x.community == community_id)
        & x.ended_at.is_null()
    )
    if not 0 < resident_id <= access.MAX_ID or not await q.fetchval(conn, x.exists().where(live)):
        raise NoGrant()
    await lifecycle.check_open(conn, [resident_id, proxy_id])


async def principal_of(conn: Connection, resident_id: int) -> str:
    """The resident's name as the counter shows whose points are spent (张晓明 → 张*明)."""
    name = await q.fetchval(
        conn, t.Resident.select(t.Resident.name).where(t.Resident.id == resident_id)
    )
    return residents.mask_name(name or "")


async def grant_by_phone(
    db: Database, p: Principal, resident_id: int, name: str, phone: str, *, ip: str = ""
) -> Grant:
    """``grant`` to the open resident of the same community with exactly this name and mobile
    number (a resident on their phone names a family member so; both must match, so a number
    alone tells nobody who lives here)."""
    phone = residents.clean_phone(phone) or ""
    name = residents.clean_name(name)
    async with db.connection() as conn:
        row = await access.resident(conn, p, resident_id, GRANT_ROLES)
        r = t.Resident
        found = await q.fetchval(
            conn,
            r.select(r.id).where(
                (r.community == row["community"])
                & (r.phone == phone)
                & (r.name == name)
                & r.closed_at.is_null()
            ),
        )
    if found is None:
        raise NotFound(N_("No resident of your community has this name and mobile number."))
    return await grant(db, p, resident_id, int(found), ip=ip)
