"""The recruitment call as ``activities`` and ``checkin`` both return it, with the words for its
statuses. Values only: no query, no rule."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from mall.earning.rules import Path

ActivityStatus = Literal["open", "settled", "cancelled"]
SignupStatus = Literal["confirmed", "waiting", "cancelled"]


class Activity(msgspec.Struct, frozen=True, kw_only=True):
    """A recruitment call (招募令) with its counts of sign-ups and check-ins."""

    id: int
    community: str
    """The community's slug."""
    community_id: int
    book: int
    """The community's ledger book, which settlement posts to."""
    title: str
    description: str
    path: Path
    points: int
    capacity: int
    starts_at: datetime
    ends_at: datetime
    place: str
    status: ActivityStatus
    hours_tenths: int
    """Volunteer hours each attendee earns, in tenths of an hour (25 = 2.5 hours)."""
    journal_id: int | None
    settled_at: datetime | None
    confirmed: int
    waiting: int
    checked_in: int
    places_left: int
    cancel_reason: str | None = None
    """Why staff cancelled it (``status`` ``cancelled``); ``None`` otherwise."""

    @property
    def hours(self) -> float:
        """``hours_tenths`` as hours to show (2.5)."""
        return self.hours_tenths / 10
