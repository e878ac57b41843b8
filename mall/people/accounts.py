"""User accounts over their life (账号管理): the list, one account's page with its last sign-ins,
the link to the user's own resident record, and switching an account off and on again.

A deactivated account's sessions and API tokens are revoked in the same transaction, and this
process forgets the sessions it trusted once that commits (``auth.forget_sessions``); sign-in
then answers as for a wrong password until the account is reactivated. Nobody deactivates
themselves; staff switch only their own community's volunteers, administrators anyone.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from ledger import Connection, Row
from mall import access
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


_COLUMNS = (
    "u.id, u.username, u.role, u.active, u.community AS community_id, u.resident, u.created_at, "
    "c.slug, c.name AS community_name"
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
        sql = f"SELECT {_COLUMNS} FROM mall_user u LEFT JOIN mall_community c ON c.id = u.community"
        args: list[int] = []
        if community or not p.is_admin:
            found = await access.community(
                conn, p, community or p.community_slug or "", STAFF_ROLES
            )
            sql += " WHERE u.community = ?"
            args.append(found["id"])
        rows = await conn.fetch(sql + " ORDER BY c.slug IS NOT NULL, c.slug, u.username", *args)
    return [_account(r) for r in rows]


async def _user_row(conn: Connection, p: Principal, user_id: int) -> Row:
    """The account, if the caller may see it: administrators any, staff their community's."""
    access.require(p, STAFF_ROLES)
    if not 0 < user_id <= access.MAX_ID:
        raise NotFound()
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM mall_user u LEFT JOIN mall_community c ON c.id = u.community "
        "WHERE u.id = ?",
        user_id,
    )
    if row is None or (not p.is_admin and row["community_id"] != p.community_id):
        raise NotFound()
    return row


async def get_user(db: Database, p: Principal, user_id: int) -> AccountPage:
    """One account with its own record and its last ``SIGN_INS`` sign-ins (newest first)."""
    async with db.connection() as conn:
        row = await _user_row(conn, p, user_id)
        own = None
        if row["resident"] is not None:
            name = await conn.fetchval(
                "SELECT name FROM mall_resident WHERE id = ?", row["resident"]
            )
            own = OwnRecord(id=int(row["resident"]), name=name)
        sessions = await conn.fetch(
            "SELECT created_at, ip, kind FROM mall_session WHERE user_id = ? "
            "ORDER BY created_at DESC, id DESC LIMIT ?",
            user_id,
            SIGN_INS,
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
        await conn.execute("UPDATE mall_user SET resident = ? WHERE id = ?", resident_id, user_id)
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
        resets = ", failed_logins = 0, locked_until = NULL" if on else ""
        if await conn.fetchval(  # the one of two switching it at once that did it
            f"UPDATE mall_user SET active = ?{resets} WHERE id = ? AND active = ? RETURNING id",
            on,
            user_id,
            not on,
        ):
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
