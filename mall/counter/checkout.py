"""Checkout at the counter (兑换): one transaction in which the pay code is consumed, one journal
moves the points from the wallet to the outlet's ``redeemed`` account, the goods leave the shelf as
stock movements, and the order is recorded; any failure writes nothing. Every read and check comes
first, the writes last, so the window in which the hot ``redeemed`` account is locked stays short.
On PostgreSQL the same checkout runs as one server-side call (``mall_checkout``) unless
``IN_ONE_CALL`` is False.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import catalog
import ledger
from ledger import Connection
from mall import access, metrics
from mall.access import Principal, User
from mall.counter.basket import (
    COUNTER_ROLES,
    check_limits,
    check_outlet_id,
    check_serves_at,
    check_stock,
    clean_lines,
    counter_outlet,
    insert_order_lines,
    memo_of,
    month_start,
    move_lines,
    no_item,
    not_enough,
    now,
    outlet_closed,
    over_limit,
    priced_lines,
    scoped_key,
)
from mall.counter.payer import card_resident, check_behalf, check_card
from mall.counter.values import Receipt
from mall.db import Database
from mall.errors import (
    AccountClosed,
    CardPending,
    CodeExpired,
    CodeInvalid,
    CodeUsed,
    NotFound,
)
from mall.org import points
from mall.people import codes, proxies
from mall.people.code_lookup import pay_code_row
from mall.settings import get_settings

#: On PostgreSQL, run the checkout as one call of ``mall_checkout`` (``_checkout_in_one_call``).
#: False runs the Python path on PostgreSQL too; the parity suite compares the two
#: (tests/unit/counter/test_parity.py).
IN_ONE_CALL = True


async def _replayed_order(
    conn: Connection, outlet_id: int, idempotency_key: str, req_hash: str
) -> Receipt | None:
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
    return Receipt(
        id=int(row["id"]), total=int(row["total"]), balance_after=int(after or 0), replayed=True
    )


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
    on_behalf_of: int | None = None,
) -> Receipt:
    """Exchange points for goods: the order's ``Receipt``.

    With ``on_behalf_of``, the code is a proxy's own (代领): the proxy is resolved first, then
    their live grant from ``on_behalf_of`` is checked (``proxies.check_grant``, ``forbidden``
    without one; a proxy's code or ``on_behalf_of`` of another community than the counter's is
    ``forbidden`` before the code is even checked, ``payer.check_behalf``), then the checkout runs for that resident, whose points pay; the order records
    the proxy. Such a checkout always takes the Python path: ``mall_checkout`` knows nothing of
    proxies.

    The same key with the same request returns the first order (also after its pay code was
    used); with another request it is ``IdempotencyKeyReused``. Errors name the item and what
    is left: out of stock, over the monthly limit, not enough points (saying how many there are).
    """
    p = access.user(p, COUNTER_ROLES)
    wanted = clean_lines(lines)
    parsed = codes.parse(get_settings().secret_key, code)
    if parsed.kind not in (codes.PAY, codes.CARD):
        raise CodeInvalid()
    if on_behalf_of is not None:  # a proxy of, or for, another community: forbidden, first
        async with db.connection() as conn:
            outlet = await counter_outlet(conn, p, outlet_id)
            await check_behalf(conn, parsed.ident, on_behalf_of, outlet["community_id"])
    card_holder = None
    if parsed.kind == codes.CARD:  # replay first, then the costly PIN check, outside the writes
        async with db.connection() as conn:
            outlet = await counter_outlet(conn, p, outlet_id)
            replay = await _replayed_order(conn, outlet_id, idempotency_key, req_hash)
        if replay is not None:
            return replay
        card_holder = await card_resident(db, p, outlet["community_id"], code, pin, ip)
    at = now()
    if db.dialect == "postgres" and IN_ONE_CALL and on_behalf_of is None:
        check_serves_at(p, outlet_id)  # mall_checkout checks the community (and the card)
        return await _checkout_in_one_call(
            db, p, outlet_id, parsed.ident, card_holder, wanted, idempotency_key, req_hash, at
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
            await check_card(conn, parsed.ident, at)
            resident_id = card_holder
        proxy_id = None
        if on_behalf_of is not None:
            await proxies.check_grant(conn, resident_id, on_behalf_of, outlet["community_id"])
            proxy_id, resident_id = resident_id, on_behalf_of
        order_lines = await priced_lines(conn, outlet["community_id"], wanted)
        total = sum(line.price_points * line.quantity for line in order_lines)
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
                "journal_id, code_ident, idempotency_key, request_hash, created_at, proxy) "
                "VALUES (?, ?, ?, ?, ?, 'completed', ?, ?, ?, ?, ?, ?) RETURNING id",
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
                proxy_id,
            )
        )
        await move_lines(
            conn, outlet_id, order_lines, -1, "redemption", f"order:{order_id}", p.user_id
        )
        await insert_order_lines(conn, order_id, order_lines)
    after = next(posting.balance_after for posting in journal.postings if posting.account == wallet)
    metrics.CHECKOUTS.inc()
    return Receipt(id=order_id, total=total, balance_after=after, replayed=False)


async def _checkout_in_one_call(
    db: Database,
    p: User,
    outlet_id: int,
    ident: str,
    card_holder: int | None,
    wanted: list[tuple[str, int]],
    idempotency_key: str,
    req_hash: str,
    at: datetime,
) -> Receipt:
    """PostgreSQL: the transaction of ``checkout`` in one round trip, with the same checks in the
    same order and the same refusals (``mall_checkout``, mall/counter/sql/mall_checkout.sql). Fourteen
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
    if row["status"] != "replay":
        metrics.CHECKOUTS.inc()
    return Receipt(
        id=int(row["order_id"]),
        total=int(row["total"]),
        balance_after=int(row["balance_after"]),
        replayed=row["status"] == "replay",
    )


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
        "account_closed": AccountClosed(),
        "card_pending": CardPending(),
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
