"""Scope rules: who may act on which community. Every service calls these before it reads.

Street administrators see every community; staff and volunteers only their own; residents only
themselves. Another community's resident is ``NotFound``, never a hint that it exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ledger import Connection, Row
from mall import query as q
from mall import tables as t
from mall.access.principal import Admin, Principal, ResidentPrincipal, Staff, User
from mall.errors import Forbidden, Invalid, NotFound, SelfDealing, Unauthenticated

#: The roles that manage a community's people: street administrators and community staff.
STAFF_ROLES = ("admin", "staff")
SLUG = re.compile(r"[a-z0-9-]{1,64}\Z")
MAX_ID = 2**31 - 1
"""Row ids and cursors are 32-bit: a larger number cannot name a row (and SQLite would refuse it)."""


def require(principal: Principal | None, roles: Iterable[str]) -> Principal:
    """The principal, if it has one of ``roles``: 401 for nobody, 403 for a wrong role. Call a
    guard below instead where the narrowed type is then used."""
    if principal is None:
        raise Unauthenticated()
    if principal.role not in set(roles):
        raise Forbidden()
    return principal


def user(principal: Principal | None, roles: Iterable[str]) -> User:
    """A user account with one of ``roles`` (never a resident, whatever ``roles`` says)."""
    found = require(principal, roles)
    if found.kind != "user":
        raise Forbidden()
    return found


def staff(principal: Principal | None) -> Staff | Admin:
    """Community staff or a street administrator (``STAFF_ROLES``)."""
    found = require(principal, STAFF_ROLES)
    if found.role != "staff" and found.role != "admin":
        raise Forbidden()
    return found


def resident_self(principal: Principal | None) -> ResidentPrincipal:
    """A resident's own session (the resident it stands for); anyone else is ``Forbidden``."""
    if principal is None:
        raise Unauthenticated()
    if principal.kind != "resident":
        raise Forbidden()
    return principal


async def community(conn: Connection, principal: Principal, slug: str, roles: Iterable[str]) -> Row:
    """The community ``slug``, if the principal has one of ``roles`` there."""
    require(principal, roles)
    if not SLUG.match(slug or ""):
        raise NotFound()
    c = t.Community
    row = await q.fetchrow(
        conn, c.select(c.id, c.slug, c.name, c.book, c.street).where(c.slug == slug)
    )
    if row is None:
        raise NotFound()
    if not principal.is_admin and row["id"] != principal.community_id:
        raise Forbidden()
    return row


async def resident(
    conn: Connection, principal: Principal, resident_id: int, roles: Iterable[str]
) -> Row:
    """The resident, if the principal has one of ``roles`` in the resident's community."""
    require(principal, roles)
    if not 0 < resident_id <= MAX_ID:
        raise NotFound()
    r = t.Resident
    row = await q.fetchrow(
        conn,
        r.select(
            r.id,
            r.name,
            r.phone,
            r.grid,
            r.community,
            r.community.slug.as_alias("slug"),
            r.community.book.as_alias("book"),
            r.community.name.as_alias("community_name"),
        ).where(r.id == resident_id),
    )
    if row is None:
        raise NotFound()
    if principal.role == "resident":
        if row["id"] != principal.resident_id:
            raise NotFound()
    elif not principal.is_admin and row["community"] != principal.community_id:
        raise NotFound()
    return row


def cursor(before: int | None) -> int | None:
    """A page cursor (``before``) as given by a client: ``None`` or a row id or version."""
    if before is not None and not 0 < before <= MAX_ID:
        raise Invalid()
    return before


async def not_self_dealing(
    conn: Connection, principal: Principal, resident_ids: Iterable[int]
) -> None:
    """``SelfDealing`` when any of ``resident_ids`` is the acting user's own resident record.

    Called by every act that moves points to or from a resident on a staff member's word:
    awarding, approving, settling, reversing, refunding, merging and issuing a card.
    """
    if principal.kind != "user" or principal.user_id is None:
        return
    own = await q.fetchval(
        conn, t.User.select(t.User.resident).where(t.User.id == principal.user_id)
    )
    if own is not None and int(own) in set(resident_ids):
        raise SelfDealing()
