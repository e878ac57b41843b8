"""Who is asking: passwords (argon2id), sessions and API tokens, and the principal they stand for.

Only a SHA-256 of a session token is stored, so a stolen database holds no usable token.

Guessing is stopped at its source first. Failed sign-ins are counted per address and account
(``MAX_FAILURES`` in ``WINDOW``, then that address may not try that account), per address
(``SOURCE_FAILURES``, then it may try none), and per account from every address together
(``ACCOUNT_FAILURES``, then the account is locked for ``LOCK_FOR``): one person guessing from one
place is stopped long before the account is, so nobody can lock a volunteer out of the counter
by guessing at their name. A try takes its place in every count before the password is checked
(guesses sent at once are counted one by one) and a right password gives its place back, so
only failures count. A locked account, a deactivated one, an unknown name and a wrong password
answer alike.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import time
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ledger import Connection
from mall.access import (
    Admin,
    BuildingHead,
    Principal,
    ResidentPrincipal,
    Staff,
    Volunteer,
    audit,
    throttle,
)
from mall.db import Database
from mall.errors import N_, Forbidden, Invalid, Unauthenticated

MAX_FAILURES = 5
SOURCE_FAILURES = 10
ACCOUNT_FAILURES = 50
WINDOW = timedelta(minutes=15)
LOCK_FOR = timedelta(minutes=15)
STAFF_SESSION = timedelta(hours=12)
API_TOKEN = timedelta(days=30)
RESIDENT_SESSION = timedelta(days=400)
#: How long this process trusts a session it looked up before asking the database again.
#: Signing out or revoking a session forgets every trusted one in this process; whatever the
#: process, a session ended in the database is refused within this time.
SESSION_TRUST_S = 1.0
MIN_PASSWORD = 10

#: argon2id with the library's recommended parameters (RFC 9106: t=3, 64 MiB, p=4).
#: ``MALL_PASSWORD_HASH=fast`` keeps argon2id with the smallest parameters. It exists for the test
#: suite only, where hashing took over half of the run; never set it for a real service (the
#: server logs a warning when it is set). Hashes carry their parameters, so either verifies both.
FAST_HASH = os.environ.get("MALL_PASSWORD_HASH", "") == "fast"
_hasher = (
    PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1) if FAST_HASH else PasswordHasher()
)
# A hash to verify against when the user does not exist, so both paths take the same time.
_DUMMY_HASH = _hasher.hash("not a password of anybody's")


def now() -> datetime:
    return datetime.now(UTC)


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def password_matches(stored: str, password: str) -> bool:
    def check() -> bool:
        try:
            return _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise Invalid(N_("A password needs at least {n} characters."), n=MIN_PASSWORD)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_session(
    conn: Connection,
    kind: str,
    *,
    user_id: int | None = None,
    resident_id: int | None = None,
    ttl: timedelta,
    ip: str = "",
) -> str:
    """A new session; returns the token (shown once, never stored). ``ip`` is where it was
    opened from (a user's page lists their last sign-ins)."""
    token = secrets.token_urlsafe(32)
    await conn.execute(
        "INSERT INTO mall_session (token_hash, kind, user_id, resident, created_at, expires_at, "
        "ip) VALUES (?, ?, ?, ?, ?, ?, ?)",
        token_hash(token),
        kind,
        user_id,
        resident_id,
        now(),
        now() + ttl,
        ip[:64],
    )
    return token


async def sign_in(db: Database, username: str, password: str, *, ip: str, kind: str) -> str:
    """Check a password and open a session (``kind`` "web" or "api"); returns its token.

    ``RateLimited`` once this address failed too often, for this account or for any; otherwise a
    locked or deactivated account, an unknown name and a wrong password are all
    ``Unauthenticated`` with the same words, after the same work (a password hash is checked in every case)."""
    at = now()
    name = username.strip()
    # the name is hashed into its key: a key has a length, and a name is whatever was typed
    named = hashlib.sha256(name.lower().encode()).hexdigest()[:32]
    source, pair = f"signin:ip:{ip}", f"signin:ip-user:{ip}:{named}"
    async with db.transaction() as conn:
        await throttle.hit(conn, source, limit=SOURCE_FAILURES, window=WINDOW)
        await throttle.hit(conn, pair, limit=MAX_FAILURES, window=WINDOW)
        user = await conn.fetchrow(
            "UPDATE mall_user SET failed_logins = failed_logins + 1 WHERE username = ? "
            "AND failed_logins < ? AND (locked_until IS NULL OR locked_until <= ?) "
            "RETURNING id, password_hash, failed_logins, active",
            name,
            ACCOUNT_FAILURES,
            at,
        )
    ok = await password_matches(user["password_hash"] if user else _DUMMY_HASH, password)
    async with db.transaction() as conn:
        if user is not None and ok and user["active"]:  # not switched off while it was checked
            ok = bool(await conn.fetchval("SELECT active FROM mall_user WHERE id = ?", user["id"]))
        if user is None or not ok or not user["active"]:
            if user is not None and user["failed_logins"] >= ACCOUNT_FAILURES:
                await conn.execute(
                    "UPDATE mall_user SET failed_logins = 0, locked_until = ? WHERE id = ?",
                    now() + LOCK_FOR,
                    user["id"],
                )
            failed = True
        else:
            failed = False
            await conn.execute(
                "UPDATE mall_user SET failed_logins = 0, locked_until = NULL WHERE id = ?",
                user["id"],
            )
            await throttle.clear(conn, pair)
            await throttle.give_back(conn, source)
            token = await create_session(
                conn,
                kind,
                user_id=user["id"],
                ttl=API_TOKEN if kind == "api" else STAFF_SESSION,
                ip=ip,
            )
    if failed:
        raise Unauthenticated(N_("Wrong username or password."))
    return token


_trusted: dict[str, tuple[float, Principal]] = {}  # token hash → (trusted until, principal)
_TRUSTED_MAX = 10_000
_forgets = 0  # how often forget_sessions ran: a lookup that overlapped one is not remembered


def forget_sessions() -> None:
    """Look every session up in the database again: call once the transaction that signed a
    session out or revoked it is committed (before, a lookup could still find it valid)."""
    global _forgets
    _forgets += 1
    _trusted.clear()


async def principal_for(db: Database, token: str | None) -> Principal | None:
    """The principal behind a session token, if the session is valid.

    A valid session is remembered for ``SESSION_TRUST_S``: a counter's volunteer and a resident
    showing a pay code ask several times a second, and the lookup (four tables, read again after
    every commit) was the largest piece of the request path outside the checkout itself."""
    if not token or len(token) > 100:
        return None
    key = token_hash(token)
    clock = time.monotonic()
    hit = _trusted.get(key)
    if hit is not None and hit[0] > clock:
        return hit[1]
    forgets = _forgets
    found = await _look_up(db, key)
    if found is None:
        return None
    principal, expires_at = found
    if forgets == _forgets:  # no session ended while this one was read
        if len(_trusted) >= _TRUSTED_MAX:
            _trusted.clear()
        left = (expires_at - now()).total_seconds()
        _trusted[key] = (clock + min(SESSION_TRUST_S, left), principal)
    return principal


async def _look_up(db: Database, key: str) -> tuple[Principal, datetime] | None:
    async with db.connection() as conn:
        row = await conn.fetchrow(
            "SELECT s.id, s.kind, s.expires_at, s.revoked_at, u.id AS user_id, u.username, u.role, "
            "u.active, u.resident AS own_record, r.id AS resident_id, r.name, "
            "c.id AS community_id, c.slug "
            "FROM mall_session s LEFT JOIN mall_user u ON u.id = s.user_id "
            "LEFT JOIN mall_resident r ON r.id = s.resident "
            "LEFT JOIN mall_community c ON c.id = COALESCE(u.community, r.community) "
            "WHERE s.token_hash = ?",
            key,
        )
        if row is None or row["revoked_at"] is not None or row["expires_at"] <= now():
            return None
        if row["user_id"] is not None and not row["active"]:
            return None
        volunteer = row["role"] == "volunteer"
        chosen = await volunteer_outlets(conn, row["user_id"]) if volunteer else []
        head = row["role"] == "building_head"
        served = await head_buildings(conn, row["user_id"]) if head else []
    user: Principal
    if row["user_id"] is None:
        user = ResidentPrincipal(
            resident_id=row["resident_id"],
            community_id=row["community_id"],
            community_slug=row["slug"],
            name=row["name"],
            session_id=row["id"],
        )
    elif row["role"] == "admin":
        user = Admin(user_id=row["user_id"], username=row["username"], session_id=row["id"])
    elif volunteer:
        user = Volunteer(
            user_id=row["user_id"],
            username=row["username"],
            community_id=row["community_id"],
            community_slug=row["slug"],
            session_id=row["id"],
            outlets=frozenset(chosen) or None,
        )
    elif head:
        user = BuildingHead(
            user_id=row["user_id"],
            username=row["username"],
            community_id=row["community_id"],
            community_slug=row["slug"],
            session_id=row["id"],
            resident_id=row["own_record"],
            buildings=frozenset(served),
        )
    else:
        user = Staff(
            user_id=row["user_id"],
            username=row["username"],
            community_id=row["community_id"],
            community_slug=row["slug"],
            session_id=row["id"],
        )
    return user, row["expires_at"]


async def volunteer_outlets(conn: Connection, user_id: int) -> list[int]:
    """The outlets a volunteer was given, in id order; none: every outlet of the community."""
    rows = await conn.fetch(
        "SELECT outlet FROM mall_volunteer_outlet WHERE user_id = ? ORDER BY outlet", user_id
    )
    return [int(r["outlet"]) for r in rows]


async def head_buildings(conn: Connection, user_id: int) -> list[str]:
    """The buildings a building head serves, in order."""
    rows = await conn.fetch(
        "SELECT building FROM mall_user_building WHERE user_id = ? ORDER BY building", user_id
    )
    return [r["building"] for r in rows]


async def sign_out(db: Database, principal: Principal) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE mall_session SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            now(),
            principal.session_id,
        )
        await revoke_offline_codes(conn, session_id=principal.session_id)
    forget_sessions()


async def revoke_resident_sessions(conn: Connection, resident_id: int) -> None:
    """Sign the resident's phones out, in the caller's transaction; the caller calls
    ``forget_sessions()`` once that is committed."""
    await conn.execute(
        "UPDATE mall_session SET revoked_at = ? WHERE resident = ? AND revoked_at IS NULL",
        now(),
        resident_id,
    )
    await revoke_offline_codes(conn, resident_id=resident_id)


async def revoke_offline_codes(
    conn: Connection, *, session_id: int | None = None, resident_id: int | None = None
) -> None:
    """End the unused offline pay codes (``mall.people.offline_codes``) of one phone session, or
    of every phone of a resident, in the caller's transaction: they die with the session."""
    await conn.execute(
        "UPDATE mall_code SET revoked_at = ? WHERE kind = 'offline' AND used_at IS NULL "
        "AND revoked_at IS NULL AND (session_id = ? OR resident = ?)",
        now(),
        session_id,
        resident_id,
    )


async def revoke_user_sessions(conn: Connection, user_id: int) -> None:
    """Sign the user out everywhere (browsers and API tokens), in the caller's transaction; the
    caller calls ``forget_sessions()`` once that is committed."""
    await conn.execute(
        "UPDATE mall_session SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
        now(),
        user_id,
    )


async def change_password(
    db: Database, principal: Principal, old: str, new: str, *, ip: str = ""
) -> None:
    """Change one's own password; every other session of the user is signed out."""
    if principal.kind != "user" or principal.user_id is None:
        raise Forbidden()
    check_new_password(new)
    async with db.transaction() as conn:
        await throttle.hit(
            conn, f"password:user:{principal.user_id}", limit=5, window=timedelta(minutes=10)
        )
        stored = await conn.fetchval(
            "SELECT password_hash FROM mall_user WHERE id = ?", principal.user_id
        )
    if not await password_matches(stored, old):
        raise Invalid(N_("The current password is wrong."))
    new_hash = await hash_password(new)
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE mall_user SET password_hash = ? WHERE id = ?", new_hash, principal.user_id
        )
        await conn.execute(
            "UPDATE mall_session SET revoked_at = ? WHERE user_id = ? AND id <> ? AND revoked_at IS NULL",
            now(),
            principal.user_id,
            principal.session_id,
        )
        await audit.record(
            conn,
            principal,
            "user.password",
            community_id=principal.community_id,
            target=principal.username or "",
            ip=ip,
        )
    forget_sessions()
