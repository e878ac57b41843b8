"""Redemption at the counter (兑换): looking a resident up by pay code or printed card, checkout,
orders, refunds and the volunteer's shift summary.

A checkout is one transaction: the pay code is consumed, one journal moves the points from the
wallet to the outlet's ``redeemed`` account, the goods leave the shelf as stock movements, and the
order is recorded; any failure writes nothing. Every read and check comes first, the writes last,
so the window in which the hot ``redeemed`` account is locked stays short. Never hash a password
here except on the printed-card path (its PIN).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import catalog
import ledger
from ledger import Connection, Row
from mall import access, audit, codes, points, residents
from mall.access import STAFF_ROLES
from mall.auth import Principal
from mall.db import Database
from mall.errors import (
    N_,
    AlreadyRefunded,
    CodeExpired,
    CodeInvalid,
    CodeUsed,
    Forbidden,
    InsufficientPoints,
    Invalid,
    LimitExceeded,
    NotFound,
)
from mall.settings import get_settings

#: Who may serve at the counter: volunteers, staff, and street administrators.
COUNTER_ROLES = ("admin", "staff", "volunteer")
#: Monthly limits (限兑) run by the calendar month in China Standard Time.
CHINA = timezone(timedelta(hours=8), "CST")
MAX_QUANTITY = 99
MAX_LINES = 50
#: A pay code scanned at the counter stays good for the checkout this long, however slowly the
#: goods are picked (the phone stops renewing it once it has been scanned).
SCANNED_CODE_TTL = timedelta(minutes=10)


def now() -> datetime:
    return datetime.now(UTC)


def month_start(at: datetime) -> datetime:
    """The first moment of ``at``'s calendar month in China, in UTC."""
    local = at.astimezone(CHINA)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def clean_lines(lines: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    """``(sku, quantity)`` pairs with the same SKU merged, in first-seen order; refuses empty
    orders, quantities outside 1..99 and more than 50 different items."""
    merged: dict[str, int] = {}
    for sku, quantity in lines:
        sku = (sku or "").strip()
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise Invalid(N_("Quantities are whole numbers from 1 to {n}."), n=MAX_QUANTITY)
        if not sku or len(sku) > 64:
            raise Invalid(N_("There is no item with the code {sku} on sale."), sku=sku[:64])
        merged[sku] = merged.get(sku, 0) + quantity
    if not merged:
        raise Invalid(N_("Please add at least one item."))
    if len(merged) > MAX_LINES or any(q > MAX_QUANTITY for q in merged.values()):
        raise Invalid(N_("Quantities are whole numbers from 1 to {n}."), n=MAX_QUANTITY)
    return list(merged.items())


def scoped_key(scope: str, key: str) -> str:
    """A ledger idempotency key for one kind of operation (``order:o5``, ``refund:12``): a
    client's key for a checkout never collides with the same key used for another operation.
    Kept within the ledger's 200 characters by hashing a long key."""
    scoped = f"{scope}:{key}"
    return scoped if len(scoped) <= 200 else f"{scope}:{hashlib.sha256(key.encode()).hexdigest()}"


def memo_of(lines: Sequence[dict]) -> str:
    """``食用油×1、香皂×2``: what the passbook says was exchanged."""
    return "、".join(f"{line['name']}×{line['quantity']}" for line in lines)[:200]


# Reads shared by checkout, lookup and reservations ------------------------------------------


async def counter_outlet(conn: Connection, p: Principal, outlet_id: int) -> Row:
    """The outlet, if ``p`` serves at it: staff or volunteers of its community (a volunteer
    given outlets: only those), or the street."""
    access.require(p, COUNTER_ROLES)
    check_serves_at(p, outlet_id)
    row = await outlet_row(conn, outlet_id)
    if not p.is_admin and row["community_id"] != p.community_id:
        raise NotFound()
    return row


def check_serves_at(p: Principal, outlet_id: int) -> None:
    """A volunteer given outlets serves at those only: any other is ``forbidden``, before any
    query (so on both engines alike, whatever the outlet)."""
    if not p.serves_at(outlet_id):
        raise Forbidden(
            N_("This is not one of your outlets. Please ask staff to add it if you serve here.")
        )


def check_outlet_id(outlet_id: int) -> None:
    """An id no outlet can have is ``not_found`` before any query."""
    if not 0 < outlet_id <= access.MAX_ID:
        raise NotFound()


async def outlet_row(conn: Connection, outlet_id: int) -> Row:
    check_outlet_id(outlet_id)
    row = await conn.fetchrow(
        "SELECT o.id, o.community_id, o.name, o.kind, o.active, c.book, c.slug "
        "FROM catalog_outlet o JOIN mall_community c ON c.id = o.community_id WHERE o.id = ?",
        outlet_id,
    )
    if row is None:
        raise NotFound()
    if not row["active"]:
        raise outlet_closed()
    return row


def outlet_closed() -> Invalid:
    return Invalid(N_("This outlet is closed."))


def no_item(sku: str) -> Invalid:
    return Invalid(N_("There is no item with the code {sku} on sale."), sku=sku)


def over_limit(name: str, limit: int, left: int) -> LimitExceeded:
    return LimitExceeded(
        N_("{name}: at most {limit} a month for each resident; {left} left this month."),
        name=name,
        limit=limit,
        left=left,
    )


async def priced_lines(
    conn: Connection, community_id: int, wanted: list[tuple[str, int]]
) -> list[dict]:
    """Each wanted line with its item (one query), sorted by item id (the lock order)."""
    marks = ", ".join("?" for _ in wanted)
    rows = await conn.fetch(
        "SELECT id, sku, name, kind, price_points, monthly_limit, active FROM catalog_item "
        f"WHERE community_id = ? AND sku IN ({marks})",
        community_id,
        *[sku for sku, _ in wanted],
    )
    by_sku = {row["sku"]: row for row in rows}
    lines = []
    for sku, quantity in wanted:
        item = by_sku.get(sku)
        if item is None or not item["active"]:
            raise no_item(sku)
        lines.append(
            {
                "item_id": int(item["id"]),
                "sku": sku,
                "name": item["name"],
                "kind": item["kind"],
                "price_points": int(item["price_points"]),
                "monthly_limit": item["monthly_limit"],
                "quantity": quantity,
            }
        )
    return sorted(lines, key=lambda line: line["item_id"])


async def used_this_month(
    conn: Connection, resident_id: int, item_ids: Sequence[int], at: datetime
) -> dict[int, int]:
    """How many of each item the resident took this month (completed orders) or holds in a
    reservation awaiting pickup."""
    if not item_ids:
        return {}
    marks = ", ".join("?" for _ in item_ids)
    rows = await conn.fetch(
        'SELECT l.item, l.quantity FROM mall_order_line l JOIN mall_order o ON o.id = l."order" '
        f"WHERE o.resident = ? AND o.status = 'completed' AND o.created_at >= ? "
        f"AND l.item IN ({marks}) "
        "UNION ALL SELECT l.item, l.quantity FROM mall_reservation_line l "
        "JOIN mall_reservation r ON r.id = l.reservation "
        f"WHERE r.resident = ? AND r.status = 'held' AND l.item IN ({marks})",
        resident_id,
        month_start(at),
        *item_ids,
        resident_id,
        *item_ids,
    )
    used: dict[int, int] = {}
    for row in rows:
        used[int(row["item"])] = used.get(int(row["item"]), 0) + int(row["quantity"])
    return used


async def check_limits(conn: Connection, resident_id: int, lines: list[dict], at: datetime) -> None:
    """Refuse a line that would take the resident past an item's monthly limit.

    On PostgreSQL the resident's row is locked first (``FOR NO KEY UPDATE``, which foreign-key
    checks do not wait for), so that two orders or reservations of one resident at once count
    each other's lines rather than both counting the month before either; SQLite's IMMEDIATE
    transactions are one at a time already. ``mall_checkout`` does the same."""
    limited = [line for line in lines if line["monthly_limit"] is not None]
    if not limited:
        return
    if conn.dialect == "postgres":
        await conn.fetchval(
            "SELECT id FROM mall_resident WHERE id = ? FOR NO KEY UPDATE", resident_id
        )
    used = await used_this_month(conn, resident_id, [line["item_id"] for line in limited], at)
    for line in limited:
        left = max(0, int(line["monthly_limit"]) - used.get(line["item_id"], 0))
        if line["quantity"] > left:
            raise over_limit(line["name"], line["monthly_limit"], left)


async def check_stock(conn: Connection, outlet_id: int, lines: list[dict]) -> None:
    """Refuse before any write when a goods line asks for more than the shelf holds."""
    goods = [line for line in lines if line["kind"] == "goods"]
    if not goods:
        return
    marks = ", ".join("?" for _ in goods)
    rows = await conn.fetch(
        f"SELECT item, level FROM catalog_stock_level WHERE outlet = ? AND item IN ({marks})",
        outlet_id,
        *[line["item_id"] for line in goods],
    )
    levels = {int(r["item"]): int(r["level"]) for r in rows}
    for line in goods:
        level = levels.get(line["item_id"], 0)
        if line["quantity"] > level:
            raise catalog.OutOfStock(line["item_id"], line["name"], level, line["quantity"])


async def wallet_balance(conn: Connection, book: int, resident_id: int) -> int:
    return int(
        await conn.fetchval(
            "SELECT balance FROM ledger_account WHERE book = ? AND code = ?",
            book,
            points.wallet(resident_id),
        )
        or 0
    )


def not_enough(total: int, available: int) -> InsufficientPoints:
    return InsufficientPoints(
        N_("Not enough points: {total} needed, {available} available."),
        total=total,
        available=available,
    )


async def move_lines(
    conn: Connection,
    outlet_id: int,
    lines: Iterable[dict],
    sign: int,
    reason: str,
    reference: str,
    user_id: int | None,
) -> None:
    """A stock movement for each goods line (services are not stocked), in item id order."""
    for line in sorted(lines, key=lambda line: line["item_id"]):
        if line["kind"] == "goods":
            await catalog.move_stock(
                conn,
                outlet_id,
                line["item_id"],
                sign * line["quantity"],
                reason,
                reference=reference,
                user_id=user_id,
            )


async def insert_order_lines(conn: Connection, order_id: int, lines: Iterable[dict]) -> None:
    await conn.executemany(
        'INSERT INTO mall_order_line ("order", item, name, quantity, price_points) '
        "VALUES (?, ?, ?, ?, ?)",
        [
            (order_id, line["item_id"], line["name"], line["quantity"], line["price_points"])
            for line in lines
        ],
    )


# Pay codes and cards ------------------------------------------------------------------------


async def pay_code_row(conn: Connection, ident: str, at: datetime) -> Row:
    """The pay code's row, if it can still pay: else ``code_invalid``, ``code_used`` or
    ``code_expired``."""
    row = await conn.fetchrow(
        "SELECT c.id, c.resident, c.expires_at, c.used_at, c.revoked_at, r.community "
        "FROM mall_code c JOIN mall_resident r ON r.id = c.resident "
        "WHERE c.ident = ? AND c.kind = 'pay'",
        ident,
    )
    residents.check_usable(row, at)
    assert row is not None
    return row


async def card_resident(
    db: Database, p: Principal, community_id: int, code: str, pin: str | None, ip: str
) -> int:
    """The resident of a printed card whose PIN is right, if they belong to ``community_id``."""
    if not pin:
        raise Invalid(N_("Please enter the card's PIN."))
    resident_id = await residents.resident_for_card(db, p, code, pin, ip=ip)
    async with db.connection() as conn:
        community = await conn.fetchval(
            "SELECT community FROM mall_resident WHERE id = ?", resident_id
        )
    if community != community_id:
        raise CodeInvalid()
    return resident_id


# Lookup ---------------------------------------------------------------------------------------


async def lookup(
    db: Database,
    p: Principal,
    outlet_id: int,
    code: str,
    pin: str | None = None,
    *,
    ip: str = "",
    at: datetime | None = None,
) -> dict:
    """Who is at the counter: the resident (name masked), available points, this month's limits
    and their reservations at this outlet. The pay code is not consumed; it stays good for
    ``SCANNED_CODE_TTL`` for the checkout. For a printed card, ``counter_code`` is a fresh pay
    code that stands for the card (and its PIN) during this one visit."""
    from mall import reservations  # reservations builds on this module

    at = at or now()
    parsed = codes.parse(get_settings().secret_key, code)
    async with db.connection() as conn:
        outlet = await counter_outlet(conn, p, outlet_id)
    if parsed.kind == codes.CARD:
        resident_id = await card_resident(db, p, outlet["community_id"], code, pin, ip)
        counter_code, ident = codes.new_pay_code(get_settings().secret_key)
        async with db.transaction() as conn:
            await residents.insert_code(
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
            await conn.execute(
                "UPDATE mall_code SET expires_at = ? WHERE id = ? AND expires_at < ?",
                at + SCANNED_CODE_TTL,
                row["id"],
                at + SCANNED_CODE_TTL,
            )
    else:
        raise CodeInvalid()
    await reservations.lapse_reservations(db, at)
    async with db.connection() as conn:
        name = await conn.fetchval("SELECT name FROM mall_resident WHERE id = ?", resident_id)
        money = await residents.balances(conn, outlet["book"], resident_id)
        limits = await monthly_limits(conn, outlet["community_id"], resident_id, at)
        held = await reservations.held_at(conn, outlet_id, resident_id)
    return {
        "resident": {"id": resident_id, "display_name": residents.mask_name(name)},
        "available": money.available,
        "held": money.held,
        "limits": limits,
        "reservations": held,
        "counter_code": counter_code,
    }


async def monthly_limits(
    conn: Connection, community_id: int, resident_id: int, at: datetime
) -> list[dict]:
    """Every active limited item of the community: ``{sku, name, limit, used, left}``."""
    rows = await conn.fetch(
        "SELECT id, sku, name, monthly_limit FROM catalog_item WHERE community_id = ? "
        "AND active = ? AND monthly_limit IS NOT NULL ORDER BY name, id",
        community_id,
        True,
    )
    used = await used_this_month(conn, resident_id, [int(r["id"]) for r in rows], at)
    return [
        {
            "sku": r["sku"],
            "name": r["name"],
            "limit": int(r["monthly_limit"]),
            "used": used.get(int(r["id"]), 0),
            "left": max(0, int(r["monthly_limit"]) - used.get(int(r["id"]), 0)),
        }
        for r in rows
    ]


# Checkout -------------------------------------------------------------------------------------


async def _replayed_order(
    conn: Connection, outlet_id: int, idempotency_key: str, req_hash: str
) -> dict | None:
    """The order placed before under this key with this request, if any."""
    row = await conn.fetchrow(
        "SELECT id, total, journal_id, resident, request_hash FROM mall_order "
        "WHERE outlet = ? AND idempotency_key = ?",
        outlet_id,
        idempotency_key,
    )
    if row is None:
        return None
    if row["request_hash"] != req_hash:
        raise ledger.IdempotencyKeyReused(idempotency_key)
    after = await conn.fetchval(
        "SELECT p.balance_after FROM ledger_posting p JOIN ledger_account a ON a.id = p.account "
        "WHERE p.journal = ? AND a.code = ?",
        row["journal_id"],
        points.wallet(row["resident"]),
    )
    return {
        "id": int(row["id"]),
        "total": int(row["total"]),
        "balance_after": int(after or 0),
        "replayed": True,
    }


async def checkout(
    db: Database,
    p: Principal,
    outlet_id: int,
    *,
    code: str,
    pin: str | None = None,
    lines: Iterable[tuple[str, int]],
    idempotency_key: str,
    req_hash: str,
    ip: str = "",
) -> dict:
    """Exchange points for goods: ``{id, total, balance_after, replayed}``.

    The same key with the same request returns the first order (also after its pay code was
    used); with another request it is ``IdempotencyKeyReused``. Errors name the item and what
    is left: out of stock, over the monthly limit, not enough points (saying how many there are).
    """
    access.require(p, COUNTER_ROLES)
    wanted = clean_lines(lines)
    parsed = codes.parse(get_settings().secret_key, code)
    if parsed.kind not in (codes.PAY, codes.CARD):
        raise CodeInvalid()
    card_holder = None
    if parsed.kind == codes.CARD:  # replay first, then the costly PIN check, outside the writes
        async with db.connection() as conn:
            outlet = await counter_outlet(conn, p, outlet_id)
            replay = await _replayed_order(conn, outlet_id, idempotency_key, req_hash)
        if replay is not None:
            return replay
        card_holder = await card_resident(db, p, outlet["community_id"], code, pin, ip)
    at = now()
    if db.dialect == "postgres":
        check_serves_at(p, outlet_id)  # mall_checkout checks the community
        ident = parsed.ident if card_holder is None else None
        return await _checkout_in_one_call(
            db, p, outlet_id, ident, card_holder, wanted, idempotency_key, req_hash, at
        )
    async with db.transaction() as conn:
        outlet = await counter_outlet(conn, p, outlet_id)
        replay = await _replayed_order(conn, outlet_id, idempotency_key, req_hash)
        if replay is not None:
            return replay
        if card_holder is None:
            row = await pay_code_row(conn, parsed.ident, at)
            if row["community"] != outlet["community_id"]:
                raise CodeInvalid()
            resident_id = int(row["resident"])
        else:
            resident_id = card_holder
        order_lines = await priced_lines(conn, outlet["community_id"], wanted)
        total = sum(line["price_points"] * line["quantity"] for line in order_lines)
        await check_limits(conn, resident_id, order_lines, at)
        await check_stock(conn, outlet_id, order_lines)
        # points are checked by the ledger under the wallet's lock (InsufficientFunds below)

        # the writes: the code first (it settles a race for one code), then the points
        if card_holder is None:
            consumed = await conn.fetchval(
                "UPDATE mall_code SET used_at = ? WHERE ident = ? AND used_at IS NULL RETURNING id",
                at,
                parsed.ident,
            )
            if consumed is None:  # another counter won; was it this very request, retried?
                replay = await _replayed_order(conn, outlet_id, idempotency_key, req_hash)
                if replay is not None:
                    return replay
                raise CodeUsed()
        wallet = points.wallet(resident_id)
        try:
            journal = await ledger.post_journal(
                conn,
                outlet["book"],
                "redemption",
                [(wallet, -total), (points.redeemed(outlet_id, resident_id), total)],
                idempotency_key=scoped_key(f"order:o{outlet_id}", idempotency_key),
                memo=memo_of(order_lines),
                req_hash=req_hash,
            )
        except ledger.InsufficientFunds as exc:
            raise not_enough(total, exc.balance) from exc
        if journal.replayed:  # the same request committed while this one waited for the locks
            replay = await _replayed_order(conn, outlet_id, idempotency_key, req_hash)
            if replay is not None:
                return replay
            raise ledger.IdempotencyKeyReused(idempotency_key)
        order_id = int(
            await conn.fetchval(
                "INSERT INTO mall_order (community, outlet, resident, user_id, total, status, "
                "journal_id, code_ident, idempotency_key, request_hash, created_at) "
                "VALUES (?, ?, ?, ?, ?, 'completed', ?, ?, ?, ?, ?) RETURNING id",
                outlet["community_id"],
                outlet_id,
                resident_id,
                p.user_id,
                total,
                journal.id,
                parsed.ident if card_holder is None else None,
                idempotency_key,
                req_hash,
                at,
            )
        )
        await move_lines(
            conn, outlet_id, order_lines, -1, "redemption", f"order:{order_id}", p.user_id
        )
        await insert_order_lines(conn, order_id, order_lines)
    after = next(posting.balance_after for posting in journal.postings if posting.account == wallet)
    return {"id": order_id, "total": total, "balance_after": after, "replayed": False}


async def _checkout_in_one_call(
    db: Database,
    p: Principal,
    outlet_id: int,
    ident: str | None,
    card_holder: int | None,
    wanted: list[tuple[str, int]],
    idempotency_key: str,
    req_hash: str,
    at: datetime,
) -> dict:
    """PostgreSQL: the transaction of ``checkout`` in one round trip, with the same checks in the
    same order and the same refusals (``mall_checkout``, mall/sql/mall_checkout.sql). Fourteen
    round trips cost the database more CPU than the work they carry (bench/checkout_floor.py)."""
    check_outlet_id(outlet_id)
    async with db.connection() as conn:
        try:
            row = await conn.fetchrow(
                "SELECT status, order_id, total, balance_after FROM mall_checkout("
                "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                outlet_id,
                p.is_admin,
                p.community_id,
                p.user_id,
                idempotency_key,
                req_hash,
                scoped_key(f"order:o{outlet_id}", idempotency_key),
                ident,
                card_holder,
                [sku for sku, _ in wanted],
                [quantity for _, quantity in wanted],
                at,
                month_start(at),
                points.REDEEMED_SHARDS,
            )
        except Exception as exc:
            if getattr(exc, "sqlstate", None) != "MC001":
                raise
            raise _refusal(exc, idempotency_key) from None
    assert row is not None
    return {
        "id": int(row["order_id"]),
        "total": int(row["total"]),
        "balance_after": int(row["balance_after"]),
        "replayed": row["status"] == "replay",
    }


def _refusal(exc: Any, idempotency_key: str) -> Exception:
    """The error ``mall_checkout`` raised (SQLSTATE MC001), as the Python path raises it."""
    status, detail = exc.message, exc.detail or ""
    numbers = [int(n) for n in (exc.hint or "").split(",") if n]
    simple: dict[str, Exception] = {
        "not_found": NotFound(),
        "closed": outlet_closed(),
        "key_reused": ledger.IdempotencyKeyReused(idempotency_key),
        "code_invalid": CodeInvalid(),
        "code_used": CodeUsed(),
        "code_expired": CodeExpired(),
        "missing": ledger.AccountNotFound(detail),
    }
    if status in simple:
        return simple[status]
    if status == "no_item":
        return no_item(detail)
    if status == "limit":
        return over_limit(detail, numbers[0], numbers[1])
    if status == "out_of_stock":
        return catalog.OutOfStock(numbers[0], detail, numbers[1], numbers[2])
    if status == "insufficient":
        return not_enough(numbers[0], numbers[1])
    raise AssertionError(f"mall_checkout raised {status!r}")


# Orders and refunds ---------------------------------------------------------------------------


async def _order_row(conn: Connection, p: Principal, order_id: int, roles: Sequence[str]) -> Row:
    """The order, if ``p`` may see it: its community's staff and volunteers, the street, or the
    resident it belongs to; anyone else gets ``NotFound``."""
    access.require(p, roles)
    if not 0 < order_id <= access.MAX_ID:
        raise NotFound()
    row = await conn.fetchrow(
        "SELECT o.id, o.community, o.outlet, o.resident, o.user_id, o.total, o.status, "
        "o.journal_id, o.code_ident, o.reservation_id, o.created_at, o.refund_journal_id, "
        "o.refunded_at, c.book, t.name AS outlet_name "
        "FROM mall_order o JOIN mall_community c ON c.id = o.community "
        "JOIN catalog_outlet t ON t.id = o.outlet WHERE o.id = ?",
        order_id,
    )
    if row is None:
        raise NotFound()
    if p.role == "resident":
        if row["resident"] != p.resident_id:
            raise NotFound()
    elif not p.is_admin and row["community"] != p.community_id:
        raise NotFound()
    return row


async def _order_lines(conn: Connection, order_id: int) -> list[dict]:
    rows = await conn.fetch(
        "SELECT l.item, i.sku, i.kind, l.name, l.quantity, l.price_points FROM mall_order_line l "
        'JOIN catalog_item i ON i.id = l.item WHERE l."order" = ? ORDER BY l.id',
        order_id,
    )
    return [
        {
            "item_id": int(r["item"]),
            "sku": r["sku"],
            "kind": r["kind"],
            "name": r["name"],
            "quantity": int(r["quantity"]),
            "price_points": int(r["price_points"]),
        }
        for r in rows
    ]


def _order(row: Row, lines: list[dict], balance_after: int | None) -> dict:
    return {
        "id": int(row["id"]),
        "outlet": int(row["outlet"]),
        "outlet_name": row["outlet_name"],
        "resident_id": int(row["resident"]),
        "lines": [
            {k: line[k] for k in ("sku", "name", "quantity", "price_points")} for line in lines
        ],
        "total": int(row["total"]),
        "status": row["status"],
        "created_at": row["created_at"],
        "balance_after": balance_after,
        "reservation_id": row["reservation_id"],
    }


async def get_order(db: Database, p: Principal, order_id: int) -> dict:
    """An order with its lines, and the wallet's balance right after it was paid."""
    async with db.connection() as conn:
        row = await _order_row(conn, p, order_id, COUNTER_ROLES + ("resident",))
        lines = await _order_lines(conn, order_id)
        after = await conn.fetchval(
            "SELECT p.balance_after FROM ledger_posting p JOIN ledger_account a "
            "ON a.id = p.account WHERE p.journal = ? AND a.code = ?",
            row["journal_id"],
            points.wallet(row["resident"]),
        )
        if after is None:  # a collected reservation: its points left the wallet at reservation
            after = await wallet_balance(conn, row["book"], row["resident"])
    return _order(row, lines, None if after is None else int(after))


async def order_for_code(db: Database, p: Principal, code: str) -> dict | None:
    """The order a resident's own pay code paid for, if it has (for the pay page's receipt)."""
    access.require(p, ("resident",))
    try:
        parsed = codes.parse(get_settings().secret_key, code)
    except CodeInvalid:
        return None
    if parsed.kind != codes.PAY:
        return None
    async with db.connection() as conn:
        order_id = await conn.fetchval(
            "SELECT id FROM mall_order WHERE code_ident = ? AND resident = ?",
            parsed.ident,
            p.resident_id,
        )
    return None if order_id is None else await get_order(db, p, int(order_id))


async def code_state(db: Database, p: Principal, code: str) -> tuple[str, datetime | None]:
    """What became of a resident's own pay code, and until when it is good: ``paid``,
    ``scanned`` (looked up at a counter, kept for the checkout), ``fresh``, ``stale`` (about to
    expire or expired) or ``unknown``."""
    access.require(p, ("resident",))
    try:
        parsed = codes.parse(get_settings().secret_key, code)
    except CodeInvalid:
        return "unknown", None
    async with db.connection() as conn:
        row = await conn.fetchrow(
            "SELECT expires_at, used_at FROM mall_code "
            "WHERE ident = ? AND kind = 'pay' AND resident = ?",
            parsed.ident,
            p.resident_id,
        )
    if row is None:
        return "unknown", None
    if row["used_at"] is not None:
        return "paid", row["expires_at"]
    left = row["expires_at"] - now()
    if left > residents.PAY_CODE_TTL:
        return "scanned", row["expires_at"]
    return ("fresh" if left > timedelta(seconds=15) else "stale"), row["expires_at"]


async def refund(
    db: Database, p: Principal, order_id: int, *, idempotency_key: str, ip: str = ""
) -> dict:
    """Undo a whole order, once: the points go back by a reversing journal, the goods back on
    the shelf. Staff only. A retry with the same key answers as the first time did."""
    ledger_key = scoped_key(f"refund:{order_id}", idempotency_key)
    async with db.transaction() as conn:
        row = await _order_row(conn, p, order_id, STAFF_ROLES)
        refunded = await conn.fetchval(
            "UPDATE mall_order SET status = 'refunded', refunded_by = ?, refunded_at = ? "
            "WHERE id = ? AND status = 'completed' RETURNING id",
            p.user_id,
            now(),
            order_id,
        )
        if refunded is None:
            first = await conn.fetchval(
                "SELECT id FROM ledger_journal WHERE book = ? AND idempotency_key = ?",
                row["book"],
                ledger_key,
            )
            if first is not None and first == row["refund_journal_id"]:
                return {"id": order_id, "status": "refunded", "replayed": True}
            raise AlreadyRefunded()
        memo = f"退还订单 {order_id}"
        if row["reservation_id"] is None:
            journal = await ledger.reverse_journal(
                conn, row["journal_id"], idempotency_key=ledger_key, memo=memo
            )
        else:  # a collected reservation was paid by capturing a hold, which is not reversible
            journal = await ledger.post_journal(
                conn,
                row["book"],
                "reversal",
                [
                    (points.redeemed(row["outlet"], row["resident"]), -row["total"]),
                    (points.wallet(row["resident"]), row["total"]),
                ],
                idempotency_key=ledger_key,
                memo=memo,
            )
        await conn.execute(
            "UPDATE mall_order SET refund_journal_id = ? WHERE id = ?", journal.id, order_id
        )
        lines = await _order_lines(conn, order_id)
        await move_lines(conn, row["outlet"], lines, 1, "refund", f"order:{order_id}", p.user_id)
        await audit.record(
            conn,
            p,
            "order.refund",
            community_id=row["community"],
            target=f"order:{order_id}",
            ip=ip,
            total=row["total"],
        )
    return {"id": order_id, "status": "refunded", "replayed": False}


async def recent_orders(
    db: Database, p: Principal, outlet_id: int, *, limit: int = 20
) -> list[dict]:
    """The outlet's latest orders, for staff (refunds) and the counter."""
    async with db.connection() as conn:
        await counter_outlet(conn, p, outlet_id)
        rows = await conn.fetch(
            "SELECT o.id, o.resident, r.name, o.total, o.status, o.created_at FROM mall_order o "
            "JOIN mall_resident r ON r.id = o.resident WHERE o.outlet = ? "
            "ORDER BY o.id DESC LIMIT ?",
            outlet_id,
            max(1, min(limit, 100)),
        )
    return [
        {
            "id": int(r["id"]),
            "resident_id": int(r["resident"]),
            "display_name": residents.mask_name(r["name"]),
            "total": int(r["total"]),
            "status": r["status"],
            "created_at": r["created_at"],
        }
        for r in rows
    ]


# The volunteer's shift ------------------------------------------------------------------------


async def shift_summary(db: Database, p: Principal) -> dict:
    """What ``p`` handed out since signing in (this session): orders, points, and items."""
    access.require(p, COUNTER_ROLES)
    async with db.connection() as conn:
        since = await conn.fetchval(
            "SELECT created_at FROM mall_session WHERE id = ?", p.session_id
        )
        since = since or now()
        totals = await conn.fetchrow(
            "SELECT COUNT(*) AS orders, COALESCE(SUM(total), 0) AS points FROM mall_order "
            "WHERE user_id = ? AND created_at >= ? AND status = 'completed'",
            p.user_id,
            since,
        )
        items = await conn.fetch(
            "SELECT l.name, SUM(l.quantity) AS quantity FROM mall_order_line l JOIN mall_order o "
            'ON o.id = l."order" WHERE o.user_id = ? AND o.created_at >= ? '
            "AND o.status = 'completed' GROUP BY l.name ORDER BY SUM(l.quantity) DESC, l.name",
            p.user_id,
            since,
        )
    return {
        "since": since,
        "orders": int(totals["orders"]),
        "points": int(totals["points"]),
        "items": [{"name": r["name"], "quantity": int(r["quantity"])} for r in items],
    }


def lines_from(data: Any) -> list[tuple[str, int]]:
    """``[{sku, quantity}]`` objects (API structs or dicts) as ``(sku, quantity)`` pairs."""
    pairs = []
    for line in data:
        if isinstance(line, dict):
            pairs.append((line.get("sku", ""), line.get("quantity", 0)))
        else:
            pairs.append((line.sku, line.quantity))
    return pairs


async def counter_items(db: Database, p: Principal, outlet_id: int) -> list[dict]:
    """What the outlet can hand out, by category then name: goods with their level here, and
    services (never stocked, ``level`` None). For the counter's grid and for residents."""
    async with db.connection() as conn:
        if p.role == "resident":
            outlet = await outlet_row(conn, outlet_id)
            if outlet["community_id"] != p.community_id:
                raise NotFound()
        else:
            outlet = await counter_outlet(conn, p, outlet_id)
        rows = await conn.fetch(
            "SELECT i.id, i.sku, i.name, i.kind, i.price_points, i.unit, i.category, "
            "i.monthly_limit, COALESCE(l.level, 0) AS level FROM catalog_item i "
            "LEFT JOIN catalog_stock_level l ON l.outlet = ? AND l.item = i.id "
            "WHERE i.community_id = ? AND i.active = ? ORDER BY i.category, i.name, i.id",
            outlet_id,
            outlet["community_id"],
            True,
        )
    return [
        {
            "id": int(r["id"]),
            "sku": r["sku"],
            "name": r["name"],
            "kind": r["kind"],
            "price_points": int(r["price_points"]),
            "unit": r["unit"],
            "category": r["category"],
            "monthly_limit": r["monthly_limit"],
            "level": None if r["kind"] == "service" else int(r["level"]),
        }
        for r in rows
    ]


async def counter_outlets(db: Database, p: Principal) -> list[dict]:
    """The active outlets ``p`` may serve at (or, for a resident, reserve at)."""
    if p.role != "resident":
        access.require(p, COUNTER_ROLES)
    async with db.connection() as conn:
        if p.is_admin:
            rows = await conn.fetch(
                "SELECT id, name, kind FROM catalog_outlet WHERE active = ? ORDER BY id", True
            )
        else:
            rows = await conn.fetch(
                "SELECT id, name, kind FROM catalog_outlet WHERE community_id = ? AND active = ? "
                "ORDER BY id",
                p.community_id,
                True,
            )
    return [dict(r) for r in rows if p.serves_at(int(r["id"]))]
