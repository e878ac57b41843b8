"""Who is asking and what they may touch: the principal, the scope checks every service makes
before it reads, the audit log of privileged acts, and the throttle on anything guessable.

Every capability package builds on this one; it imports none of them.
"""

from mall.access.principal import (
    ROLES,
    Admin,
    BuildingHead,
    Principal,
    ResidentPrincipal,
    Staff,
    User,
    Volunteer,
    acting_user_id,
)
from mall.access.scope import (
    MAX_ID,
    SLUG,
    STAFF_ROLES,
    community,
    cursor,
    not_self_dealing,
    require,
    resident,
    resident_self,
    staff,
    user,
)

__all__ = [
    "MAX_ID",
    "ROLES",
    "SLUG",
    "STAFF_ROLES",
    "Admin",
    "BuildingHead",
    "Principal",
    "ResidentPrincipal",
    "Staff",
    "User",
    "Volunteer",
    "acting_user_id",
    "community",
    "cursor",
    "not_self_dealing",
    "require",
    "resident",
    "resident_self",
    "staff",
    "user",
]
