"""Reversing a posted award (撤销): its points go back from every resident's wallet to the
community's budget by ONE reversing journal, whose memo (``撤销：<reason>``) the passbook shows.
Never reverses a pending or rejected award, never twice, never for one's own resident record.

All or nothing: when any resident no longer has the points *available* (a wallet's ledger
balance is what is left after reservations' holds), the reversal is ``insufficient_points`` and
nothing moves for anyone. The reverser's idempotency key is unique per reverser
(``mall_award_reverser_key``): the same key and request replay the first answer.

Lock order on PostgreSQL: the award row, then the ledger's accounts in id order (the ledger's own
rule, which ``mall_checkout``'s ``ledger_post`` keeps too), so a reversal racing a checkout of the
same wallet waits for it, or it for the reversal, and never deadlocks. The award before the
accounts is also the order ``mall.earning.awards`` takes (rule, award, accounts).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import msgspec

import ledger
from ledger import Connection, Row
from mall import access, metrics, text
from mall import query as q
from mall import tables as t
from mall.access import Admin, Principal, Staff, audit
from mall.db import Database, must_exist
from mall.earning.award_records import POSTED, REVERSED
from mall.errors import (
    N_,
    AlreadyReversed,
    Forbidden,
    InsufficientPoints,
    Invalid,
    NotFound,
)
from mall.notify import inbox, kinds
from mall.org import points

#: The reason goes into the journal's memo after ``MEMO_PREFIX``; the ledger keeps 200 characters.
MAX_REASON = 190
MEMO_PREFIX = "撤销："


class Reversal(msgspec.Struct, frozen=True, kw_only=True):
    """A reversed award."""

    id: int
    status: Literal["reversed"]
    replayed: bool = False
    """The reverser's idempotency key answered with the first outcome; nothing was written."""


def now() -> datetime:
    return datetime.now(UTC)


def memo_of(reason: str) -> str:
    """What the resident's passbook says: ``撤销：<reason>``."""
    return f"{MEMO_PREFIX}{reason}"


async def _replay(conn: Connection, p: Staff | Admin, key: str, req_hash: str) -> Reversal | None:
    a = t.Award
    row = await q.fetchrow(
        conn,
        a.select(a.id, a.reversal_hash).where(
            (a.reversed_by == p.user_id) & (a.reversal_key == key)
        ),
    )
    if row is None:
        return None
    if row["reversal_hash"] != req_hash:
        raise ledger.IdempotencyKeyReused(key)
    return Reversal(id=int(row["id"]), status=REVERSED, replayed=True)


async def _award(conn: Connection, p: Principal, award_id: int) -> tuple[Row, Row]:
    """The award (locked on PostgreSQL) and its community; another community's is ``not_found``."""
    if not 0 < award_id <= access.MAX_ID:
        raise NotFound()
    a, c = t.Award, t.Community
    row = await q.fetchrow(conn, a.select(a.community).where(a.id == award_id))
    if row is None or (not p.is_admin and row["community"] != p.community_id):
        raise NotFound()
    community = must_exist(
        await q.fetchrow(conn, c.select(c.id, c.slug, c.book).where(c.id == row["community"]))
    )
    query = a.select(a.id, a.status, a.total, a.journal_id).where(a.id == award_id)
    award = must_exist(
        await q.fetchrow(conn, query.lock_rows() if conn.dialect == "postgres" else query)
    )
    return award, community


async def reverse_award(
    db: Database,
    p: Principal,
    award_id: int,
    reason: str,
    *,
    idempotency_key: str,
    req_hash: str | None = None,
    ip: str = "",
) -> Reversal:
    """Take a posted award's points back into the budget (staff of its community), once.

    ``req_hash`` defaults to a hash of the arguments. Refusals: ``validation_error`` for an award
    not posted (pending or rejected: nothing to take back), ``already_reversed``,
    ``self_dealing``, ``insufficient_points`` naming the first resident short, ``not_found``.
    """
    p = access.staff(p)
    if p.user_id is None:
        raise Forbidden()
    reason = text.plain(
        reason, max_length=MAX_REASON, empty=N_("Please give the reason (at most {n} characters).")
    )
    if not idempotency_key or len(idempotency_key) > 200:
        raise Invalid(N_("Please check what you entered."))
    if req_hash is None:
        req_hash = ledger.request_hash({"award": award_id, "reason": reason})
    async with db.transaction() as conn:
        award, community = await _award(conn, p, award_id)
        # After the award's lock: a twin request with the same key has committed by now.
        replay = await _replay(conn, p, idempotency_key, req_hash)
        if replay is not None:
            return replay
        if award["status"] == REVERSED:
            raise AlreadyReversed()
        if award["status"] != POSTED or award["journal_id"] is None:
            raise Invalid(
                N_("Only issued points can be reversed; a waiting award is rejected instead.")
            )
        line = t.AwardLine
        lines = await q.fetch(
            conn,
            line.select(line.resident, line.points, line.resident.name.as_alias("name"))
            .where(line.award == award_id)
            .order_by(line.id),
        )
        await access.not_self_dealing(conn, p, [line["resident"] for line in lines])
        try:
            journal = await ledger.reverse_journal(
                conn,
                int(award["journal_id"]),
                idempotency_key=f"award-reversal:{award_id}",
                memo=memo_of(reason),
            )
        except ledger.InsufficientFunds as exc:
            short = {points.wallet(line["resident"]): line for line in lines}.get(exc.account)
            if short is None:
                raise
            raise InsufficientPoints(
                N_("{name} has only {available} points available; reversing takes back {points}."),
                name=short["name"],
                available=exc.balance,
                points=short["points"],
            ) from exc
        except ledger.AlreadyReversed as exc:
            raise AlreadyReversed() from exc
        at = now()
        a = t.Award
        await q.execute(
            conn,
            a.update(
                {
                    a.status: REVERSED,
                    a.reversed_by: p.user_id,
                    a.reversed_at: at,
                    a.reversal_reason: reason,
                    a.reversal_journal_id: journal.id,
                    a.reversal_key: idempotency_key,
                    a.reversal_hash: req_hash,
                }
            ).where(a.id == award_id),
        )
        await inbox.post_each(
            conn,
            community["id"],
            [(line["resident"], line["points"]) for line in lines],
            kinds.POINTS_REVERSED,
            reason=reason,
        )
        await audit.record(
            conn,
            p,
            "award.reverse",
            community_id=community["id"],
            target=f"award:{award_id}",
            ip=ip,
            reason=reason,
            total=award["total"],
            residents=[line["resident"] for line in lines],
            journal=journal.id,
        )
    metrics.AWARDS.labels(status=REVERSED).inc()
    return Reversal(id=award_id, status=REVERSED)
