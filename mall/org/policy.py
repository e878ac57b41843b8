"""A community's trust policy (信任规则): how many points one staff member may issue to one
resident in a day before a second staff member must approve, the most an activity may pay a
head, how many days the public notice stays open to objections, when points expire
(``expiry``: never, at the end of the calendar year they were earned in, China time, or
``expiry_months`` after the day they were earned), and the hours of volunteer service for each
star level (星级志愿者, ``star_hours``). Stores and checks the values; the earning
package applies them (``mall.earning.expiry``).

The policy lives in columns of ``mall_community`` rather than a table of its own: there is
exactly one per community, every community has one from the moment it exists (the columns'
defaults), and reading it never needs a join or a missing-row case.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal, get_args

import msgspec
from piccolo.columns import Column

from ledger import Connection
from mall import access
from mall import query as q
from mall import tables as t
from mall.access import STAFF_ROLES, Principal, audit
from mall.db import Database, must_exist
from mall.errors import N_, Invalid

DEFAULT_APPROVAL_THRESHOLD = 100
DEFAULT_ACTIVITY_MAX_POINTS = 200
DEFAULT_OBJECTION_DAYS = 7
#: the ranges a policy may take (an activity pays at most 10,000 a head anyway)
MAX_APPROVAL_THRESHOLD = 1_000_000
MAX_ACTIVITY_POINTS = 10_000
MAX_OBJECTION_DAYS = 90
#: when points expire: never (the default), at the end of the calendar year (China time) they
#: were earned in, or ``expiry_months`` months after the day they were earned
Expiry = Literal["never", "year_end", "months"]
EXPIRIES: tuple[str, ...] = get_args(Expiry)
DEFAULT_EXPIRY_MONTHS = 12
MAX_EXPIRY_MONTHS = 120
#: hours of volunteer service for 一星 to 五星 (星级志愿者): the common national scheme's
DEFAULT_STAR_HOURS = (100, 300, 600, 1000, 1500)
MAX_STAR_HOURS = 100_000

C = t.Community
#: the policy's columns of ``mall_community``
COLUMNS = (
    C.approval_threshold,
    C.activity_max_points,
    C.objection_days,
    C.expiry,
    C.expiry_months,
    C.expiry_since,
    C.star1_hours,
    C.star2_hours,
    C.star3_hours,
    C.star4_hours,
    C.star5_hours,
)
STARS = (C.star1_hours, C.star2_hours, C.star3_hours, C.star4_hours, C.star5_hours)


class Policy(msgspec.Struct, frozen=True, kw_only=True):
    """A community's trust policy."""

    approval_threshold: int
    """Points one staff member may issue to one resident in one calendar day (China time),
    across awards, settlements and submission rewards, before a second staff member approves."""
    activity_max_points: int
    """The most an activity may pay each attendee."""
    objection_days: int
    """Days a public notice entry stays open to objections."""
    expiry: Expiry = "never"
    """When points expire: ``never``, ``year_end`` (points earned in a calendar year expire at
    its end, China time) or ``months`` (``expiry_months`` after the day they were earned)."""
    expiry_months: int = DEFAULT_EXPIRY_MONTHS
    """Months points stay valid when ``expiry`` is ``months`` (1 to 120)."""
    expiry_since: datetime | None = None
    """When the expiry rule last changed. A rule applies from the day it was set: points earned
    before that day count as earned on it, so a new or shorter rule never takes points at once."""
    star_hours: tuple[int, ...] = DEFAULT_STAR_HOURS
    """Hours of volunteer service (in all) for one to five stars (星级志愿者), rising."""


def _whole(value: object, low: int, high: int, message: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise Invalid(message, low=low, high=high)
    return value


async def policy_of(conn: Connection, community_id: int) -> Policy:
    """The community's policy, read inside the caller's transaction (no scope check: the caller
    has made it)."""
    row = must_exist(await q.fetchrow(conn, C.select(*COLUMNS).where(C.id == community_id)))
    return Policy(
        approval_threshold=int(row["approval_threshold"]),
        activity_max_points=int(row["activity_max_points"]),
        objection_days=int(row["objection_days"]),
        expiry=_expiry(row["expiry"]),
        expiry_months=int(row["expiry_months"]),
        expiry_since=row["expiry_since"],
        star_hours=tuple(int(row[column._meta.name]) for column in STARS),
    )


def _expiry(value: object) -> Expiry:
    if value == "year_end":
        return "year_end"
    if value == "months":
        return "months"
    if value == "never":
        return "never"
    raise Invalid(N_("Expiry must be one of: never, year_end, months."))


def _star_hours(value: object) -> tuple[int, ...]:
    """Five whole numbers of hours, each above the one before."""
    message = N_(
        "Star levels need five whole numbers of hours from 1 to {high}, each above the last."
    )
    if not isinstance(value, list | tuple) or len(value) != len(STARS):
        raise Invalid(message, low=1, high=MAX_STAR_HOURS)
    found = tuple(_whole(v, 1, MAX_STAR_HOURS, message) for v in value)
    if any(b <= a for a, b in zip(found, found[1:], strict=False)):
        raise Invalid(message, low=1, high=MAX_STAR_HOURS)
    return found


def stars(tenths: int, star_hours: Sequence[int]) -> int:
    """The star level (0 to 5) of ``tenths`` tenths of an hour of service in all."""
    return sum(1 for hours in star_hours if tenths >= hours * 10)


async def get_policy(db: Database, p: Principal, slug: str) -> Policy:
    """The community's policy (its staff, administrators)."""
    async with db.connection() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES)
        return await policy_of(conn, community["id"])


async def set_policy(
    db: Database,
    p: Principal,
    slug: str,
    *,
    approval_threshold: int | None = None,
    activity_max_points: int | None = None,
    objection_days: int | None = None,
    expiry: str | None = None,
    expiry_months: int | None = None,
    star_hours: Sequence[int] | None = None,
    ip: str = "",
) -> Policy:
    """Change some of the policy (administrators); ``None`` keeps a value. A value out of range
    is ``validation_error`` and nothing changes."""
    access.require(p, ["admin"])
    changes: dict[str, int | str | datetime] = {}
    if approval_threshold is not None:
        changes["approval_threshold"] = _whole(
            approval_threshold,
            0,
            MAX_APPROVAL_THRESHOLD,
            N_("The approval threshold must be a whole number from {low} to {high}."),
        )
    if activity_max_points is not None:
        changes["activity_max_points"] = _whole(
            activity_max_points,
            1,
            MAX_ACTIVITY_POINTS,
            N_("The most an activity may pay must be a whole number from {low} to {high}."),
        )
    if objection_days is not None:
        changes["objection_days"] = _whole(
            objection_days,
            1,
            MAX_OBJECTION_DAYS,
            N_("Objection days must be a whole number from {low} to {high}."),
        )
    if expiry is not None:
        changes["expiry"] = _expiry(expiry)
    if expiry_months is not None:
        changes["expiry_months"] = _whole(
            expiry_months,
            1,
            MAX_EXPIRY_MONTHS,
            N_("The months points stay valid must be a whole number from {low} to {high}."),
        )
    if star_hours is not None:
        for column, hours in zip(STARS, _star_hours(star_hours), strict=True):
            changes[column._meta.name] = hours
    async with db.transaction() as conn:
        community = await access.community(conn, p, slug, ["admin"])
        before = await policy_of(conn, community["id"])
        rule = (
            changes.get("expiry", before.expiry),
            changes.get("expiry_months", before.expiry_months),
        )
        if rule != (before.expiry, before.expiry_months):  # a new rule holds from today
            changes["expiry_since"] = datetime.now(UTC)
        if changes:
            values: dict[Column | str, Any] = {column: v for column, v in changes.items()}
            await q.execute(conn, C.update(values).where(C.id == community["id"]))
        after = await policy_of(conn, community["id"])
        await audit.record(
            conn,
            p,
            "policy.update",
            community_id=community["id"],
            target=slug,
            ip=ip,
            before=msgspec.structs.asdict(before),
            after=msgspec.structs.asdict(after),
        )
    return after
