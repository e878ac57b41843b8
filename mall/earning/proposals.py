"""Awards proposed by a building head (楼栋长提议): for residents of their own buildings only, and
always waiting for a staff member's approval (``awards.approve``), which the head can never
give. The staff member who approves one counts it toward their own daily threshold
(``threshold.issued_today``). Never posts a journal.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import msgspec

import ledger
from mall import metrics, text
from mall import query as q
from mall import tables as t
from mall.access import Principal, audit
from mall.db import Database
from mall.earning import rules
from mall.earning.award_records import PENDING
from mall.earning.awards import AwardOutcome, _resident_ids, now
from mall.errors import N_, BudgetExhausted, Forbidden, Invalid, NotFound
from mall.org import points
from mall.people import heads, lifecycle
from mall.people.residents import mask_name


async def propose(
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
    """A head's proposal: ``pending_approval`` always. Another community, or anyone outside the
    head's buildings, is ``forbidden``; their own record ``self_dealing``. The same key and
    request replay the first answer."""
    p = heads.head(p)
    ids = _resident_ids(resident_ids)
    memo = text.plain(
        memo, max_length=200, empty=N_("Please give the reason (at most {n} characters).")
    )
    if not idempotency_key or len(idempotency_key) > 200:
        raise Invalid(N_("Please check what you entered."))
    if not rules.RULE_CODE.match((rule_code or "").strip()):
        raise NotFound(N_("No rule with this code in the community."))
    if slug != p.community_slug:
        raise Forbidden()
    if req_hash is None:
        req_hash = ledger.request_hash(
            {"community": slug, "rule": rule_code, "residents": ids, "memo": memo}
        )
    a = t.Award
    async with db.transaction() as conn:
        replay = await _replay(conn, p.user_id, idempotency_key, req_hash)
        if replay is not None:
            return replay
        await heads.check_neighbours(conn, p, ids)
        await lifecycle.check_open(conn, ids)
        community = await q.fetchrow(
            conn,
            t.Community.select(t.Community.id, t.Community.book).where(
                t.Community.id == p.community_id
            ),
        )
        assert community is not None
        rule = await rules.rule_for_award(conn, p.community_id, code=rule_code)
        each = int(rule["points"])
        total = each * len(ids)
        at = now()
        residents = await q.fetch(
            conn, t.Resident.select(t.Resident.id, t.Resident.name).where(t.Resident.id.is_in(ids))
        )
        await rules.check_caps(conn, rule, residents, each, at)
        left = (await ledger.get_balance(conn, community["book"], points.BUDGET)).balance
        if left < total:
            raise BudgetExhausted(
                N_("The community's budget has {left} points left; this award needs {total}."),
                left=left,
                total=total,
            )
        award_id = await q.fetchval(
            conn,
            a.insert(
                a(
                    community=p.community_id,
                    rule=rule["id"],
                    memo=memo,
                    points_each=each,
                    total=total,
                    status=PENDING,
                    created_by=p.user_id,
                    created_at=at,
                    idempotency_key=idempotency_key,
                    request_hash=req_hash,
                )
            ).returning(a.id),
        )
        line = t.AwardLine
        await q.execute(
            conn,
            line.insert(
                *[line(award=award_id, resident=r, points=each, created_at=at) for r in ids]
            ),
        )
        await audit.record(
            conn,
            p,
            "award.propose",
            community_id=p.community_id,
            target=f"award:{award_id}",
            ip=ip,
            rule=rule["code"],
            residents=list(ids),
            total=total,
            memo=memo,
        )
    metrics.AWARDS.labels(status=PENDING).inc()
    return AwardOutcome(id=int(award_id), status=PENDING)


async def head_rules(db: Database, p: Principal) -> list[rules.Rule]:
    """The active rules of the head's community they may propose by, by path and name."""
    p = heads.head(p)
    r = t.Rule
    async with db.connection() as conn:
        rows = await q.fetch(
            conn,
            rules.select_rules()
            .where(
                (r.community == p.community_id)
                & (r.active == True)  # noqa: E712
                & r.code.not_like(rules.ACTIVITY_PREFIX + "%")
            )
            .order_by(r.path, r.name, r.id),
        )
    return [rules._rule(x) for x in rows]


async def _replay(
    conn: ledger.Connection, user_id: int, key: str, req_hash: str
) -> AwardOutcome | None:
    a = t.Award
    row = await q.fetchrow(
        conn,
        a.select(a.id, a.request_hash).where(
            (a.created_by == user_id) & (a.idempotency_key == key)
        ),
    )
    if row is None:
        return None
    if row["request_hash"] != req_hash:
        raise ledger.IdempotencyKeyReused(key)
    return AwardOutcome(id=int(row["id"]), status=PENDING, replayed=True)


class Proposed(msgspec.Struct, frozen=True, kw_only=True):
    """One resident of a head's proposal, name masked (张*明)."""

    id: int
    display_name: str


class Proposal(msgspec.Struct, frozen=True, kw_only=True):
    """What became of a building head's proposal: ``pending_approval``, ``posted`` (approved),
    ``rejected`` (with the staff member's reason) or ``reversed`` (approved, taken back since)."""

    id: int
    rule_name: str
    points_each: int
    total: int
    memo: str
    status: str
    rejection_reason: str
    created_at: datetime
    decided_at: datetime | None
    residents: list[Proposed]


#: the most proposals ``my_proposals`` lists
MAX_LISTED = 100


async def my_proposals(db: Database, p: Principal, *, limit: int = 50) -> list[Proposal]:
    """The head's own proposals in their community, newest first: never another head's, nor
    anyone's direct awards."""
    p = heads.head(p)
    a, line = t.Award, t.AwardLine
    async with db.connection() as conn:
        rows = await q.fetch(
            conn,
            a.select(
                a.id,
                a.rule.name.as_alias("rule_name"),
                a.points_each,
                a.total,
                a.memo,
                a.status,
                a.rejection_reason,
                a.created_at,
                a.decided_at,
            )
            .where((a.created_by == p.user_id) & (a.community == p.community_id))
            .order_by(a.id, ascending=False)
            .limit(max(1, min(limit, MAX_LISTED))),
        )
        ids = [int(r["id"]) for r in rows]
        named = (
            await q.fetch(
                conn,
                line.select(line.award, line.resident, line.resident.name.as_alias("name"))
                .where(line.award.is_in(ids))
                .order_by(line.id),
            )
            if ids
            else []
        )
    who: dict[int, list[Proposed]] = {}
    for n in named:
        who.setdefault(int(n["award"]), []).append(
            Proposed(id=int(n["resident"]), display_name=mask_name(n["name"]))
        )
    return [
        Proposal(
            id=int(r["id"]),
            rule_name=r["rule_name"],
            points_each=int(r["points_each"]),
            total=int(r["total"]),
            memo=r["memo"],
            status=r["status"],
            rejection_reason=r["rejection_reason"] or "",
            created_at=r["created_at"],
            decided_at=r["decided_at"],
            residents=who.get(int(r["id"]), []),
        )
        for r in rows
    ]
