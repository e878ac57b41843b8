"""Earning rules (积分规则): how many points an action earns along one path, with optional caps per
resident per calendar day and month and an approval threshold; and the cap check awards run.

Caps count points per resident per rule, posted and pending alike, on the residents' own calendar
(``CALENDAR``); they never look at rejected awards.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Literal

import msgspec
from piccolo.query.functions import Coalesce, Sum
from piccolo.query.methods.select import Select

from ledger import Connection, Row
from mall import access, text
from mall import query as q
from mall import tables as t
from mall.access import STAFF_ROLES, Principal, audit
from mall.days import CALENDAR
from mall.db import Database, must_exist
from mall.errors import N_, AlreadyExists, CapExceeded, Invalid, NotFound
from mall.org import points

RULE_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
MAX_POINTS = 100_000
MAX_CAP = 10_000_000
#: Award statuses that count towards caps.
COUNTED = ("posted", "pending_approval")

#: The three earning paths (``mall.org.points.PATHS``).
Path = Literal["timely_help", "adding_to_good", "settling_disputes"]


class Rule(msgspec.Struct, frozen=True, kw_only=True):
    """An earning rule: ``points`` per resident for one action along one path."""

    id: int
    code: str
    name: str
    path: Path
    points: int
    daily_cap: int | None
    monthly_cap: int | None
    approval_threshold: int | None
    active: bool


def now() -> datetime:
    return datetime.now(UTC)


def _whole(value: object, low: int, high: int, message: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise Invalid(message, low=low, high=high)
    return value


def _optional(value: object, low: int, message: str) -> int | None:
    return None if value is None else _whole(value, low, MAX_CAP, message)


def day_and_month(at: datetime) -> tuple[tuple[datetime, datetime], tuple[datetime, datetime]]:
    """The calendar day and month (in ``CALENDAR``) holding ``at``, each as a UTC [start, end)."""
    local = at.astimezone(CALENDAR)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    month = day.replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    next_day = (day + timedelta(days=1)).replace(hour=0)

    def utc(moment: datetime) -> datetime:
        return moment.replace(tzinfo=CALENDAR).astimezone(UTC)

    return (utc(day), utc(next_day)), (utc(month), utc(next_month))


def _rule(row: Row) -> Rule:
    return Rule(
        id=row["id"],
        code=row["code"],
        name=row["name"],
        path=row["path"],
        points=row["points"],
        daily_cap=row["daily_cap"],
        monthly_cap=row["monthly_cap"],
        approval_threshold=row["approval_threshold"],
        active=bool(row["active"]),
    )


def select_rules() -> Select[t.Rule]:
    """The columns of a rule that ``_rule`` and the awards read."""
    r = t.Rule
    return r.select(
        r.id,
        r.community,
        r.code,
        r.name,
        r.path,
        r.points,
        r.daily_cap,
        r.monthly_cap,
        r.approval_threshold,
        r.active,
    )


def locked(conn: Connection, query: Select[t.Rule]) -> Select[t.Rule]:
    """``query`` ``FOR UPDATE`` on PostgreSQL; on SQLite unchanged (its single writer already
    serialises, and it has no row locks)."""
    return query.lock_rows() if conn.dialect == "postgres" else query


#: An activity's settlement is an award by its path's own rule, ``activity:<path>``: a code no
#: staff member can type (``RULE_CODE`` has no colon), with no caps and no threshold of its own
#: (the community's daily threshold applies), kept out of the rules staff choose from.
ACTIVITY_PREFIX = "activity:"
ACTIVITY_RULE_NAME = "参加志愿活动"


async def create_rule(
    db: Database,
    p: Principal,
    slug: str,
    code: str,
    name: str,
    path: str,
    points_each: int,
    *,
    daily_cap: int | None = None,
    monthly_cap: int | None = None,
    approval_threshold: int | None = None,
    ip: str = "",
) -> Rule:
    """A new rule of the community (staff). A code already in use is ``already_exists``."""
    code = (code or "").strip()
    if not RULE_CODE.match(code):
        raise Invalid(N_("A rule code uses 1 to 40 letters, digits, dots, dashes or underscores."))
    name = text.plain(
        name, max_length=100, empty=N_("Please name the rule (at most {n} characters).")
    )
    if path not in points.PATHS:
        raise Invalid(N_("Please choose one of the three earning paths."))
    points_each = _whole(
        points_each, 1, MAX_POINTS, N_("Points must be a whole number from {low} to {high}.")
    )
    daily_cap = _optional(daily_cap, 1, N_("A limit must be a whole number from {low} to {high}."))
    monthly_cap = _optional(
        monthly_cap, 1, N_("A limit must be a whole number from {low} to {high}.")
    )
    approval_threshold = _optional(
        approval_threshold,
        0,
        N_("The approval threshold must be a whole number from {low} to {high}."),
    )
    async with db.transaction() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES)
        r = t.Rule
        if await q.fetchval(
            conn, r.exists().where((r.community == community["id"]) & (r.code == code))
        ):
            raise AlreadyExists(N_("A rule with this code already exists."))
        new = r(
            community=community["id"],
            code=code,
            name=name,
            path=path,
            points=points_each,
            daily_cap=daily_cap,
            monthly_cap=monthly_cap,
            approval_threshold=approval_threshold,
            active=True,
            created_at=now(),
        )
        rule_id = await q.fetchval(
            conn,
            r.insert(new)
            .on_conflict(target=(r.community, r.code), action="DO NOTHING")
            .returning(r.id),
        )
        if rule_id is None:  # created by someone else a moment ago
            raise AlreadyExists(N_("A rule with this code already exists."))
        await audit.record(
            conn,
            p,
            "rule.create",
            community_id=community["id"],
            target=code,
            ip=ip,
            name=name,
            path=path,
            points=points_each,
        )
        row = await q.fetchrow(conn, select_rules().where(r.id == rule_id))
    return _rule(must_exist(row))


async def list_rules(db: Database, p: Principal, slug: str) -> list[Rule]:
    """The community's rules, by path and name (staff)."""
    async with db.connection() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES)
        r = t.Rule
        rows = await q.fetch(
            conn,
            select_rules()
            .where((r.community == community["id"]) & r.code.not_like(ACTIVITY_PREFIX + "%"))
            .order_by(r.path, r.name, r.id),
        )
    return [_rule(r) for r in rows]


async def rule_for_award(
    conn: Connection, community_id: int, *, code: str | None = None, rule_id: int | None = None
) -> Row:
    """The rule an award uses, locked ``FOR UPDATE`` on PostgreSQL so that the cap check and the
    award that follows it are one step for every award of this rule (SQLite's single writer
    already is). Lock it before any ledger account: every award path takes the locks in this
    order, so two of them never wait on each other."""
    r = t.Rule
    if rule_id is not None:
        which = (r.id == rule_id) & (r.community == community_id)
    else:
        which = (r.community == community_id) & (r.code == (code or "").strip()[:40])
    row = await q.fetchrow(conn, locked(conn, select_rules().where(which)))
    if row is None:
        raise NotFound(N_("No rule with this code in the community."))
    if not row["active"]:
        raise Invalid(N_("This rule is no longer in use."))
    return row


async def activity_rule(conn: Connection, community_id: int, path: str) -> Row:
    """The rule an activity's settlement awards by, for its path: made the first time, then
    locked like any rule (``rule_for_award``)."""
    code = ACTIVITY_PREFIX + path
    r = t.Rule
    new = r(
        community=community_id,
        code=code,
        name=ACTIVITY_RULE_NAME,
        path=path,
        points=0,
        daily_cap=None,
        monthly_cap=None,
        approval_threshold=None,
        active=True,
        created_at=now(),
    )
    await q.execute(
        conn, r.insert(new).on_conflict(target=(r.community, r.code), action="DO NOTHING")
    )
    which = (r.community == community_id) & (r.code == code)
    return must_exist(await q.fetchrow(conn, locked(conn, select_rules().where(which))))


async def check_caps(
    conn: Connection,
    rule: Row,
    residents: Sequence[Row],
    points_each: int,
    at: datetime,
    *,
    exclude_award: int | None = None,
) -> None:
    """``CapExceeded``, naming the first resident, if ``points_each`` more on ``at``'s calendar
    day or month would pass the rule's caps. Posted and pending lines count."""
    (day_start, day_end), (month_start, month_end) = day_and_month(at)
    line = t.AwardLine
    for cap, start, end, message in (
        (
            rule["daily_cap"],
            day_start,
            day_end,
            N_("{name} would pass the daily limit of {cap} points for “{rule}” ({had} today)."),
        ),
        (
            rule["monthly_cap"],
            month_start,
            month_end,
            N_(
                "{name} would pass the monthly limit of {cap} points for “{rule}” "
                "({had} this month)."
            ),
        ),
    ):
        if cap is None:
            continue
        for resident in residents:
            had = int(
                await q.fetchval(
                    conn,
                    line.select(Coalesce(Sum(line.points), 0)).where(
                        (line.resident == resident["id"])
                        & (line.award.rule == rule["id"])
                        & line.award.status.is_in(list(COUNTED))
                        & (line.created_at >= start)
                        & (line.created_at < end)
                        & (line.award.id != (exclude_award or 0))
                    ),
                )
            )
            if had + points_each > cap:
                raise CapExceeded(
                    message, name=resident["name"], cap=cap, rule=rule["name"], had=had
                )
