"""User accounts over their life (账号管理): the list, one account's page with its last sign-ins,
the link to the user's own resident record, and switching an account off and on again.

A deactivated account's sessions and API tokens are revoked in the same transaction, and this
process forgets the sessions it trusted once that commits (``auth.forget_sessions``); sign-in
then answers as for a wrong password until the account is reactivated. Nobody deactivates
themselves; staff switch only their own community's volunteers, administrators anyone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from piccolo.columns import Column
from piccolo.query.methods.select import Select

from ledger import Connection, Row
from mall import access
from mall import query as q
from mall import tables as t
from mall.access import STAFF_ROLES, Principal, audit
from mall.db import Database
from mall.errors import N_, Forbidden, Invalid, NotFound
from mall.people.auth import forget_sessions, revoke_user_sessions
from mall.people.lifecycle import check_open

#: Sign-ins a user's page lists, newest first.
SIGN_INS = 10


class Account(msgspec.Struct, frozen=True, kw_only=True):
    """A user account as the list shows it; ``community`` is its slug (none: an administrator)."""

    id: int
    username: str
    role: str
    community: str | None
    active: bool


class OwnRecord(msgspec.Struct, frozen=True, kw_only=True):
    """The resident record of the user themselves: they never act on it (``self_dealing``)."""

    id: int
    name: str


class SignIn(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime
    ip: str
    kind: str
    """``web`` (a browser) or ``api`` (a token)."""


class AccountPage(msgspec.Struct, frozen=True, kw_only=True):
    """One account: who, what role where, their own record, and their last sign-ins."""

    account: Account
    community_name: str | None
    resident: OwnRecord | None
    created_at: datetime
    sign_ins: list[SignIn]


def _accounts() -> Select[t.User]:
    """Accounts with their community's code and name (none for an administrator)."""
    u = t.User
    return u.select(
        u.id,
        u.username,
        u.role,
        u.active,
        u.community.as_alias("community_id"),
        u.resident,
        u.created_at,
        u.community.slug.as_alias("slug"),
        u.community.name.as_alias("community_name"),
    )


def _account(row: Row) -> Account:
    return Account(
        id=int(row["id"]),
        username=row["username"],
        role=row["role"],
        community=row["slug"],
        active=bool(row["active"]),
    )


async def list_users(db: Database, p: Principal, community: str | None = None) -> list[Account]:
    """Every account by community and name (administrators; ``community`` one community's),
    or the accounts of the caller's own community (staff; another community is ``forbidden``)."""
    access.require(p, STAFF_ROLES)
    async with db.connection() as conn:
        query = _accounts()
        if community or not p.is_admin:
            found = await access.community(
                conn, p, community or p.community_slug or "", STAFF_ROLES
            )
            query = query.where(t.User.community == found["id"])
        rows = await q.fetch(conn, query)
    # administrators first, then by community and name (codes and usernames are ASCII, so
    # Python's order is the same on both engines, whatever PostgreSQL's collation)
    return sorted(
        map(_account, rows), key=lambda a: (a.community is not None, a.community or "", a.username)
    )


async def _user_row(conn: Connection, p: Principal, user_id: int) -> Row:
    """The account, if the caller may see it: administrators any, staff their community's."""
    access.require(p, STAFF_ROLES)
    if not 0 < user_id <= access.MAX_ID:
        raise NotFound()
    row = await q.fetchrow(conn, _accounts().where(t.User.id == user_id))
    if row is None or (not p.is_admin and row["community_id"] != p.community_id):
        raise NotFound()
    return row


async def get_user(db: Database, p: Principal, user_id: int) -> AccountPage:
    """One account with its own record and its last ``SIGN_INS`` sign-ins (newest first)."""
    async with db.connection() as conn:
        row = await _user_row(conn, p, user_id)
        own = None
        if row["resident"] is not None:
            name = await q.fetchval(
                conn, t.Resident.select(t.Resident.name).where(t.Resident.id == row["resident"])
            )
            own = OwnRecord(id=int(row["resident"]), name=name)
        s = t.Session
        sessions = await q.fetch(
            conn,
            s.select(s.created_at, s.ip, s.kind)
            .where(s.user_id == user_id)
            .order_by(s.created_at, s.id, ascending=False)
            .limit(SIGN_INS),
        )
    return AccountPage(
        account=_account(row),
        community_name=row["community_name"],
        resident=own,
        created_at=row["created_at"],
        sign_ins=[SignIn(at=s["created_at"], ip=s["ip"], kind=s["kind"]) for s in sessions],
    )


async def check_own_record(
    conn: Connection, p: Principal, community_id: int | None, resident_id: int
) -> int:
    """The resident id, if it can be the own record of a user of ``community_id``: an open
    record the caller may see (else ``not_found``), of that community (else
    ``validation_error``; any community for an administrator's account)."""
    found = await access.resident(conn, p, resident_id, STAFF_ROLES)
    if community_id is not None and found["community"] != community_id:
        raise Invalid(N_("The user's own record must be a resident of the user's community."))
    await check_open(conn, [resident_id])
    return resident_id


async def set_own_record(
    db: Database, p: Principal, user_id: int, resident_id: int | None, *, ip: str = ""
) -> AccountPage:
    """Link the user to their own resident record, or (``None``) unlink it (administrators)."""
    access.require(p, ["admin"])
    async with db.transaction() as conn:
        row = await _user_row(conn, p, user_id)
        if resident_id is not None:
            await check_own_record(conn, p, row["community_id"], resident_id)
        await q.execute(
            conn, t.User.update({t.User.resident: resident_id}).where(t.User.id == user_id)
        )
        await audit.record(
            conn,
            p,
            "user.own_record",
            community_id=row["community_id"],
            target=row["username"],
            ip=ip,
            resident=resident_id,
            before=row["resident"],
        )
    return await get_user(db, p, user_id)


async def _switchable(conn: Connection, p: Principal, user_id: int) -> Row:
    row = await _user_row(conn, p, user_id)
    if row["id"] == access.staff(p).user_id:
        raise Forbidden(N_("You cannot switch off your own account; ask another administrator."))
    if not p.is_admin and row["role"] != "volunteer":
        raise Forbidden(N_("Staff can switch only their community's volunteers on and off."))
    return row


async def _switch(db: Database, p: Principal, user_id: int, *, on: bool, ip: str) -> Account:
    """Switch an account on or off; switching it to what it is changes nothing. Off ends every
    session and token of it at once; on resets its failed sign-ins (its old sessions stay ended)."""
    async with db.transaction() as conn:
        row = await _switchable(conn, p, user_id)
        if not on:
            await revoke_user_sessions(conn, user_id)
        u = t.User
        values: dict[Column | str, Any] = {u.active: on}
        if on:
            values |= {u.failed_logins: 0, u.locked_until: None}
        switched = u.update(values).where((u.id == user_id) & (u.active == (not on)))
        if await q.fetchval(conn, switched.returning(u.id)):  # the one of two at once that did it
            await audit.record(
                conn,
                p,
                "user.reactivate" if on else "user.deactivate",
                community_id=row["community_id"],
                target=row["username"],
                ip=ip,
            )
    if not on:
        forget_sessions()
    return msgspec.structs.replace(_account(row), active=on)


async def deactivate(db: Database, p: Principal, user_id: int, *, ip: str = "") -> Account:
    """Switch an account off: every session and token of it stops at once, and it cannot sign
    in until reactivated. Doing it again changes nothing."""
    return await _switch(db, p, user_id, on=False, ip=ip)


async def reactivate(db: Database, p: Principal, user_id: int, *, ip: str = "") -> Account:
    """Switch an account on again: it signs in with its password (its old sessions stay ended)."""
    return await _switch(db, p, user_id, on=True, ip=ip)
