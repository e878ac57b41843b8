"""Who is asking (the principal) and the roles a user account can have. A plain value: it reads nothing."""

from __future__ import annotations

from dataclasses import dataclass

from mall.errors import Forbidden

#: The roles of user accounts; residents sign in as themselves (role "resident").
ROLES = ("admin", "staff", "volunteer")


@dataclass(frozen=True)
class Principal:
    """A signed-in staff member, volunteer, administrator or resident."""

    kind: str  # "user" or "resident"
    session_id: int
    community_id: int | None
    community_slug: str | None
    user_id: int | None = None
    username: str | None = None
    role: str | None = None  # admin, staff, volunteer; "resident" for residents
    resident_id: int | None = None
    name: str = ""
    #: a volunteer's outlets; None: every outlet of the community (no outlet chosen)
    outlets: frozenset[int] | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def serves_at(self, outlet_id: int) -> bool:
        """Whether the counter of this outlet (of the principal's own community) is theirs."""
        return self.outlets is None or outlet_id in self.outlets

    @property
    def own_resident(self) -> int:
        """The resident a resident's session stands for (``Forbidden`` for anyone else's)."""
        if self.resident_id is None:
            raise Forbidden()
        return self.resident_id

    def label(self) -> str:
        return self.username or f"resident:{self.resident_id}"
