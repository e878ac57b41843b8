"""The community's tables: organisation, people, sign-in, codes, audit log and throttles."""

from piccolo.columns import (
    Boolean,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from ledger.tables import Book


class Street(Table, tablename="mall_street"):
    """街道: the administrative level above communities."""

    name = Varchar(length=200, null=False)


class Community(Table, tablename="mall_community"):
    """社区: owns one ledger book, its grids, residents, staff and outlets."""

    street = ForeignKey(Street, on_delete=OnDelete.restrict, null=False, index=True)
    slug = Varchar(length=64, unique=True, null=False)
    name = Varchar(length=200, null=False)
    book = ForeignKey(Book, on_delete=OnDelete.restrict, null=False, unique=True)
    created_at = Timestamptz(null=False)


class Grid(Table, tablename="mall_grid"):
    """网格: a part of a community (about 400 households); ``code`` unique within it."""

    community = ForeignKey(Community, on_delete=OnDelete.restrict, null=False, index=True)
    code = Varchar(length=40, null=False)
    name = Varchar(length=200, null=False)


class Household(Table, tablename="mall_household"):
    community = ForeignKey(Community, on_delete=OnDelete.restrict, null=False, index=True)
    grid = ForeignKey(Grid, on_delete=OnDelete.restrict, null=True, index=True)
    address = Varchar(length=200, null=False)


class Resident(Table, tablename="mall_resident"):
    community = ForeignKey(Community, on_delete=OnDelete.restrict, null=False, index=True)
    grid = ForeignKey(Grid, on_delete=OnDelete.restrict, null=True, index=True)
    household = ForeignKey(Household, on_delete=OnDelete.restrict, null=True, index=True)
    name = Varchar(length=100, null=False)
    phone = Varchar(length=20, null=True, default=None, index=True)
    created_at = Timestamptz(null=False)


class User(Table, tablename="mall_user"):
    """A staff member, volunteer or street administrator who signs in with a password."""

    username = Varchar(length=64, unique=True, null=False)
    password_hash = Varchar(length=200, null=False)
    role = Varchar(length=20, null=False)
    community = ForeignKey(Community, on_delete=OnDelete.restrict, null=True, index=True)
    failed_logins = Integer(default=0, null=False)
    locked_until = Timestamptz(null=True, default=None)
    active = Boolean(default=True, null=False)
    created_at = Timestamptz(null=False)


class Session(Table, tablename="mall_session"):
    """A signed-in browser, API token or bound resident phone. Only a hash of the token is kept."""

    token_hash = Varchar(length=64, unique=True, null=False)
    kind = Varchar(length=20, null=False)
    user_id = ForeignKey(User, on_delete=OnDelete.restrict, null=True, index=True)
    resident = ForeignKey(Resident, on_delete=OnDelete.restrict, null=True, index=True)
    created_at = Timestamptz(null=False)
    expires_at = Timestamptz(null=False)
    revoked_at = Timestamptz(null=True, default=None)


class Code(Table, tablename="mall_code"):
    """A pay code, activation code or printed card issued to a resident (signed; see codes.py)."""

    kind = Varchar(length=20, null=False)
    ident = Varchar(length=40, unique=True, null=False)
    resident = ForeignKey(Resident, on_delete=OnDelete.restrict, null=False, index=True)
    created_at = Timestamptz(null=False)
    expires_at = Timestamptz(null=True, default=None)
    used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    pin_hash = Varchar(length=200, null=True, default=None)
    failed_pins = Integer(default=0, null=False)
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)


class AuditEntry(Table, tablename="mall_audit"):
    """Who did what, when, from where: every privileged action."""

    at = Timestamptz(null=False)
    community = ForeignKey(Community, on_delete=OnDelete.restrict, null=True, index=True)
    user_id = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    action = Varchar(length=60, null=False)
    target = Varchar(length=100, default="", null=False)
    detail = Text(default="", null=False)
    ip = Varchar(length=64, default="", null=False)


class Throttle(Table, tablename="mall_throttle"):
    """A fixed-window counter for rate limits, shared by every app process."""

    key = Varchar(length=200, unique=True, null=False)
    count = Integer(default=0, null=False)
    reset_at = Timestamptz(null=False)
