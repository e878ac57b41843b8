"""Refunds (退款) of an order at the counter: the whole order or chosen lines, never more of a line
than was bought less what was refunded already, with a reason. Each refund posts its own journal
(points back to the wallet), puts the goods back on the shelf and is a row of ``mall_refund``.
Staff only, never for their own resident record; it never touches another community's order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import msgspec
from piccolo.query.functions.aggregate import Sum

import ledger
from ledger import Connection, Row
from mall import access
from mall import query as q
from mall import tables as t
from mall.access import STAFF_ROLES, Principal, audit
from mall.counter.basket import ItemLine, memo_of, move_lines, now, scoped_key
from mall.counter.orders import order_lines, order_row, public_lines
from mall.counter.values import Line, OrderStatus
from mall.db import Database
from mall.errors import N_, AlreadyRefunded, Invalid
from mall.org import points

MAX_REASON = 200


class Refund(msgspec.Struct, frozen=True, kw_only=True):
    """A refund given: ``id`` is the order's; ``replayed`` when a retry with the same key was
    answered again. ``order_status`` is ``refunded`` once every line has come back."""

    id: int
    status: Literal["refunded"]
    replayed: bool
    refund_id: int = 0
    points: int = 0
    balance_after: int = 0
    order_status: OrderStatus = "refunded"


async def _refunded_so_far(conn: Connection, order_id: int) -> dict[int, int]:
    """Order line id → how many of it were refunded already."""
    rl = t.RefundLine
    rows = await q.fetch(
        conn,
        rl.select(rl.order_line, Sum(rl.quantity, alias="quantity"))
        .where(rl.refund.order == order_id)
        .group_by(rl.order_line),
    )
    return {int(r["order_line"]): int(r["quantity"]) for r in rows}


def _chosen(
    lines: list[tuple[int, ItemLine]],
    done: dict[int, int],
    wanted: Sequence[tuple[str, int]] | None,
) -> list[tuple[int, ItemLine]]:
    """``(order line id, line with the quantity to refund)``: everything left when ``wanted`` is
    None, else the SKUs asked for (quantities 0 skipped, the same SKU added up)."""
    left = {line_id: line.quantity - done.get(line_id, 0) for line_id, line in lines}
    if wanted is None:
        asked = {line.sku: left[line_id] for line_id, line in lines if left[line_id] > 0}
    else:
        asked = {}
        for sku, quantity in wanted:
            if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
                raise Invalid(N_("Quantities are whole numbers from 1 to {n}."), n=99)
            if quantity:
                asked[sku] = asked.get(sku, 0) + quantity
    by_sku = {line.sku: (line_id, line) for line_id, line in lines}
    chosen = []
    for sku, quantity in asked.items():
        if sku not in by_sku:
            raise Invalid(N_("This order has no item with the code {sku}."), sku=sku[:64])
        line_id, line = by_sku[sku]
        if quantity > left[line_id]:
            raise Invalid(
                N_("{name}: at most {n} can be refunded."), name=line.name, n=left[line_id]
            )
        chosen.append((line_id, msgspec.structs.replace(line, quantity=quantity)))
    if not chosen:
        if wanted is None:
            raise AlreadyRefunded()
        raise Invalid(N_("Please choose at least one item to refund."))
    return chosen


class Preview(msgspec.Struct, frozen=True, kw_only=True):
    """What a refund would give back, for the confirmation step; nothing written."""

    lines: list[Line]
    points: int


async def preview(
    db: Database, p: Principal, order_id: int, lines: Sequence[tuple[str, int]] | None
) -> Preview:
    """The lines and points ``refund`` would give back now, refused for the same reasons."""
    async with db.connection() as conn:
        p = access.staff(p)
        row = await order_row(conn, p, order_id, STAFF_ROLES)
        await access.not_self_dealing(conn, p, [row["resident"]])
        if row["status"] != "completed":
            raise AlreadyRefunded()
        chosen = _chosen(
            await order_lines(conn, order_id), await _refunded_so_far(conn, order_id), lines
        )
    picked = [line for _, line in chosen]
    return Preview(
        lines=public_lines(picked), points=sum(x.quantity * x.price_points for x in picked)
    )


async def _replay(conn: Connection, row: Row, key: str, req_hash: str | None) -> Refund | None:
    """The refund this key already gave, if any (another body with it: ``IdempotencyKeyReused``)."""
    first = await ledger.find_journal(conn, row["book"], key)
    if first is None:
        return None
    r = t.Refund
    given = await q.fetchrow(
        conn,
        r.select(r.id, r.points).where((r.journal_id == first.id) & (r.order == row["id"])),
    )
    if given is None:
        raise ledger.IdempotencyKeyReused(key)
    if req_hash is not None:
        stored = await conn.fetchval(
            "SELECT request_hash FROM ledger_journal WHERE id = ?", first.id
        )
        if stored != req_hash:
            raise ledger.IdempotencyKeyReused(key)
    wallet = points.wallet(row["resident"])
    after = next((leg.balance_after for leg in first.postings if leg.account == wallet), 0)
    o = t.Order
    status = await q.fetchval(conn, o.select(o.status).where(o.id == row["id"]))
    return Refund(
        id=int(row["id"]),
        status="refunded",
        replayed=True,
        refund_id=int(given["id"]),
        points=int(given["points"]),
        balance_after=int(after),
        order_status=status,
    )


async def refund(
    db: Database,
    p: Principal,
    order_id: int,
    *,
    idempotency_key: str,
    ip: str = "",
    reason: str = "",
    lines: Sequence[tuple[str, int]] | None = None,
    req_hash: str | None = None,
) -> Refund:
    """Give back the whole order (``lines`` None: whatever is left of it) or the ``(sku,
    quantity)`` chosen: the points to the wallet by a journal of their own, the goods to the
    shelf. Staff of the order's community only, never for their own resident record
    (``self_dealing``); nothing left to refund is ``already_refunded``. A retry with the same
    key answers as the first time did."""
    reason = " ".join((reason or "").split())
    if len(reason) > MAX_REASON:
        raise Invalid(N_("The reason is at most {n} characters."), n=MAX_REASON)
    ledger_key = scoped_key(f"refund:{order_id}", idempotency_key)
    async with db.transaction() as conn:
        p = access.staff(p)
        row = await order_row(conn, p, order_id, STAFF_ROLES)
        await access.not_self_dealing(conn, p, [row["resident"]])
        replay = await _replay(conn, row, ledger_key, req_hash)
        if replay is not None:
            return replay
        o = t.Order
        locking = o.update({o.status: "completed"}).where(
            (o.id == order_id) & (o.status == "completed")
        )  # the order's row, locked until this refund commits: refunds of it take turns
        if await q.fetchval(conn, locking.returning(o.id)) is None:
            raise AlreadyRefunded()
        all_lines = await order_lines(conn, order_id)
        done = await _refunded_so_far(conn, order_id)
        chosen = _chosen(all_lines, done, lines)
        total = sum(line.quantity * line.price_points for _, line in chosen)
        items = memo_of([line for _, line in chosen])
        memo = f"退款 订单{order_id}：{items}" + (f"（{reason}）" if reason else "")
        wallet = points.wallet(row["resident"])
        journal = await ledger.post_journal(
            conn,
            row["book"],
            "reversal",
            [(points.redeemed(row["outlet"], row["resident"]), -total), (wallet, total)],
            idempotency_key=ledger_key,
            memo=memo[:200],
            req_hash=req_hash,
        )
        at = now()
        r = t.Refund
        refund_id = int(
            await q.fetchval(
                conn,
                r.insert(
                    r(
                        order=order_id,
                        community=row["community"],
                        points=total,
                        reason=reason,
                        journal_id=journal.id,
                        user_id=p.user_id,
                        created_at=at,
                    )
                ).returning(r.id),
            )
        )
        rl = t.RefundLine
        await q.execute(
            conn,
            rl.insert(
                *[rl(refund=refund_id, order_line=lid, quantity=ln.quantity) for lid, ln in chosen]
            ),
        )
        everything = all(
            done.get(lid, 0) + next((c.quantity for i, c in chosen if i == lid), 0) >= line.quantity
            for lid, line in all_lines
        )
        if everything:
            await q.execute(
                conn,
                o.update(
                    {
                        o.status: "refunded",
                        o.refund_journal_id: journal.id,
                        o.refunded_by: p.user_id,
                        o.refunded_at: at,
                    }
                ).where(o.id == order_id),
            )
        await move_lines(
            conn,
            row["outlet"],
            [line for _, line in chosen],
            1,
            "refund",
            f"order:{order_id}",
            p.user_id,
        )
        await audit.record(
            conn,
            p,
            "order.refund",
            community_id=row["community"],
            target=f"order:{order_id}",
            ip=ip,
            total=total,
            reason=reason,
            lines=items,
        )
    after = next((leg.balance_after for leg in journal.postings if leg.account == wallet), 0)
    return Refund(
        id=order_id,
        status="refunded",
        replayed=False,
        refund_id=refund_id,
        points=total,
        balance_after=int(after),
        order_status="refunded" if everything else "completed",
    )
