"""Looking a resident up at the counter: who they are (name masked), the points available, this
month's limits and their reservations here. The pay code is not consumed; for a printed card a
fresh pay code stands for the card during this one visit. Also what became of a code (its order).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

import msgspec

from catalog.tables import Item
from ledger import Connection
from mall import access
from mall import query as q
from mall import tables as t
from mall.access import Principal, throttle
from mall.counter import housekeeping, reservations
from mall.counter.basket import (
    COUNTER_ROLES,
    SCANNED_CODE_TTL,
    counter_outlet,
    now,
    used_this_month,
)
from mall.counter.orders import get_order
from mall.counter.payer import card_resident, check_behalf
from mall.counter.values import Order, Reservation
from mall.db import Database
from mall.errors import CodeInvalid
from mall.people import codes, credentials, proxies, residents
from mall.people.code_lookup import pay_code_row
from mall.settings import get_settings

#: What became of a resident's own pay code (``code_state``).
CodeState = Literal["paid", "scanned", "fresh", "stale", "unknown"]

#: Failed look-ups a volunteer, or a device, may make in ``LOOKUP_WINDOW``.
LOOKUP_FAILURES = 20
LOOKUP_WINDOW = timedelta(minutes=10)


class Person(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    display_name: str
    """Partly masked (王*英): enough to recognise at the counter."""


class Limit(msgspec.Struct, frozen=True, kw_only=True):
    """A limited item this month: how many a resident may take, took (or holds), and has left."""

    sku: str
    name: str
    limit: int
    used: int
    left: int


class Visit(msgspec.Struct, frozen=True, kw_only=True):
    """Who is at the counter: the resident, their points, this month's limits, their
    reservations awaiting pickup at this outlet, and the pay code that stands for them."""

    resident: Person
    available: int
    held: int
    limits: list[Limit]
    reservations: list[Reservation]
    counter_code: str
    proxy: Person | None = None
    """The proxy at the counter (代领), when ``resident`` is the one they act for: the
    resident's points pay, the proxy's code stands for them."""
    principals: list[Person] = []
    """The residents who named the person at the counter their proxy (live grants)."""


async def lookup(
    db: Database,
    p: Principal,
    outlet_id: int,
    code: str,
    pin: str | None = None,
    *,
    ip: str = "",
    at: datetime | None = None,
    on_behalf_of: int | None = None,
) -> Visit:
    """Who is at the counter: the resident (name masked), available points, this month's limits
    and their reservations at this outlet. The pay code is not consumed; it stays good until
    ``SCANNED_CODE_TTL`` after it was made, for the checkout, and looking it up again never
    extends that. For a printed card, ``counter_code`` is a fresh pay code that stands for the
    card (and its PIN) during this one visit.

    A look-up that fails (a wrong, used or expired code) counts against the volunteer and the
    device: ``LOOKUP_FAILURES`` in ``LOOKUP_WINDOW``, then ``rate_limited``, so a stolen tablet is
    no guessing machine. Each try takes its place first and a successful one gives it back.

    With ``on_behalf_of`` the code is a proxy's (代领): the visit is that resident's (their
    points, limits and reservations), with ``proxy`` the person at the counter; without a live
    grant it is ``forbidden``."""
    at = at or now()
    places = [f"lookup:user:{access.acting_user_id(p)}", f"lookup:ip:{ip}"]
    async with db.transaction() as conn:
        for key in places:
            await throttle.hit(conn, key, limit=LOOKUP_FAILURES, window=LOOKUP_WINDOW)
    visit = await _visit(db, p, outlet_id, code, pin, ip=ip, at=at, on_behalf_of=on_behalf_of)
    async with db.transaction() as conn:
        for key in places:
            await throttle.give_back(conn, key)
    return visit


async def _visit(
    db: Database,
    p: Principal,
    outlet_id: int,
    code: str,
    pin: str | None,
    *,
    ip: str,
    at: datetime,
    on_behalf_of: int | None = None,
) -> Visit:
    parsed = codes.parse(get_settings().secret_key, code)
    p = access.user(p, COUNTER_ROLES)
    async with db.connection() as conn:
        outlet = await counter_outlet(conn, p, outlet_id)
        if on_behalf_of is not None:  # a proxy of, or for, another community: forbidden
            await check_behalf(conn, parsed.ident, on_behalf_of, outlet["community_id"])
    if parsed.kind == codes.CARD:
        resident_id = await card_resident(db, p, outlet["community_id"], code, pin, ip)
        counter_code, ident = codes.new_pay_code(get_settings().secret_key)
        async with db.transaction() as conn:
            await credentials.insert_code(
                conn,
                codes.PAY,
                ident,
                resident_id,
                expires_at=at + SCANNED_CODE_TTL,
                created_by=p.user_id,
            )
    elif parsed.kind == codes.PAY:
        counter_code = code.strip().replace(" ", "")
        async with db.transaction() as conn:
            row = await pay_code_row(conn, parsed.ident, at)
            if row["community"] != outlet["community_id"]:
                raise CodeInvalid()
            resident_id = int(row["resident"])
            # fixed when the code was made (an offline code: when its window began)
            deadline = (row["valid_from"] or row["created_at"]) + SCANNED_CODE_TTL
            c = t.Code
            await q.execute(
                conn,
                c.update({c.expires_at: deadline}).where(
                    (c.id == row["id"]) & (c.expires_at < deadline)
                ),
            )
    else:
        raise CodeInvalid()
    proxy = None
    async with db.transaction() as conn:
        x = t.Proxy
        granted = await q.fetch(
            conn,
            x.select(x.resident, x.resident.name.as_alias("name"))
            .where((x.proxy == resident_id) & x.ended_at.is_null())
            .order_by(x.id),
        )
        if on_behalf_of is not None and on_behalf_of != resident_id:
            await proxies.check_grant(conn, resident_id, on_behalf_of, outlet["community_id"])
            here = await q.fetchval(
                conn, t.Resident.select(t.Resident.name).where(t.Resident.id == resident_id)
            )
            proxy = Person(id=resident_id, display_name=residents.mask_name(here))
            resident_id = on_behalf_of
    principals = [
        Person(id=int(r["resident"]), display_name=residents.mask_name(r["name"])) for r in granted
    ]
    await housekeeping.lapse_reservations(db, at)
    async with db.connection() as conn:
        name = await q.fetchval(
            conn, t.Resident.select(t.Resident.name).where(t.Resident.id == resident_id)
        )
        money = await residents.balances(conn, outlet["book"], resident_id)
        limits = await monthly_limits(conn, outlet["community_id"], resident_id, at)
        held = await reservations.held_at(conn, outlet_id, resident_id)
    return Visit(
        resident=Person(id=resident_id, display_name=residents.mask_name(name)),
        available=money.available,
        held=money.held,
        limits=limits,
        reservations=held,
        counter_code=counter_code,
        proxy=proxy,
        principals=[] if proxy is not None else principals,
    )


async def monthly_limits(
    conn: Connection, community_id: int, resident_id: int, at: datetime
) -> list[Limit]:
    """Every active limited item of the community, by name."""
    i = Item
    limited = (
        (i.community_id == community_id) & (i.active == True) & i.monthly_limit.is_not_null()  # noqa: E712
    )
    rows = await q.fetch(
        conn, i.select(i.id, i.sku, i.name, i.monthly_limit).where(limited).order_by(i.name, i.id)
    )
    used = await used_this_month(conn, resident_id, [int(r["id"]) for r in rows], at)
    return [
        Limit(
            sku=r["sku"],
            name=r["name"],
            limit=int(r["monthly_limit"]),
            used=used.get(int(r["id"]), 0),
            left=max(0, int(r["monthly_limit"]) - used.get(int(r["id"]), 0)),
        )
        for r in rows
    ]


async def order_for_code(db: Database, p: Principal, code: str) -> Order | None:
    """The order a resident's own pay code paid for, if it has (for the pay page's receipt)."""
    p = access.resident_self(p)
    try:
        parsed = codes.parse(get_settings().secret_key, code)
    except CodeInvalid:
        return None
    if parsed.kind != codes.PAY:
        return None
    async with db.connection() as conn:
        o = t.Order
        order_id = await q.fetchval(
            conn,
            o.select(o.id).where((o.code_ident == parsed.ident) & (o.resident == p.resident_id)),
        )
    return None if order_id is None else await get_order(db, p, int(order_id))


async def code_state(db: Database, p: Principal, code: str) -> tuple[CodeState, datetime | None]:
    """What became of a resident's own pay code, and until when it is good: ``paid``,
    ``scanned`` (looked up at a counter, kept for the checkout), ``fresh``, ``stale`` (about to
    expire or expired) or ``unknown``."""
    p = access.resident_self(p)
    try:
        parsed = codes.parse(get_settings().secret_key, code)
    except CodeInvalid:
        return "unknown", None
    async with db.connection() as conn:
        c = t.Code
        mine = (c.ident == parsed.ident) & (c.kind == "pay") & (c.resident == p.resident_id)
        row = await q.fetchrow(conn, c.select(c.expires_at, c.used_at).where(mine))
    if row is None:
        return "unknown", None
    if row["used_at"] is not None:
        return "paid", row["expires_at"]
    left = row["expires_at"] - now()
    if left > credentials.PAY_CODE_TTL:
        return "scanned", row["expires_at"]
    return ("fresh" if left > timedelta(seconds=15) else "stale"), row["expires_at"]
