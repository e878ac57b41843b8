"""The community's tables: organisation, people, sign-in, codes, audit log, throttles,
earning (rules, awards, activities, submissions) and redemption (orders, reservations)."""

from piccolo.columns import (
    BigSerial,
    Boolean,
    Bytea,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from catalog.tables import Item, Outlet
from ledger.tables import Book


class Street(Table, tablename="mall_street"):
    """街道: the administrative level above communities."""

    id = Serial(primary_key=True)
    name = Varchar(length=200, null=False)


class Community(Table, tablename="mall_community"):
    """社区: owns one ledger book, its grids, residents, staff and outlets."""

    id = Serial(primary_key=True)
    street = ForeignKey(Street, on_delete=OnDelete.restrict, null=False, index=True)
    slug = Varchar(length=64, unique=True, null=False)
    name = Varchar(length=200, null=False)
    book = ForeignKey(Book, on_delete=OnDelete.restrict, null=False, unique=True)
    created_at = Timestamptz(null=False)
    #: the policy (mall.org.policy): points one staff member may issue to one resident a day
    #: without a second pair of eyes, the most an activity may pay a head, objection days
    approval_threshold = Integer(default=100, null=False)
    activity_max_points = Integer(default=200, null=False)
    objection_days = Integer(default=7, null=False)
    #: when points expire (mall.org.policy): never, year_end or months (``expiry_months``)
    expiry = Varchar(length=10, default="never", null=False)
    expiry_months = Integer(default=12, null=False)
    #: when the expiry rule last changed; points earned before count as earned then
    expiry_since = Timestamptz(null=True, default=None)
    #: star volunteer levels (星级志愿者, mall.org.policy): the hours of service for 一星 to 五星
    star1_hours = Integer(default=100, null=False)
    star2_hours = Integer(default=300, null=False)
    star3_hours = Integer(default=600, null=False)
    star4_hours = Integer(default=1000, null=False)
    star5_hours = Integer(default=1500, null=False)


class Grid(Table, tablename="mall_grid"):
    """网格: a part of a community (about 400 households); ``code`` unique within it."""

    id = Serial(primary_key=True)
    community = ForeignKey(Community, on_delete=OnDelete.restrict, null=False, index=True)
    code = Varchar(length=40, null=False)
    name = Varchar(length=200, null=False)


class Household(Table, tablename="mall_household"):
    id = Serial(primary_key=True)
    community = ForeignKey(Community, on_delete=OnDelete.restrict, null=False, index=True)
    grid = ForeignKey(Grid, on_delete=OnDelete.restrict, null=True, index=True)
    address = Varchar(length=200, null=False)


class Resident(Table, tablename="mall_resident"):
    id = Serial(primary_key=True)
    community = ForeignKey(Community, on_delete=OnDelete.restrict, null=False, index=True)
    grid = ForeignKey(Grid, on_delete=OnDelete.restrict, null=True, index=True)
    household = ForeignKey(Household, on_delete=OnDelete.restrict, null=True, index=True)
    name = Varchar(length=100, null=False)
    phone = Varchar(length=20, null=True, default=None, index=True)
    created_at = Timestamptz(null=False)
    building = Varchar(length=20, null=True, default=None)
    unit = Varchar(length=20, null=True, default=None)
    #: a closed record (moved away, deceased, or a duplicate merged into ``merged_into``) keeps
    #: its history for staff; nothing else may be done for it (``account_closed``)
    closed_at = Timestamptz(null=True, default=None)
    closed_reason = Varchar(length=200, null=True, default=None)
    merged_into: ForeignKey["Resident"] = ForeignKey(
        "self", on_delete=OnDelete.restrict, null=True, default=None
    )
    #: shown (masked) on the community's public ranking (积分榜); off until the resident opts in
    ranking_opt_in = Boolean(default=False, null=False)


class User(Table, tablename="mall_user"):
    """A staff member, volunteer or street administrator who signs in with a password."""

    id = Serial(primary_key=True)
    username = Varchar(length=64, unique=True, null=False)
    password_hash = Varchar(length=200, null=False)
    role = Varchar(length=20, null=False)
    community = ForeignKey(Community, on_delete=OnDelete.restrict, null=True, index=True)
    failed_logins = Integer(default=0, null=False)
    locked_until = Timestamptz(null=True, default=None)
    active = Boolean(default=True, null=False)
    created_at = Timestamptz(null=False)
    #: the staff member's own resident record, when they live in the community: nobody awards
    #: points to themselves
    resident = ForeignKey(Resident, on_delete=OnDelete.restrict, null=True, default=None)


class UserBuilding(Table, tablename="mall_user_building"):
    """A building (楼栋) a building head serves, as residents' ``building`` spells it; unique per
    (user, building) (migration)."""

    id = Serial(primary_key=True)
    user_id = ForeignKey(User, on_delete=OnDelete.restrict, null=False, index=True)
    building = Varchar(length=20, null=False)


class Proxy(Table, tablename="mall_proxy"):
    """A resident's grant to ``proxy``, a family member or neighbour of the same community, to
    collect and pay for them at the counter (代领), until ``ended_at``; one live grant per pair
    (migration)."""

    id = Serial(primary_key=True)
    community = ForeignKey(Community, on_delete=OnDelete.restrict, null=False)
    resident = ForeignKey(Resident, on_delete=OnDelete.restrict, null=False)
    proxy = ForeignKey(Resident, on_delete=OnDelete.restrict, null=False, index=True)
    granted_at = Timestamptz(null=False)
    #: the staff member who recorded it; None when the resident granted it themselves
    granted_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    ended_at = Timestamptz(null=True, default=None)
    ended_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)


class VolunteerOutlet(Table, tablename="mall_volunteer_outlet"):
    """An outlet a volunteer serves at; unique per (user, outlet) (migration). A volunteer with
    none serves at every outlet of their community."""

    id = Serial(primary_key=True)
    user_id = ForeignKey(User, on_delete=OnDelete.restrict, null=False, index=False)
    outlet = ForeignKey(Outlet, on_delete=OnDelete.restrict, null=False, index=True)


class Session(Table, tablename="mall_session"):
    """A signed-in browser, API token or bound resident phone. Only a hash of the token is kept."""

    id = Serial(primary_key=True)
    token_hash = Varchar(length=64, unique=True, null=False)
    kind = Varchar(length=20, null=False)
    user_id = ForeignKey(User, on_delete=OnDelete.restrict, null=True, index=True)
    resident = ForeignKey(Resident, on_delete=OnDelete.restrict, null=True, index=True)
    created_at = Timestamptz(null=False)
    expires_at = Timestamptz(null=False)
    revoked_at = Timestamptz(null=True, default=None)
    #: the address the session was opened from (a user's last sign-ins)
    ip = Varchar(length=64, default="", null=False)


class Code(Table, tablename="mall_code"):
    """A pay code, activation code or printed card issued to a resident (signed; see codes.py)."""

    id = Serial(primary_key=True)
    kind = Varchar(length=20, null=False)
    ident = Varchar(length=40, unique=True, null=False)
    # no index of its own: (resident, kind) serves every lookup by resident
    resident = ForeignKey(Resident, on_delete=OnDelete.restrict, null=False)
    created_at = Timestamptz(null=False)
    expires_at = Timestamptz(null=True, default=None)
    used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    pin_hash = Varchar(length=200, null=True, default=None)
    failed_pins = Integer(default=0, null=False)
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    #: a printed card issued while its resident held points pays for nothing until a second
    #: staff member approves it (``mall.people.cards``)
    pending = Boolean(default=False, null=False)
    approved_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    approved_at = Timestamptz(null=True, default=None)
    #: an offline pay code (kind ``offline``, ``mall.people.offline_codes``) pays from here to
    #: ``expires_at``, and dies with the phone session it was issued to
    valid_from = Timestamptz(null=True, default=None)
    session_id = Integer(null=True, default=None)


class AuditEntry(Table, tablename="mall_audit"):
    """Who did what, when, from where: every privileged action."""

    id = Serial(primary_key=True)
    at = Timestamptz(null=False)
    community = ForeignKey(Community, on_delete=OnDelete.restrict, null=True, index=True)
    user_id = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    action = Varchar(length=60, null=False)
    target = Varchar(length=100, default="", null=False)
    detail = Text(default="", null=False)
    ip = Varchar(length=64, default="", null=False)


class Throttle(Table, tablename="mall_throttle"):
    """A fixed-window counter for rate limits, shared by every app process."""

    id = Serial(primary_key=True)
    key = Varchar(length=200, unique=True, null=False)
    # the column's name shadows Table.count, a query this table never runs
    count = Integer(default=0, null=False)  # type: ignore[assignment]
    reset_at = Timestamptz(null=False)


# Earning (mall.earning) ---------------------------------------------------------------


class Rule(Table, tablename="mall_rule"):
    """How many points an action earns along one path; ``code`` unique within its community.

    Caps are in points per resident per calendar day / month (``cap_exceeded``). An award whose
    total exceeds ``approval_threshold`` waits for a second staff member.
    """

    id = Serial(primary_key=True)
    community = ForeignKey(Community, on_delete=OnDelete.restrict, null=False, index=True)
    code = Varchar(length=40, null=False)
    name = Varchar(length=200, null=False)
    path = Varchar(length=40, null=False)
    points = Integer(null=False)
    daily_cap = Integer(null=True, default=None)
    monthly_cap = Integer(null=True, default=None)
    approval_threshold = Integer(null=True, default=None)
    active = Boolean(default=True, null=False)
    created_at = Timestamptz(null=False)


class Award(Table, tablename="mall_award"):
    """Points by one rule to one or many residents, with the reason they see in the passbook.

    ``status``: pending_approval → posted (one journal for all lines) or rejected; posted →
    reversed (one reversing journal). ``idempotency_key`` is unique per maker and
    ``reversal_key`` per reverser (migrations), so a retried award or reversal is one.
    """

    id = Serial(primary_key=True)
    community = ForeignKey(Community, on_delete=OnDelete.restrict, null=False, index=True)
    rule = ForeignKey(Rule, on_delete=OnDelete.restrict, null=False, index=True)
    memo = Text(default="", null=False)
    points_each = Integer(null=False)
    total = Integer(null=False)
    status = Varchar(length=20, null=False)
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=False, index=True)
    created_at = Timestamptz(null=False)
    decided_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    #: why it was not approved, as the one who turned it down wrote it; "" otherwise
    rejection_reason = Text(default="", null=False)
    journal_id = Integer(null=True, default=None)
    idempotency_key = Varchar(length=200, null=False)
    request_hash = Varchar(length=64, null=False)
    reversed_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    reversed_at = Timestamptz(null=True, default=None)
    #: why it was reversed, as the reverser wrote it; "" otherwise
    reversal_reason = Text(default="", null=False)
    reversal_journal_id = Integer(null=True, default=None)
    reversal_key = Varchar(length=200, null=True, default=None)
    reversal_hash = Varchar(length=64, null=True, default=None)


class AwardLine(Table, tablename="mall_award_line"):
    """One resident of an award; unique per (award, resident) (migration)."""

    id = Serial(primary_key=True)
    award = ForeignKey(Award, on_delete=OnDelete.restrict, null=False, index=True)
    resident = ForeignKey(Resident, on_delete=OnDelete.restrict, null=False, index=True)
    points = Integer(null=False)
    created_at = Timestamptz(null=False)


class Activity(Table, tablename="mall_activity"):
    """招募令: a recruitment call with a capacity, a time window and a place.

    ``status``: open → settled (one journal awarding every attendee) or cancelled.
    """

    id = Serial(primary_key=True)
    community = ForeignKey(Community, on_delete=OnDelete.restrict, null=False, index=True)
    title = Varchar(length=200, null=False)
    description = Text(default="", null=False)
    path = Varchar(length=40, null=False)
    points = Integer(null=False)
    capacity = Integer(null=False)
    starts_at = Timestamptz(null=False)
    ends_at = Timestamptz(null=False)
    place = Varchar(length=200, default="", null=False)
    status = Varchar(length=20, null=False)
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=False)
    created_at = Timestamptz(null=False)
    settled_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    settled_at = Timestamptz(null=True, default=None)
    journal_id = Integer(null=True, default=None)
    #: the award its settlement made (through the award path: threshold, four eyes)
    award = ForeignKey(Award, on_delete=OnDelete.restrict, null=True, default=None)
    #: volunteer hours each attendee earns, in tenths of an hour (25 = 2.5 hours)
    hours_tenths = Integer(default=0, null=False)
    #: why staff cancelled it, shown to its residents (null unless cancelled)
    cancel_reason = Text(null=True, default=None)


class Signup(Table, tablename="mall_signup"):
    """A resident on an activity's list; unique per (activity, resident) (migration).

    ``status``: confirmed | waiting | cancelled. ``checked_in_at`` is set once.
    """

    id = Serial(primary_key=True)
    activity = ForeignKey(Activity, on_delete=OnDelete.restrict, null=False, index=True)
    resident = ForeignKey(Resident, on_delete=OnDelete.restrict, null=False, index=True)
    status = Varchar(length=20, null=False)
    created_at = Timestamptz(null=False)
    checked_in_at = Timestamptz(null=True, default=None)
    checked_in_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    #: volunteer hours in tenths: a staff correction before settlement, else the activity's
    #: hours written at settlement; ``None`` until either
    hours_tenths = Integer(null=True, default=None)


class SubmissionDeadline(Table, tablename="mall_submission_deadline"):
    """限时办结: days to decide a kind of submission in one community (defaults in code)."""

    id = Serial(primary_key=True)
    community = ForeignKey(Community, on_delete=OnDelete.restrict, null=False, index=True)
    kind = Varchar(length=20, null=False)
    days = Integer(null=False)


class Submission(Table, tablename="mall_submission"):
    """A resident's proposal (建言献策), dispute report (矛盾纠纷上报) or micro-wish (微心愿).

    ``status``: open → accepted → resolved, or rejected with a reason.
    """

    id = Serial(primary_key=True)
    community = ForeignKey(Community, on_delete=OnDelete.restrict, null=False, index=True)
    resident = ForeignKey(Resident, on_delete=OnDelete.restrict, null=False, index=True)
    kind = Varchar(length=20, null=False)
    title = Varchar(length=200, null=False)
    body = Text(default="", null=False)
    status = Varchar(length=20, null=False)
    created_at = Timestamptz(null=False)
    due_at = Timestamptz(null=False)
    decided_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    reason = Text(default="", null=False)
    rule = ForeignKey(Rule, on_delete=OnDelete.restrict, null=True, default=None)
    helper = ForeignKey(Resident, on_delete=OnDelete.restrict, null=True, default=None)
    award = ForeignKey(Award, on_delete=OnDelete.restrict, null=True, default=None)


# Redemption (mall.counter) --------------------------------------------------------------------


class Order(Table, tablename="mall_order"):
    """An order at an outlet: one journal, its stock movements and this record, all or nothing.

    ``status``: completed | refunded. ``idempotency_key`` unique per outlet (migration).
    """

    id = BigSerial(primary_key=True)

    community = ForeignKey(Community, on_delete=OnDelete.restrict, null=False, index=True)
    outlet = ForeignKey(Outlet, on_delete=OnDelete.restrict, null=False, index=True)
    # no indexes of their own: (resident, created_at) and (user_id, created_at) serve them, and
    # every index costs every checkout a page write
    resident = ForeignKey(Resident, on_delete=OnDelete.restrict, null=False)
    user_id = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    total = Integer(null=False)
    status = Varchar(length=20, null=False)
    journal_id = Integer(null=False)
    code_ident = Varchar(length=40, null=True, default=None)
    reservation_id = Integer(null=True, default=None)
    idempotency_key = Varchar(length=200, null=False)
    request_hash = Varchar(length=64, null=False)
    created_at = Timestamptz(null=False)
    refund_journal_id = Integer(null=True, default=None)
    refunded_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    refunded_at = Timestamptz(null=True, default=None)
    #: the resident who paid or collected it for ``resident`` with their own code (代领), under
    #: a grant (``Proxy``); None when the resident came themselves
    proxy = ForeignKey(Resident, on_delete=OnDelete.restrict, null=True, default=None)


class OrderLine(Table, tablename="mall_order_line"):
    """An item of an order, with the name and price it had at the time."""

    id = Serial(primary_key=True)
    order = ForeignKey(Order, on_delete=OnDelete.restrict, null=False, index=True)
    item = ForeignKey(Item, on_delete=OnDelete.restrict, null=False, index=True)
    name = Varchar(length=200, null=False)
    quantity = Integer(null=False)
    price_points = Integer(null=False)


class Refund(Table, tablename="mall_refund"):
    """A refund (退款) of an order, whole or some of its lines, with its reason: the points went
    back to the wallet by ``journal_id`` and the goods back on the shelf (mall.counter.refunds).
    An order is ``refunded`` once all its lines are; until then it stays ``completed``."""

    id = Serial(primary_key=True)
    order = ForeignKey(Order, on_delete=OnDelete.restrict, null=False, index=True)
    community = ForeignKey(Community, on_delete=OnDelete.restrict, null=False)
    points = Integer(null=False)
    reason = Text(default="", null=False)
    journal_id = Integer(null=False)
    user_id = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    created_at = Timestamptz(null=False)


class RefundLine(Table, tablename="mall_refund_line"):
    """How many of one order line a refund gave back."""

    id = Serial(primary_key=True)
    refund = ForeignKey(Refund, on_delete=OnDelete.restrict, null=False, index=True)
    order_line = ForeignKey(OrderLine, on_delete=OnDelete.restrict, null=False, index=True)
    quantity = Integer(null=False)


class Reservation(Table, tablename="mall_reservation"):
    """Goods a resident reserved in the app: points on a ledger hold, stock moved aside.

    ``status``: held → collected (an order) | lapsed | cancelled.
    """

    id = Serial(primary_key=True)
    community = ForeignKey(Community, on_delete=OnDelete.restrict, null=False, index=True)
    outlet = ForeignKey(Outlet, on_delete=OnDelete.restrict, null=False, index=True)
    resident = ForeignKey(Resident, on_delete=OnDelete.restrict, null=False, index=True)
    total = Integer(null=False)
    status = Varchar(length=20, null=False)
    hold_id = Integer(null=False)
    idempotency_key = Varchar(length=200, null=False)
    request_hash = Varchar(length=64, null=False)
    created_at = Timestamptz(null=False)
    expires_at = Timestamptz(null=False)
    closed_at = Timestamptz(null=True, default=None)
    order_id = Integer(null=True, default=None)


class ReservationLine(Table, tablename="mall_reservation_line"):
    id = Serial(primary_key=True)
    reservation = ForeignKey(Reservation, on_delete=OnDelete.restrict, null=False, index=True)
    item = ForeignKey(Item, on_delete=OnDelete.restrict, null=False)
    name = Varchar(length=200, null=False)
    quantity = Integer(null=False)
    price_points = Integer(null=False)


# Reports (mall.reports) ----------------------------------------------------------------


class Objection(Table, tablename="mall_objection"):
    """A resident's objection (异议) to one line of the public notice (an award line).

    ``status``: open → upheld (the award reversed) or dismissed, with staff's reply. One per
    resident and entry (unique index, migration)."""

    id = Serial(primary_key=True)
    community = ForeignKey(Community, on_delete=OnDelete.restrict, null=False, index=True)
    award_line = ForeignKey(AwardLine, on_delete=OnDelete.restrict, null=False, index=True)
    resident = ForeignKey(Resident, on_delete=OnDelete.restrict, null=False, index=True)
    reason = Text(null=False)
    status = Varchar(length=20, null=False)
    created_at = Timestamptz(null=False)
    due_at = Timestamptz(null=False)
    decided_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    reply = Text(default="", null=False)


class Upload(Table, tablename="mall_upload"):
    """A spreadsheet a staff member previewed, kept until they confirm it (mall.people.uploads):
    ``token`` names it in the confirming form; only its uploader may use it, for an hour."""

    id = Serial(primary_key=True)
    token = Varchar(length=64, null=False, unique=True)
    kind = Varchar(length=20, null=False)
    community = ForeignKey(Community, on_delete=OnDelete.restrict, null=False)
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=False)
    filename = Varchar(length=200, null=False)
    data = Bytea(null=False)
    created_at = Timestamptz(null=False, index=True)


# Opening balances (mall.earning.openings) -----------------------------------------------


class OpeningBatch(Table, tablename="mall_opening_batch"):
    """Opening balances (期初积分) from the paper passbooks, as one staff member uploaded them.

    ``status``: pending → approved (a different staff member approved; one journal per
    resident posted) or rejected."""

    id = Serial(primary_key=True)
    community = ForeignKey(Community, on_delete=OnDelete.restrict, null=False, index=True)
    status = Varchar(length=20, null=False)
    filename = Varchar(length=200, null=False, default="")
    residents = Integer(null=False)
    total = Integer(null=False)
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=False)
    created_at = Timestamptz(null=False)
    decided_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    reason = Text(default="", null=False)


class OpeningLine(Table, tablename="mall_opening_line"):
    """One resident's opening balance in a batch: the passbook's number and its points, with
    the spreadsheet's row; ``journal_id`` once posted."""

    id = Serial(primary_key=True)
    batch = ForeignKey(OpeningBatch, on_delete=OnDelete.restrict, null=False, index=True)
    sheet_row = Integer(null=False)
    resident = ForeignKey(Resident, on_delete=OnDelete.restrict, null=False, index=True)
    passbook = Varchar(length=40, null=False)
    points = Integer(null=False)
    journal_id = Integer(null=True, default=None)


class OpeningGiven(Table, tablename="mall_opening_given"):
    """The residents given an opening balance: the primary key makes it once per resident ever,
    whatever two approvals race."""

    resident = ForeignKey(Resident, on_delete=OnDelete.restrict, null=False, primary_key=True)
    line = ForeignKey(OpeningLine, on_delete=OnDelete.restrict, null=False)


# The closed loop, announcements and the inbox (mall.earning.ratings, mall.notify) ---------------


class SubmissionRating(Table, tablename="mall_submission_rating"):
    """The filer's rating of a resolved submission (闭环满意度): 1 to 5 stars and an optional
    comment, once per submission (the primary key)."""

    submission = ForeignKey(Submission, on_delete=OnDelete.restrict, null=False, primary_key=True)
    community = ForeignKey(Community, on_delete=OnDelete.restrict, null=False)
    resident = ForeignKey(Resident, on_delete=OnDelete.restrict, null=False)
    stars = Integer(null=False)
    comment = Text(default="", null=False)
    created_at = Timestamptz(null=False)


class Announcement(Table, tablename="mall_announcement"):
    """Staff's announcement (通知公告) to the whole community, one grid or one building; each
    resident it reaches gets a message in their inbox."""

    id = Serial(primary_key=True)
    community = ForeignKey(Community, on_delete=OnDelete.restrict, null=False)
    grid = ForeignKey(Grid, on_delete=OnDelete.restrict, null=True, default=None)
    building = Varchar(length=20, null=True, default=None)
    title = Varchar(length=100, null=False)
    body = Text(null=False)
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    created_at = Timestamptz(null=False)
    recipients = Integer(default=0, null=False)


class Message(Table, tablename="mall_message"):
    """One message in a resident's inbox (消息). ``title`` and ``body`` are English message ids
    filled from ``params`` (JSON) when shown, except an announcement's, which are staff's own
    words. ``key`` (unique per resident) makes a reminder once; ``sent_at`` is when a sender
    passed it on (mall.notify.senders)."""

    id = BigSerial(primary_key=True)
    community = ForeignKey(Community, on_delete=OnDelete.restrict, null=False)
    resident = ForeignKey(Resident, on_delete=OnDelete.restrict, null=False)
    kind = Varchar(length=30, null=False)
    title = Varchar(length=200, null=False)
    body = Text(null=False)
    params = Text(default="{}", null=False)
    key = Varchar(length=100, null=True, default=None)
    announcement = ForeignKey(Announcement, on_delete=OnDelete.restrict, null=True, default=None)
    created_at = Timestamptz(null=False)
    read_at = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)


# The counter's visits (mall.counter.visits) ---------------------------------------------


class CounterVisit(Table, tablename="mall_counter_visit"):
    """What a scan at the counter found (兑换台接待), under a random ``token`` that the page after
    the scan carries in its URL instead of the code (post/redirect/get): the printed card
    scanned (its PIN awaited or right), the pay code that stands for the resident, and the last
    refusal with the quantities chosen. Only ``created_by`` opens it, for a few hours."""

    id = Serial(primary_key=True)
    token = Varchar(length=64, null=False, unique=True)
    community = ForeignKey(Community, on_delete=OnDelete.restrict, null=False)
    outlet = ForeignKey(Outlet, on_delete=OnDelete.restrict, null=False)
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=False)
    card = ForeignKey(Code, on_delete=OnDelete.cascade, null=True, default=None)
    pay = ForeignKey(Code, on_delete=OnDelete.cascade, null=True, default=None)
    problem = Text(default="", null=False)
    chosen = Text(default="", null=False)
    created_at = Timestamptz(null=False, index=True)
