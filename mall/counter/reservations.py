"""Reservations (预约): a resident sets goods aside in the app and collects them at the counter.

Reserving puts the points on a ledger hold (wallet → holds) and moves the goods off the shelf
(reason ``reservation``); collecting captures the hold to the outlet and records an order;
cancelling, or lapsing after ``MALL_RESERVATION_DAYS`` days (default 3; the lapse is in
``mall.counter.housekeeping``), releases both. The reservation row's status changes first
(``UPDATE ... WHERE status = 'held'``), so two counters, or a counter and the lapse, never settle
one reservation twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from piccolo.query.methods.select import Select
from piccolo.query.methods.update import Update

import ledger
from ledger import Connection
from mall import access
from mall import query as q
from mall import tables as t
from mall.access import STAFF_ROLES, Principal
from mall.counter import basket, orders, payer
from mall.counter.basket import COUNTER_ROLES, ItemLine, now
from mall.counter.values import Receipt, Reservation
from mall.db import Database
from mall.errors import N_, CodeInvalid, Invalid, MallError, NotFound
from mall.notify import inbox, kinds
from mall.org import points
from mall.people import code_lookup, codes, lifecycle, proxies
from mall.settings import get_settings


class ReservationClosed(MallError):
    code, status = "validation_error", 409
    message = N_("This reservation is already settled.")


def lapse_days() -> int:
    """Days a reservation waits for pickup (``MALL_RESERVATION_DAYS``, mall/settings.py)."""
    return get_settings().reservation_days


async def lines_of(conn: Connection, reservation_ids: list[int]) -> dict[int, list[ItemLine]]:
    """Each reservation's lines with their items (for the stock and the order lines)."""
    if not reservation_ids:
        return {}
    line = t.ReservationLine
    rows = await q.fetch(
        conn,
        line.select(
            line.reservation,
            line.item,
            line.item.sku.as_alias("sku"),
            line.item.kind.as_alias("kind"),
            line.name,
            line.quantity,
            line.price_points,
        )
        .where(line.reservation.is_in(reservation_ids))
        .order_by(line.id),
    )
    found: dict[int, list[ItemLine]] = {rid: [] for rid in reservation_ids}
    for r in rows:
        found[int(r["reservation"])].append(
            ItemLine(
                item_id=int(r["item"]),
                sku=r["sku"],
                kind=r["kind"],
                name=r["name"],
                quantity=int(r["quantity"]),
                price_points=int(r["price_points"]),
            )
        )
    return found


def _public(row: ledger.Row, lines: list[ItemLine], *, replayed: bool = False) -> Reservation:
    return Reservation(
        id=int(row["id"]),
        outlet=int(row["outlet"]),
        outlet_name=row["outlet_name"],
        total=int(row["total"]),
        status=row["status"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        order_id=row["order_id"],
        lines=orders.public_lines(lines),
        replayed=replayed,
    )


def _reservations() -> Select[t.Reservation]:
    """Reservations with their outlet's name and their community's book."""
    r = t.Reservation
    return r.select(
        r.id,
        r.community,
        r.outlet,
        r.resident,
        r.total,
        r.status,
        r.hold_id,
        r.created_at,
        r.expires_at,
        r.order_id,
        r.outlet.name.as_alias("outlet_name"),
        r.community.book.as_alias("book"),
    )


R = t.Reservation


def _settle(reservation_id: int, status: str, at: datetime) -> Update[t.Reservation]:
    """Settle a reservation still held, answering its id; of two settling it at once, the
    other finds nothing (None)."""
    settled = R.update({R.status: status, R.closed_at: at})
    return settled.where((R.id == reservation_id) & (R.status == "held")).returning(R.id)


async def held_at(conn: Connection, outlet_id: int, resident_id: int) -> list[Reservation]:
    """The resident's reservations awaiting pickup at the outlet, oldest first."""
    held = (R.outlet == outlet_id) & (R.resident == resident_id) & (R.status == "held")
    rows = await q.fetch(conn, _reservations().where(held).order_by(R.id))
    lines = await lines_of(conn, [int(r["id"]) for r in rows])
    return [_public(r, lines[int(r["id"])]) for r in rows]


async def my_reservations(db: Database, p: Principal, *, limit: int = 50) -> list[Reservation]:
    p = access.resident_self(p)
    async with db.connection() as conn:
        rows = await q.fetch(
            conn,
            _reservations()
            .where(R.resident == p.resident_id)
            .order_by(R.id, ascending=False)
            .limit(max(1, min(limit, 200))),
        )
        lines = await lines_of(conn, [int(r["id"]) for r in rows])
    return [_public(r, lines[int(r["id"])]) for r in rows]


async def reserve(
    db: Database,
    p: Principal,
    outlet_id: int,
    lines: Iterable[tuple[str, int]],
    *,
    idempotency_key: str,
    req_hash: str,
) -> Reservation:
    """Set goods aside for the signed-in resident at one of their community's outlets."""
    p = access.resident_self(p)
    wanted = basket.clean_lines(lines)
    at = now()
    async with db.transaction() as conn:
        outlet = await basket.outlet_row(conn, outlet_id)
        if outlet["community_id"] != p.community_id:
            raise NotFound()
        await lifecycle.check_open(conn, [p.resident_id], lock="NO KEY UPDATE")
        first = await q.fetchrow(
            conn,
            R.select(R.id, R.request_hash).where(
                (R.resident == p.resident_id) & (R.idempotency_key == idempotency_key)
            ),
        )
        if first is not None:
            if first["request_hash"] != req_hash:
                raise ledger.IdempotencyKeyReused(idempotency_key)
            return await _one(conn, int(first["id"]), replayed=True)
        order_lines = await basket.priced_lines(conn, outlet["community_id"], wanted)
        if any(line.kind != "goods" for line in order_lines):
            raise Invalid(N_("Only goods can be reserved; services are booked at the counter."))
        total = sum(line.price_points * line.quantity for line in order_lines)
        await basket.check_limits(conn, p.resident_id, order_lines, at)
        await basket.check_stock(conn, outlet_id, order_lines)
        available = await basket.wallet_balance(conn, outlet["book"], p.resident_id)
        if total > available:
            raise basket.not_enough(total, available)
        expires = at + timedelta(days=lapse_days())
        try:
            hold = await ledger.place_hold(
                conn,
                outlet["book"],
                points.wallet(p.resident_id),
                total,
                expires_at=expires,
                idempotency_key=basket.scoped_key(f"reserve:r{p.resident_id}", idempotency_key),
                memo="预约：" + basket.memo_of(order_lines),
            )
        except ledger.InsufficientFunds as exc:
            raise basket.not_enough(total, exc.balance) from exc
        reservation = R(
            community=outlet["community_id"],
            outlet=outlet_id,
            resident=p.resident_id,
            total=total,
            status="held",
            hold_id=hold.id,
            idempotency_key=idempotency_key,
            request_hash=req_hash,
            created_at=at,
            expires_at=expires,
        )
        reservation_id = int(await q.fetchval(conn, R.insert(reservation).returning(R.id)))
        await basket.move_lines(
            conn, outlet_id, order_lines, -1, "reservation", f"reservation:{reservation_id}", None
        )
        line = t.ReservationLine
        await q.execute(
            conn,
            line.insert(
                *(
                    line(
                        reservation=reservation_id,
                        item=li.item_id,
                        name=li.name,
                        quantity=li.quantity,
                        price_points=li.price_points,
                    )
                    for li in order_lines
                )
            ),
        )
        await inbox.post(
            conn,
            community_id=outlet["community_id"],
            resident_id=p.resident_id,
            kind=kinds.RESERVATION_READY,
            key=f"reservation:{reservation_id}:ready",
            at=at,
            outlet=outlet["name"],
            until=inbox.moment(expires),
            points=total,
        )
        return await _one(conn, reservation_id)


async def _one(conn: Connection, reservation_id: int, *, replayed: bool = False) -> Reservation:
    row = await q.fetchrow(conn, _reservations().where(R.id == reservation_id))
    assert row is not None
    lines = (await lines_of(conn, [reservation_id]))[reservation_id]
    return _public(row, lines, replayed=replayed)


async def _row(
    conn: Connection, p: Principal, reservation_id: int, roles: tuple[str, ...]
) -> ledger.Row:
    """The reservation, if ``p`` may act on it: its resident, or staff and volunteers of its
    community; anyone else gets ``NotFound``."""
    access.require(p, roles)
    if not 0 < reservation_id <= access.MAX_ID:
        raise NotFound()
    row = await q.fetchrow(conn, _reservations().where(R.id == reservation_id))
    if row is None:
        raise NotFound()
    if p.role == "resident":
        if row["resident"] != p.resident_id:
            raise NotFound()
    elif not p.is_admin and row["community"] != p.community_id:
        raise NotFound()
    return row


async def get_reservation(db: Database, p: Principal, reservation_id: int) -> Reservation:
    """One reservation, for its resident and for staff and volunteers of its community (the
    question before cancelling it); anyone else gets ``NotFound``."""
    async with db.connection() as conn:
        await _row(conn, p, reservation_id, ("resident",) + COUNTER_ROLES)
        return await _one(conn, reservation_id)


async def cancel(db: Database, p: Principal, reservation_id: int) -> Reservation:
    """Give the points and goods back; cancelling a cancelled reservation changes nothing."""
    async with db.transaction() as conn:
        row = await _row(conn, p, reservation_id, ("resident",) + STAFF_ROLES)
        if row["status"] == "cancelled":
            return await _one(conn, reservation_id)
        await _cancel(conn, p, row)
        return await _one(conn, reservation_id)


async def _cancel(conn: Connection, p: Principal, row: ledger.Row) -> None:
    """Cancel a reservation waiting for pickup: the hold released, the goods back on the shelf."""
    reservation_id = int(row["id"])
    closed = await q.fetchval(conn, _settle(reservation_id, "cancelled", now()))
    if closed is None:
        raise ReservationClosed()
    await ledger.release_hold(
        conn,
        row["hold_id"],
        idempotency_key=f"reservation:{reservation_id}:cancel",
        memo="取消预约，积分退回",
    )
    lines = (await lines_of(conn, [reservation_id]))[reservation_id]
    await basket.move_lines(
        conn,
        row["outlet"],
        lines,
        1,
        "release",
        f"reservation:{reservation_id}",
        access.acting_user_id(p),
    )


async def cancel_waiting(conn: Connection, p: Principal, resident_id: int) -> int:
    """Cancel every reservation of the resident still waiting for pickup, in the caller's
    transaction: for closing their record (``mall.people.lifecycle`` takes this as its
    ``release``, since it may not import this package). The caller has checked the scope.
    Returns how many were cancelled."""
    held = (R.resident == resident_id) & (R.status == "held")
    rows = await q.fetch(conn, _reservations().where(held).order_by(R.id))
    for row in rows:
        await _cancel(conn, p, row)
    return len(rows)


async def collect(
    db: Database,
    p: Principal,
    reservation_id: int,
    *,
    code: str,
    pin: str | None = None,
    ip: str = "",
    on_behalf_of: int | None = None,
) -> Receipt:
    """Hand a reservation over at the counter, in one tap: the resident's pay code (not used
    up, so they can still buy more) or card and PIN proves they are there. Records an order
    with ``reservation_id``; collecting it again returns that order. A proxy (代领) with a live
    grant from the resident may collect it with their own code, naming the resident in
    ``on_behalf_of`` (``forbidden`` without the grant); the order records them."""
    p = access.user(p, COUNTER_ROLES)
    parsed = codes.parse(get_settings().secret_key, code)
    async with db.connection() as conn:
        row = await _row(conn, p, reservation_id, COUNTER_ROLES)
        if on_behalf_of is not None:  # a proxy of, or for, another community: forbidden
            await payer.check_behalf(conn, parsed.ident, on_behalf_of, int(row["community"]))
    basket.check_serves_at(p, int(row["outlet"]))
    if parsed.kind == codes.CARD:
        holder = await payer.card_resident(db, p, row["community"], code, pin, ip)
    elif parsed.kind != codes.PAY:
        raise CodeInvalid()
    at = now()
    async with db.transaction() as conn:
        row = await _row(conn, p, reservation_id, COUNTER_ROLES)
        if row["status"] == "collected" and row["order_id"] is not None:
            done = await orders.get_order(db, p, int(row["order_id"]))
            return Receipt(
                id=done.id, total=done.total, balance_after=done.balance_after, replayed=True
            )
        if parsed.kind == codes.PAY:
            holder = int((await code_lookup.pay_code_row(conn, parsed.ident, at))["resident"])
        proxy_id = None
        if on_behalf_of is not None and holder != on_behalf_of:
            if on_behalf_of != row["resident"]:
                raise proxies.NoGrant()
            await proxies.check_grant(conn, holder, on_behalf_of, int(row["community"]))
            proxy_id = holder
        elif holder != row["resident"]:
            raise CodeInvalid()
        if row["status"] == "held" and row["expires_at"] <= at:
            raise ReservationClosed(
                N_("This reservation was not collected in time and has lapsed.")
            )
        closed = await q.fetchval(conn, _settle(reservation_id, "collected", at))
        if closed is None:
            raise ReservationClosed()
        journal = await ledger.capture_hold(
            conn,
            row["hold_id"],
            points.redeemed(row["outlet"], row["resident"]),
            idempotency_key=f"reservation:{reservation_id}:collect",
            memo="领取预约：" + str(reservation_id),
        )
        order = t.Order(
            community=row["community"],
            outlet=row["outlet"],
            resident=row["resident"],
            user_id=p.user_id,
            total=row["total"],
            status="completed",
            journal_id=journal.id,
            reservation_id=reservation_id,
            proxy=proxy_id,
            idempotency_key=f"reservation:{reservation_id}",
            request_hash="",
            created_at=at,
        )
        order_id = int(await q.fetchval(conn, t.Order.insert(order).returning(t.Order.id)))
        await q.execute(conn, R.update({R.order_id: order_id}).where(R.id == reservation_id))
        lines = (await lines_of(conn, [reservation_id]))[reservation_id]
        await basket.insert_order_lines(conn, order_id, lines)
        after = await basket.wallet_balance(conn, row["book"], row["resident"])
    return Receipt(id=order_id, total=int(row["total"]), balance_after=after, replayed=False)


async def my_reservation(db: Database, p: Principal, reservation_id: int) -> Reservation:
    """One of the signed-in resident's reservations (another's is ``NotFound``)."""
    async with db.connection() as conn:
        await _row(conn, p, reservation_id, ("resident",))
        return await _one(conn, reservation_id)
