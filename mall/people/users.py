"""The users who run the service: staff, volunteers and street administrators (工作人员、志愿者), and the outlets a volunteer serves at."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal, cast

import msgspec

from catalog.tables import Outlet
from ledger import Connection
from mall import access
from mall import query as q
from mall import tables as t
from mall.access import ROLES, Admin, Principal, audit
from mall.db import Database
from mall.errors import N_, AlreadyExists, Forbidden, Invalid, NotFound
from mall.people.accounts import check_own_record
from mall.people.auth import check_new_password, forget_sessions, hash_password
from mall.people.residents import clean_place

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")

Role = Literal["admin", "staff", "volunteer", "building_head"]
#: the most buildings one building head serves
MAX_BUILDINGS = 20


class User(msgspec.Struct, frozen=True, kw_only=True):
    """A user account as created or changed; ``outlets`` are a volunteer's (none: every one)."""

    id: int
    username: str
    role: Role
    outlets: list[int]
    buildings: list[str] = []
    """A building head's buildings (楼栋)."""


class Volunteer(msgspec.Struct, frozen=True, kw_only=True):
    """A volunteer of a community, with the outlets chosen for them (none: every outlet)."""

    id: int
    username: str
    active: bool
    outlets: list[int]


async def create_user(
    db: Database,
    p: Principal,
    username: str,
    password: str,
    role: str,
    community: str | None,
    *,
    ip: str = "",
    outlets: Sequence[int] = (),
    resident_id: int | None = None,
    buildings: Sequence[str] = (),
) -> User:
    """Admins create anyone; staff create volunteers and building heads for their own community.
    A volunteer may be given ``outlets`` to serve at (see ``set_volunteer_outlets``), and anyone
    their own resident record ``resident_id`` (``accounts.check_own_record``): they never act on
    it. A building head (楼栋长) is a resident of the community (``resident_id``, required) who
    serves ``buildings`` (at least one)."""
    access.require(p, ["admin", "staff"])
    if role not in ROLES:
        raise Invalid(N_("The role must be admin, staff, volunteer or building_head."))
    if outlets and role != "volunteer":
        raise Invalid(ONLY_VOLUNTEERS)
    served = _clean_buildings(buildings) if role == "building_head" else []
    if buildings and role != "building_head":
        raise Invalid(N_("Only building heads serve buildings."))
    if role == "building_head" and resident_id is None:
        raise Invalid(N_("A building head is a resident: choose their own resident record."))
    if p.role == "staff" and (
        role not in ("volunteer", "building_head")
        or (community or p.community_slug) != p.community_slug
    ):
        raise Forbidden(
            N_("Staff can only create volunteers and building heads for their own community.")
        )
    if p.role == "staff":
        community = p.community_slug
    if not USERNAME.match(username or ""):
        raise Invalid(N_("A username uses 3 to 64 letters, digits, dots, dashes or underscores."))
    check_new_password(password)
    if role != "admin" and not community:
        raise Invalid(N_("Staff and volunteers belong to a community."))
    password_hash = await hash_password(password)
    async with db.transaction() as conn:
        community_id = None
        if community and role != "admin":
            row = await q.fetchval(
                conn, t.Community.select(t.Community.id).where(t.Community.slug == community)
            )
            if row is None:
                raise NotFound(N_("No such community."))
            community_id = row
        if resident_id is not None:
            await check_own_record(conn, p, community_id, resident_id)
        if await q.fetchval(conn, t.User.exists().where(t.User.username == username)):
            raise AlreadyExists(N_("This username is taken."))
        user = t.User(
            username=username,
            password_hash=password_hash,
            role=role,
            community=community_id,
            failed_logins=0,
            active=True,
            created_at=datetime.now(UTC),
            resident=resident_id,
        )
        user_id = await q.fetchval(conn, t.User.insert(user).returning(t.User.id))
        chosen = await _choose_outlets(conn, user_id, community_id, outlets)
        if served:
            b = t.UserBuilding
            await q.execute(conn, b.insert(*(b(user_id=user_id, building=x) for x in served)))
        await audit.record(
            conn,
            p,
            "user.create",
            community_id=community_id,
            target=username,
            ip=ip,
            role=role,
            **({"outlets": chosen} if chosen else {}),
            **({"buildings": served} if served else {}),
            **({"resident": resident_id} if resident_id is not None else {}),
        )
    return User(
        id=int(user_id),
        username=username,
        role=cast(Role, role),
        outlets=chosen,
        buildings=served,
    )


def _clean_buildings(buildings: Sequence[str]) -> list[str]:
    """A building head's buildings as typed ("3", "12栋"): at least one, each short text."""
    served = sorted({clean_place(b) or "" for b in buildings} - {""})
    if not served or len(served) > MAX_BUILDINGS:
        raise Invalid(
            N_("Give a building head 1 to {n} buildings, as residents' records spell them."),
            n=MAX_BUILDINGS,
        )
    return served


ONLY_VOLUNTEERS = N_("Only volunteers are given outlets; staff serve at every outlet.")


async def set_volunteer_outlets(
    db: Database, p: Principal, user_id: int, outlets: Sequence[int], *, ip: str = ""
) -> User:
    """Choose the outlets a volunteer serves at, in place of those chosen before (staff of the
    volunteer's community, or an administrator). None chosen: every outlet of the community.
    Takes effect at once in this process, within a second in the others (the remembered
    sessions)."""
    access.require(p, access.STAFF_ROLES)
    if not 0 < user_id <= access.MAX_ID:
        raise NotFound()
    async with db.transaction() as conn:
        u = t.User
        row = await q.fetchrow(
            conn, u.select(u.id, u.username, u.role, u.community).where(u.id == user_id)
        )
        if row is None or (not p.is_admin and row["community"] != p.community_id):
            raise NotFound()
        if row["role"] != "volunteer":
            raise Invalid(ONLY_VOLUNTEERS)
        v = t.VolunteerOutlet
        await q.execute(conn, v.delete().where(v.user_id == user_id))
        chosen = await _choose_outlets(conn, user_id, row["community"], outlets)
        await audit.record(
            conn,
            p,
            "user.outlets",
            community_id=row["community"],
            target=row["username"],
            ip=ip,
            outlets=chosen,
        )
    forget_sessions()
    return User(id=user_id, username=row["username"], role="volunteer", outlets=chosen)


async def list_volunteers(db: Database, p: Principal, slug: str) -> list[Volunteer]:
    """The community's volunteers by name, each with the outlets chosen for them (staff of the
    community, or an administrator)."""
    async with db.connection() as conn:
        community = await access.community(conn, p, slug, access.STAFF_ROLES)
        u, v = t.User, t.VolunteerOutlet
        rows = await q.fetch(
            conn,
            u.select(u.id, u.username, u.active)
            .where((u.community == community["id"]) & (u.role == "volunteer"))
            .order_by(u.username),
        )
        chosen = await q.fetch(
            conn,
            v.select(v.user_id, v.outlet)
            .where(v.user_id.community == community["id"])
            .order_by(v.outlet),
        )
    outlets: dict[int, list[int]] = {}
    for row in chosen:
        outlets.setdefault(int(row["user_id"]), []).append(int(row["outlet"]))
    return [
        Volunteer(
            id=int(r["id"]),
            username=r["username"],
            active=bool(r["active"]),
            outlets=outlets.get(int(r["id"]), []),
        )
        for r in rows
    ]


async def _choose_outlets(
    conn: Connection, user_id: int, community_id: int | None, outlets: Sequence[int]
) -> list[int]:
    """Record the volunteer's outlets, which must be their own community's; returns them."""
    chosen = sorted(set(outlets))
    if not chosen:
        return []
    if all(0 < o <= access.MAX_ID for o in chosen):
        found = await q.fetch(
            conn,
            Outlet.select(Outlet.id).where(
                (Outlet.community_id == community_id) & Outlet.id.is_in(chosen)
            ),
        )
    else:
        found = []
    if len(found) != len(chosen):
        raise Invalid(N_("Choose outlets of the volunteer's own community."))
    v = t.VolunteerOutlet
    await q.execute(conn, v.insert(*(v(user_id=user_id, outlet=o) for o in chosen)))
    return chosen


async def create_user_unchecked(
    db: Database, username: str, password: str, role: str, community: str | None
) -> User:
    """For ``mall user create`` on the server itself: whoever runs it is the administrator."""
    system = Admin(user_id=None, username="(command line)")
    return await create_user(db, system, username, password, role, community)
