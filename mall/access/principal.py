"""Who is asking (the principal), typed by role, and the roles a user account can have. Plain
values: they read nothing.

One frozen class per kind of principal, each with exactly the fields its role has, so that a
path narrowed to ``Staff`` has a user id and a community, and one narrowed to
``ResidentPrincipal`` has a resident id. ``role``, ``kind`` and ``is_admin`` are literal class
attributes: the role string stays available to the API and the audit log, and comparing them
narrows the union as ``isinstance`` does. The guards in ``mall.access.scope`` narrow it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, TypeAlias

#: The roles of user accounts; residents sign in as themselves (role "resident").
ROLES = ("admin", "staff", "volunteer", "building_head")


@dataclass(frozen=True)
class Admin:
    """A street administrator (街道): every community, none of their own."""

    #: None for the server itself acting as administrator (``mall user create``, the demo loader)
    user_id: int | None
    username: str
    session_id: int = 0

    kind: ClassVar[Literal["user"]] = "user"
    role: ClassVar[Literal["admin"]] = "admin"
    is_admin: ClassVar[Literal[True]] = True
    #: an administrator belongs to no community
    community_id: ClassVar[None] = None
    community_slug: ClassVar[None] = None

    @property
    def name(self) -> str:
        return self.username

    def serves_at(self, outlet_id: int) -> bool:
        return True

    def label(self) -> str:
        return self.username


@dataclass(frozen=True)
class Staff:
    """A community's staff member (社区工作人员)."""

    user_id: int
    username: str
    community_id: int
    community_slug: str
    session_id: int = 0

    kind: ClassVar[Literal["user"]] = "user"
    role: ClassVar[Literal["staff"]] = "staff"
    is_admin: ClassVar[Literal[False]] = False

    @property
    def name(self) -> str:
        return self.username

    def serves_at(self, outlet_id: int) -> bool:
        return True

    def label(self) -> str:
        return self.username


@dataclass(frozen=True)
class Volunteer:
    """A volunteer at the counters of one community, of some of its outlets or of all."""

    user_id: int
    username: str
    community_id: int
    community_slug: str
    session_id: int = 0
    #: the outlets the volunteer was given; None: every outlet of the community
    outlets: frozenset[int] | None = None

    kind: ClassVar[Literal["user"]] = "user"
    role: ClassVar[Literal["volunteer"]] = "volunteer"
    is_admin: ClassVar[Literal[False]] = False

    @property
    def name(self) -> str:
        return self.username

    def serves_at(self, outlet_id: int) -> bool:
        """Whether the counter of this outlet (of the volunteer's own community) is theirs."""
        return self.outlets is None or outlet_id in self.outlets

    def label(self) -> str:
        return self.username


@dataclass(frozen=True)
class BuildingHead:
    """A building or unit head (楼栋长/单元长): a resident who serves some buildings of their
    community, sees those buildings' residents and proposes awards for them, which always wait
    for staff; never approves, settles, reverses or refunds."""

    user_id: int
    username: str
    community_id: int
    community_slug: str
    #: their own resident record: they never propose points for themselves
    resident_id: int | None
    #: the buildings they serve, as residents' ``building`` spells them
    buildings: frozenset[str]
    session_id: int = 0

    kind: ClassVar[Literal["user"]] = "user"
    role: ClassVar[Literal["building_head"]] = "building_head"
    is_admin: ClassVar[Literal[False]] = False

    @property
    def name(self) -> str:
        return self.username

    def serves_at(self, outlet_id: int) -> bool:
        return False

    def label(self) -> str:
        return self.username


@dataclass(frozen=True)
class ResidentPrincipal:
    """A resident signed in as themselves (named so beside the ``Resident`` record)."""

    resident_id: int
    community_id: int
    community_slug: str
    name: str = ""
    session_id: int = 0

    kind: ClassVar[Literal["resident"]] = "resident"
    role: ClassVar[Literal["resident"]] = "resident"
    is_admin: ClassVar[Literal[False]] = False

    def serves_at(self, outlet_id: int) -> bool:
        return True

    def label(self) -> str:
        return f"resident:{self.resident_id}"


User: TypeAlias = Admin | Staff | Volunteer | BuildingHead
"""A signed-in user account: it has a user id (an administrator's may be the server's None)."""

Principal: TypeAlias = Admin | Staff | Volunteer | BuildingHead | ResidentPrincipal
"""Whoever is asking. ``isinstance(x, Principal)`` works too."""


def acting_user_id(p: Principal | None) -> int | None:
    """The user account acting, for the rows that record one; None for a resident or nobody."""
    return p.user_id if p is not None and p.kind == "user" else None
