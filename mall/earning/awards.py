"""Making and deciding awards (发积分): points by one rule to one or many residents at once, from the community's
budget, with the reason each resident reads in the passbook; four-eyes approval above the rule's
threshold. Nobody awards points to themselves.

An award is one row, one line per resident and, once posted, ONE ledger journal (budget → each
wallet). The maker's idempotency key is unique per maker (``mall_award_maker_key``): the same key
and request replay the first answer and write nothing; another request under the key is
``idempotency_key_reused``. Lock order on PostgreSQL: the rule, then the award, then the ledger's
accounts (``mall.earning.rules.rule_for_award``). Reading awards is ``mall.earning.award_records``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import msgspec

import ledger
from ledger import Connection, Row
from mall import access, metrics, text
from mall import query as q
from mall import tables as t
from mall.access import STAFF_ROLES, Admin, Principal, Staff, audit
from mall.db import Database, must_exist
from mall.earning import rules, threshold
from mall.earning.award_records import PENDING, POSTED, REJECTED, AwardStatus
from mall.errors import N_, AlreadyExists, BudgetExhausted, Forbidden, Invalid, NotFound
from mall.notify import inbox, kinds
from mall.org import points
from mall.people import lifecycle

MAX_RESIDENTS = 200


class AwardOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """Where an award stands after it was made, approved or rejected."""

    id: int
    status: AwardStatus
    replayed: bool = False
    """The maker's idempotency key answered with the first outcome; nothing was written."""


class AlreadyDecided(AlreadyExists):
    """Approving or rejecting an award that is no longer waiting: ``already_exists`` (409)."""

    message = N_("This award has already been decided.")


def now() -> datetime:
    return datetime.now(UTC)


def _resident_ids(resident_ids: Sequence[int]) -> list[int]:
    ids = list(resident_ids or [])
    if not ids:
        raise Invalid(N_("Please choose at least one resident."))
    if len(ids) > MAX_RESIDENTS:
        raise Invalid(N_("At most {n} residents in one award."), n=MAX_RESIDENTS)
    if any(not isinstance(i, int) or isinstance(i, bool) for i in ids):
        raise Invalid(N_("Please choose at least one resident."))
    if len(set(ids)) != len(ids):
        raise Invalid(N_("A resident is listed twice."))
    return ids


async def _residents(conn: Connection, community_id: int, ids: Sequence[int]) -> list[Row]:
    """The residents, all of this community; any other id is ``not_found`` (never a hint)."""
    if any(not 0 < i <= access.MAX_ID for i in ids):
        raise NotFound(N_("A chosen resident was not found in this community."))
    r = t.Resident
    rows = await q.fetch(
        conn,
        r.select(r.id, r.name).where((r.community == community_id) & r.id.is_in(list(ids))),
    )
    if len(rows) != len(ids):
        raise NotFound(N_("A chosen resident was not found in this community."))
    by_id = {r["id"]: r for r in rows}
    return [by_id[i] for i in ids]


def _original_status(row: Row) -> AwardStatus:
    """What the first answer said: posted at once, or waiting for approval."""
    return POSTED if row["journal_id"] is not None and row["decided_by"] is None else PENDING


async def _post(
    conn: Connection,
    community: Row,
    award_id: int,
    memo: str,
    rule: Row,
    lines: Sequence[tuple[int, int]],
) -> int:
    """The award's one journal: budget → each wallet (``budget_exhausted`` if short); each
    resident finds the points in their inbox."""
    journal = await points.award_from_budget(
        conn,
        community["book"],
        lines,
        idempotency_key=f"award:{award_id}",
        path=rule["path"],
        memo=memo,
    )
    await inbox.post_each(conn, community["id"], lines, kinds.POINTS_RECEIVED, memo=memo)
    return journal.id


async def create_award(
    db: Database,
    p: Principal,
    slug: str,
    rule_code: str,
    resident_ids: Sequence[int],
    memo: str,
    *,
    idempotency_key: str,
    req_hash: str | None = None,
    ip: str = "",
) -> AwardOutcome:
    """Award ``rule_code``'s points to each resident (staff).

    The award posts at once, or waits for a second staff member when its total is above the
    rule's approval threshold, or when it would take what this staff member issued to one of
    the residents today past the community's daily threshold (``threshold.over_daily``).
    ``req_hash`` defaults to a hash of the arguments.
    """
    p = access.staff(p)
    if p.user_id is None:
        raise Forbidden()
    ids = _resident_ids(resident_ids)
    memo = text.plain(
        memo, max_length=200, empty=N_("Please give the reason (at most {n} characters).")
    )
    if not idempotency_key or len(idempotency_key) > 200:
        raise Invalid(N_("Please check what you entered."))
    if not rules.RULE_CODE.match((rule_code or "").strip()):  # never a settlement's own rule
        raise NotFound(N_("No rule with this code in the community."))
    if req_hash is None:
        req_hash = ledger.request_hash(
            {"community": slug, "rule": rule_code, "residents": ids, "memo": memo}
        )
    async with db.transaction() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES)
        replay = await _replay(conn, p, idempotency_key, req_hash)
        if replay is not None:
            return replay
        await threshold.lock_issuer(conn, p)
        rule = await rules.rule_for_award(conn, community["id"], code=rule_code)
        # After the rule's lock: a twin request with the same key has committed by now.
        replay = await _replay(conn, p, idempotency_key, req_hash)
        if replay is not None:
            return replay
        made = await issue(
            conn,
            p,
            community,
            rule,
            ids,
            int(rule["points"]),
            memo,
            idempotency_key=idempotency_key,
            req_hash=req_hash,
            ip=ip,
        )
    if not made.replayed:
        metrics.AWARDS.labels(status=made.status).inc()
    return made


async def issue(
    conn: Connection,
    p: Staff | Admin,
    community: Row,
    rule: Row,
    ids: Sequence[int],
    each: int,
    memo: str,
    *,
    idempotency_key: str,
    req_hash: str,
    ip: str = "",
) -> AwardOutcome:
    """The award itself, inside the caller's transaction, once the caller has checked the
    principal, taken the issuer's lock (``threshold.lock_issuer``) and the rule's, and found
    no replay: the residents (of this community, none the issuer's own), the caps, the
    thresholds, the row and its lines, and the journal when it posts at once. Awards, activity
    settlements and submission rewards all come through here; the caller counts it in
    ``metrics.AWARDS`` once the transaction has committed."""
    residents = await _residents(conn, community["id"], ids)
    await access.not_self_dealing(conn, p, ids)
    await lifecycle.check_open(conn, ids)
    at = now()
    total = each * len(ids)
    await rules.check_caps(conn, rule, residents, each, at)
    own = rule["approval_threshold"]
    over = own is not None and total > own
    if not over:
        over = await threshold.over_daily(conn, p, community["id"], ids, each, at)
    status: AwardStatus = PENDING if over else POSTED
    a = t.Award
    new = a(
        community=community["id"],
        rule=rule["id"],
        memo=memo,
        points_each=each,
        total=total,
        status=status,
        created_by=p.user_id,
        created_at=at,
        idempotency_key=idempotency_key,
        request_hash=req_hash,
    )
    award_id = await q.fetchval(
        conn,
        a.insert(new)
        .on_conflict(target=(a.created_by, a.idempotency_key), action="DO NOTHING")
        .returning(a.id),
    )
    if award_id is None:  # the same key committed while we waited
        replay = await _replay(conn, p, idempotency_key, req_hash)
        assert replay is not None
        return replay
    line = t.AwardLine
    await q.execute(
        conn,
        line.insert(*[line(award=award_id, resident=r, points=each, created_at=at) for r in ids]),
    )
    journal_id = None
    if status == POSTED:
        journal_id = await _post(
            conn,
            community,
            award_id,
            memo,
            rule,
            [(r, each) for r in ids],
        )
        await q.execute(conn, a.update({a.journal_id: journal_id}).where(a.id == award_id))
    else:
        left = (await ledger.get_balance(conn, community["book"], points.BUDGET)).balance
        if left < total:
            raise BudgetExhausted(
                N_("The community's budget has {left} points left; this award needs {total}."),
                left=left,
                total=total,
            )
    await audit.record(
        conn,
        p,
        "award.create",
        community_id=community["id"],
        target=f"award:{award_id}",
        ip=ip,
        rule=rule["code"],
        residents=list(ids),
        total=total,
        status=status,
        memo=memo,
        journal=journal_id,
    )
    return AwardOutcome(id=award_id, status=status)


async def _replay(
    conn: Connection, p: Staff | Admin, key: str, req_hash: str
) -> AwardOutcome | None:
    a = t.Award
    row = await q.fetchrow(
        conn,
        a.select(a.id, a.request_hash, a.journal_id, a.decided_by).where(
            (a.created_by == p.user_id) & (a.idempotency_key == key)
        ),
    )
    if row is None:
        return None
    if row["request_hash"] != req_hash:
        raise ledger.IdempotencyKeyReused(key)
    return AwardOutcome(id=row["id"], status=_original_status(row), replayed=True)


async def _pending(conn: Connection, p: Staff | Admin, award_id: int) -> tuple[Row, Row, Row]:
    """The award waiting for a decision, its community and its rule, all locked in order."""
    if not 0 < award_id <= access.MAX_ID:
        raise NotFound()
    a, c = t.Award, t.Community
    row = await q.fetchrow(conn, a.select(a.rule, a.community).where(a.id == award_id))
    if row is None or (not p.is_admin and row["community"] != p.community_id):
        raise NotFound()
    community = must_exist(
        await q.fetchrow(conn, c.select(c.id, c.slug, c.book).where(c.id == row["community"]))
    )
    rule = must_exist(
        await q.fetchrow(
            conn, rules.locked(conn, rules.select_rules().where(t.Rule.id == row["rule"]))
        )
    )
    query = a.select(
        a.id, a.memo, a.points_each, a.total, a.status, a.created_by, a.created_at
    ).where(a.id == award_id)
    award = must_exist(
        await q.fetchrow(conn, query.lock_rows() if conn.dialect == "postgres" else query)
    )
    if award["status"] != PENDING:
        raise AlreadyDecided()
    return award, community, rule


async def approve(db: Database, p: Principal, award_id: int, *, ip: str = "") -> AwardOutcome:
    """A second staff member approves a waiting award: its journal posts now, with the budget
    and caps checked again. The maker cannot approve their own award."""
    p = access.staff(p)
    async with db.transaction() as conn:
        award, community, rule = await _pending(conn, p, award_id)
        if award["created_by"] == p.user_id:
            raise Forbidden(
                N_("You made this award, so another staff member has to approve it (four eyes).")
            )
        line = t.AwardLine
        lines = await q.fetch(
            conn,
            line.select(
                line.resident,
                line.points,
                line.resident.name.as_alias("name"),
                line.resident.id.as_alias("id"),
            )
            .where(line.award == award_id)
            .order_by(line.id),
        )
        await access.not_self_dealing(conn, p, [line["resident"] for line in lines])
        await lifecycle.check_open(conn, [line["resident"] for line in lines])
        await rules.check_caps(
            conn,
            rule,
            lines,
            int(award["points_each"]),
            award["created_at"],
            exclude_award=award_id,
        )
        journal_id = await _post(
            conn,
            community,
            award_id,
            award["memo"],
            rule,
            [(r["resident"], r["points"]) for r in lines],
        )
        a = t.Award
        await q.execute(
            conn,
            a.update(
                {
                    a.status: POSTED,
                    a.decided_by: p.user_id,
                    a.decided_at: now(),
                    a.journal_id: journal_id,
                }
            ).where(a.id == award_id),
        )
        await audit.record(
            conn,
            p,
            "award.approve",
            community_id=community["id"],
            target=f"award:{award_id}",
            ip=ip,
            total=award["total"],
            journal=journal_id,
        )
    metrics.AWARDS.labels(status=POSTED).inc()
    return AwardOutcome(id=award_id, status=POSTED)


async def reject(
    db: Database, p: Principal, award_id: int, reason: str, *, ip: str = ""
) -> AwardOutcome:
    """Turn down a waiting award (any staff member of the community, the maker too: withdrawing
    it). Nothing is posted; the reason is kept with the award and in the audit log."""
    reason = text.plain(
        reason, max_length=200, empty=N_("Please give the reason (at most {n} characters).")
    )
    p = access.staff(p)
    async with db.transaction() as conn:
        award, community, _ = await _pending(conn, p, award_id)
        a = t.Award
        await q.execute(
            conn,
            a.update(
                {
                    a.status: REJECTED,
                    a.decided_by: p.user_id,
                    a.decided_at: now(),
                    a.rejection_reason: reason,
                }
            ).where(a.id == award_id),
        )
        await audit.record(
            conn,
            p,
            "award.reject",
            community_id=community["id"],
            target=f"award:{award_id}",
            ip=ip,
            reason=reason,
        )
    metrics.AWARDS.labels(status=REJECTED).inc()
    return AwardOutcome(id=award_id, status=REJECTED)
