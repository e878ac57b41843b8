"""Residents' submissions: proposals (建言献策), dispute reports (矛盾纠纷上报) and micro-wishes
(微心愿), each with a due date (限时办结) and staff decisions that may award points by a rule.

Status: open → accepted → resolved; open or accepted → rejected (with a reason); open → resolved.
A decision with a rule awards through ``mall.earning.awards`` in the same transaction (budget, caps, the
daily threshold and four eyes apply), to the filer or, for a micro-wish, to the neighbour who
fulfilled it (the default when named): staff choose.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import msgspec
from piccolo.query.functions import Case, When
from piccolo.query.methods.select import Select
from piccolo.querystring import QueryString

import ledger
from ledger import Connection, Row
from mall import access, text
from mall import query as q
from mall import tables as t
from mall.access import STAFF_ROLES, Principal, audit, throttle
from mall.db import Database, must_exist
from mall.earning import awards
from mall.errors import N_, AlreadyExists, Invalid, NotFound
from mall.notify import inbox, kinds

KINDS = ("proposal", "dispute", "wish")
#: Days to decide each kind unless the community set its own: a dispute cannot wait long.
DEFAULT_DAYS = {"dispute": 3, "proposal": 7, "wish": 14}
MAX_DAYS = 365
OPEN: Literal["open"] = "open"
ACCEPTED: Literal["accepted"] = "accepted"
RESOLVED: Literal["resolved"] = "resolved"
REJECTED: Literal["rejected"] = "rejected"
STATUSES = (OPEN, ACCEPTED, RESOLVED, REJECTED)
#: whom a decision's points go to: the filer, or the neighbour who fulfilled a micro-wish
REWARD_TO = ("filer", "helper")
CLOSED = (RESOLVED, REJECTED)
#: decision → (the statuses it may come from, the status it leads to)
DECISIONS = {
    "accept": ((OPEN,), ACCEPTED),
    "resolve": ((OPEN, ACCEPTED), RESOLVED),
    "reject": ((OPEN, ACCEPTED), REJECTED),
}


#: decision → the message its filer finds in their inbox
TOLD = {
    "accept": kinds.SUBMISSION_ACCEPTED,
    "resolve": kinds.SUBMISSION_RESOLVED,
    "reject": kinds.SUBMISSION_REJECTED,
}


class NotAllowedNow(AlreadyExists):
    """A decision the submission's status does not allow: ``already_exists`` (409)."""

    message = N_("This decision is not possible for this submission now.")


#: status → why no decision (or no second acceptance) can follow it
TOO_LATE = {
    ACCEPTED: N_("This submission is already accepted; resolve or reject it instead."),
    RESOLVED: N_("This submission is already resolved; it cannot be changed."),
    REJECTED: N_("This submission was already rejected; it cannot be changed."),
}


Kind = Literal["proposal", "dispute", "wish"]
Status = Literal["open", "accepted", "resolved", "rejected"]


class Submission(msgspec.Struct, frozen=True, kw_only=True):
    """A resident's proposal, dispute report or micro-wish, with its due date and decision."""

    id: int
    kind: Kind
    title: str
    body: str
    status: Status
    created_at: datetime
    due_at: datetime
    overdue: bool
    """Due date passed and not resolved or rejected."""
    decided_at: datetime | None
    decided_by: str | None
    """The username of the staff member who decided last."""
    reason: str
    resident: int
    resident_name: str
    helper: int | None
    """For a micro-wish: the neighbour who fulfilled it."""
    helper_name: str | None
    rule: str | None
    """The code of the rule its decision awarded by."""
    rule_name: str | None
    award: int | None
    """The award its decision made, if any."""
    award_status: str | None
    community_id: int
    community_slug: str
    stars: int | None = None
    """The filer's rating once resolved (1 to 5, ``mall.earning.ratings``), None until rated."""
    rating_comment: str = ""
    rated_at: datetime | None = None


class Deadlines(msgspec.Struct, frozen=True, kw_only=True):
    """Days to decide each kind of submission in a community."""

    proposal: int
    dispute: int
    wish: int


def now() -> datetime:
    return datetime.now(UTC)


def _days(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_DAYS:
        raise Invalid(N_("Days must be a whole number from 1 to {n}."), n=MAX_DAYS)
    return value


async def _deadlines(conn: Connection, community_id: int) -> dict[str, int]:
    d = t.SubmissionDeadline
    rows = await q.fetch(conn, d.select(d.kind, d.days).where(d.community == community_id))
    return DEFAULT_DAYS | {r["kind"]: int(r["days"]) for r in rows if r["kind"] in KINDS}


async def deadlines(db: Database, p: Principal, slug: str) -> Deadlines:
    """Days to decide each kind in the community (staff)."""
    async with db.connection() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES)
        return Deadlines(**await _deadlines(conn, community["id"]))


async def set_deadlines(
    db: Database, p: Principal, slug: str, days: dict[str, int], *, ip: str = ""
) -> Deadlines:
    """Change the days for some kinds (staff); applies to submissions filed from now on."""
    if not days or any(kind not in KINDS for kind in days):
        raise Invalid(N_("The kind must be proposal, dispute or wish."))
    days = {kind: _days(value) for kind, value in days.items()}
    async with db.transaction() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES)
        d = t.SubmissionDeadline
        for kind, value in days.items():
            await q.execute(
                conn,
                d.insert(d(community=community["id"], kind=kind, days=value)).on_conflict(
                    target=(d.community, d.kind), action="DO UPDATE", values=[d.days]
                ),
            )
        await audit.record(
            conn,
            p,
            "submission.deadlines",
            community_id=community["id"],
            target=slug,
            ip=ip,
            **days,
        )
        return Deadlines(**await _deadlines(conn, community["id"]))


def _select_submissions() -> Select[t.Submission]:
    """A submission with its community, filer, helper, decider, rule and award (outer joins
    throughout: community and filer are never null, so no row is lost)."""
    s = t.Submission
    return s.select(
        s.id,
        s.kind,
        s.title,
        s.body,
        s.status,
        s.created_at,
        s.due_at,
        s.decided_at,
        s.reason,
        s.resident,
        s.helper,
        s.award,
        s.community.as_alias("community_id"),
        s.community.slug.as_alias("community_slug"),
        s.resident.name.as_alias("resident_name"),
        s.helper.name.as_alias("helper_name"),
        s.decided_by.username.as_alias("decided_by"),
        s.rule.code.as_alias("rule"),
        s.rule.name.as_alias("rule_name"),
        s.award.status.as_alias("award_status"),
    )


async def _rated(conn: Connection, found: list[Submission]) -> list[Submission]:
    """``found`` with each one's rating, if its filer rated it."""
    if not found:
        return found
    r = t.SubmissionRating
    rows = await q.fetch(
        conn,
        r.select(r.submission, r.stars, r.comment, r.created_at).where(
            r.submission.is_in([s.id for s in found])
        ),
    )
    by_id = {int(row["submission"]): row for row in rows}
    return [
        msgspec.structs.replace(
            s,
            stars=int(by_id[s.id]["stars"]),
            rating_comment=by_id[s.id]["comment"],
            rated_at=by_id[s.id]["created_at"],
        )
        if s.id in by_id
        else s
        for s in found
    ]


def _submission(row: Row, at: datetime | None = None) -> Submission:
    return Submission(
        id=row["id"],
        kind=row["kind"],
        title=row["title"],
        body=row["body"],
        status=row["status"],
        created_at=row["created_at"],
        due_at=row["due_at"],
        overdue=row["status"] not in CLOSED and row["due_at"] <= (at or now()),
        decided_at=row["decided_at"],
        decided_by=row["decided_by"],
        reason=row["reason"],
        resident=row["resident"],
        resident_name=row["resident_name"],
        helper=row["helper"],
        helper_name=row["helper_name"],
        rule=row["rule"],
        rule_name=row["rule_name"],
        award=row["award"],
        award_status=row["award_status"],
        community_id=row["community_id"],
        community_slug=row["community_slug"],
    )


async def file(db: Database, p: Principal, kind: str, title: str, body: str) -> Submission:
    """A resident files a submission, due by the community's days for its kind."""
    p = access.resident_self(p)
    if kind not in KINDS:
        raise Invalid(N_("The kind must be proposal, dispute or wish."))
    title = text.plain(
        title, max_length=100, empty=N_("Please write a short title (at most {n} characters).")
    )
    body = (body or "").strip()
    if len(body) > 4000:
        raise Invalid(N_("Please keep the text under {n} characters."), n=4000)
    if any(ch in body for ch in "\x00\x7f") or any(
        ord(ch) < 32 and ch not in "\n\r\t" for ch in body
    ):
        raise Invalid(N_("Please use ordinary letters, digits and punctuation only."))
    async with db.transaction() as conn:
        await throttle.hit(conn, f"submission:r{p.resident_id}", limit=20, window=timedelta(days=1))
    async with db.transaction() as conn:
        resident = await access.resident(conn, p, p.resident_id, ["resident"])
        days = (await _deadlines(conn, resident["community"]))[kind]
        at = now()
        s = t.Submission
        new = s(
            community=resident["community"],
            resident=resident["id"],
            kind=kind,
            title=title,
            body=body,
            status=OPEN,
            created_at=at,
            due_at=at + timedelta(days=days),
            reason="",
        )
        submission_id = await q.fetchval(conn, s.insert(new).returning(s.id))
        row = await q.fetchrow(conn, _select_submissions().where(s.id == submission_id))
    return _submission(must_exist(row))


async def mine(db: Database, p: Principal, *, limit: int = 50) -> list[Submission]:
    """The signed-in resident's own submissions, newest first."""
    p = access.resident_self(p)
    async with db.connection() as conn:
        s = t.Submission
        rows = await q.fetch(
            conn,
            _select_submissions()
            .where(s.resident == p.resident_id)
            .order_by(s.id, ascending=False)
            .limit(max(1, min(limit, 200))),
        )
        return await _rated(conn, [_submission(r) for r in rows])


async def queue(
    db: Database, p: Principal, slug: str, *, status: str | None = None, limit: int = 100
) -> list[Submission]:
    """The community's submissions for staff: overdue first, then by due date."""
    if status is not None and status not in STATUSES:
        raise Invalid(N_("Unknown status."))
    at = now()
    async with db.connection() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES)
        s = t.Submission
        query = _select_submissions().where(s.community == community["id"])
        if status:
            query = query.where(s.status == status)
        # Sort in the database, then limit: sorting only the first rows by due date would let
        # closed old submissions crowd out the new ones once there are a few hundred. The CASE
        # results are literals, as before: a bound parameter there has no type on PostgreSQL.
        zero, one = QueryString("0"), QueryString("1")
        overdue_first = Case(
            When(s.status.is_in([OPEN, ACCEPTED]) & (s.due_at <= at), then=zero), default=one
        )
        closed_last = Case(When(s.status.is_in(list(CLOSED)), then=one), default=zero)
        query = query.order_by(overdue_first, closed_last, s.due_at, s.id).limit(
            max(1, min(limit, 200))
        )
        return await _rated(conn, [_submission(r, at) for r in await q.fetch(conn, query)])


async def count_overdue(db: Database, p: Principal, slug: str) -> int:
    """How many of the community's submissions are past their due date and still open (staff)."""
    async with db.connection() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES)
        s = t.Submission
        return int(
            await q.fetchval(
                conn,
                s.count().where(
                    (s.community == community["id"])
                    & s.status.is_in([OPEN, ACCEPTED])
                    & (s.due_at <= now())
                ),
            )
        )


async def get(db: Database, p: Principal, submission_id: int) -> Submission:
    """One submission: its filer, or staff of its community; anyone else gets ``not_found``."""
    access.require(p, STAFF_ROLES + ("resident",))
    if not 0 < submission_id <= access.MAX_ID:
        raise NotFound()
    async with db.connection() as conn:
        row = await q.fetchrow(conn, _select_submissions().where(t.Submission.id == submission_id))
        if row is None:
            raise NotFound()
        if p.role == "resident":
            if row["resident"] != p.resident_id:
                raise NotFound()
        elif not p.is_admin and row["community_id"] != p.community_id:
            raise NotFound()
        return (await _rated(conn, [_submission(row)]))[0]


async def decide(
    db: Database,
    p: Principal,
    submission_id: int,
    decision: str,
    *,
    reason: str = "",
    rule: str | None = None,
    helper_id: int | None = None,
    reward_to: str | None = None,
    ip: str = "",
) -> Submission:
    """Accept, resolve or reject (staff). ``rule`` awards its points to one resident: the
    filer, or for a micro-wish the neighbour who fulfilled it (``helper_id``, a resident of the
    community), who is the default when named; ``reward_to`` (``filer`` or ``helper``) chooses.
    The award may wait for approval like any other."""
    p = access.staff(p)
    if decision not in DECISIONS:
        raise Invalid(N_("The decision must be accept, reject or resolve."))
    reason = text.plain(
        reason,
        max_length=200,
        required=decision == "reject",
        empty=N_("Please give the reason (at most {n} characters)."),
    )
    rule = (rule or "").strip() or None
    if rule and decision == "reject":
        raise Invalid(N_("A rejected submission earns no points."))
    if helper_id is not None and not rule:
        raise Invalid(N_("Choose a rule to award the neighbour who helped."))
    if reward_to not in (None, "", *REWARD_TO):
        raise Invalid(N_("The points go to the filer or to the neighbour who helped."))
    to_helper = helper_id is not None and reward_to != "filer"
    if reward_to == "helper" and helper_id is None:
        raise Invalid(N_("Name the neighbour who fulfilled the wish to give them the points."))
    if not 0 < submission_id <= access.MAX_ID:
        raise NotFound()
    async with db.transaction() as conn:
        s, c = t.Submission, t.Community
        query = s.select(s.id, s.community, s.resident, s.kind, s.title, s.status, s.award).where(
            s.id == submission_id
        )
        row = await q.fetchrow(conn, query.lock_rows() if conn.dialect == "postgres" else query)
        if row is None or (not p.is_admin and row["community"] != p.community_id):
            raise NotFound()
        community = must_exist(
            await q.fetchrow(conn, c.select(c.slug).where(c.id == row["community"]))
        )
        allowed_from, to = DECISIONS[decision]
        if row["status"] not in allowed_from:
            raise NotAllowedNow(TOO_LATE.get(row["status"]))
        if helper_id is not None:
            if row["kind"] != "wish":
                raise Invalid(N_("Only a micro-wish has a neighbour who fulfilled it."))
            if helper_id == row["resident"]:
                raise Invalid(N_("The neighbour who helped is someone other than the filer."))
        award_id, rule_id = row["award"], None
        if rule:
            if award_id is not None:
                raise AlreadyExists(N_("Points were already awarded for this submission."))
            ids = [helper_id] if to_helper and helper_id is not None else [row["resident"]]
            made = await awards.create_award(
                db,
                p,
                community["slug"],
                rule,
                ids,
                row["title"],
                idempotency_key=f"submission:{submission_id}",
                req_hash=ledger.request_hash(
                    {"submission": submission_id, "rule": rule, "ids": ids}
                ),
                ip=ip,
            )
            award_id = made.id
            a = t.Award
            rule_id = await q.fetchval(conn, a.select(a.rule).where(a.id == award_id))
        # a rule or helper already recorded stays when this decision names none
        values: dict[Any, Any] = {
            s.status: to,
            s.decided_by: p.user_id,
            s.decided_at: now(),
            s.reason: reason,
            s.award: award_id,
        }
        if rule_id is not None:
            values[s.rule] = rule_id
        if helper_id is not None:
            values[s.helper] = helper_id
        await q.execute(conn, s.update(values).where(s.id == submission_id))
        await inbox.post(
            conn,
            community_id=row["community"],
            resident_id=row["resident"],
            kind=TOLD[decision],
            title=row["title"],
            reason=reason,
        )
        await audit.record(
            conn,
            p,
            "submission.decide",
            community_id=row["community"],
            target=f"submission:{submission_id}",
            ip=ip,
            decision=decision,
            reason=reason,
            award=award_id,
        )
        found = await q.fetchrow(conn, _select_submissions().where(s.id == submission_id))
    return _submission(must_exist(found))
