"""Days as residents count them: China's calendar (one time zone, Asia/Shanghai), and the window of
days a report or a list is asked for (the anomaly list, the public notice, later the statistics)."""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from mall.errors import N_, Invalid

#: The calendar of days and months for caps, notices and reports: residents live in China.
CALENDAR = ZoneInfo("Asia/Shanghai")


def today() -> date:
    return datetime.now(CALENDAR).date()


def window(
    start: date | None,
    end: date | None,
    *,
    default_days: int,
    max_days: int,
    today: date | None = None,
) -> tuple[date, date]:
    """The days asked for, both included: by default the last ``default_days`` up to today.
    A first day after the last, or more than ``max_days`` at once, is ``validation_error``."""
    end = end or today or datetime.now(CALENDAR).date()
    start = start or end - timedelta(days=default_days - 1)
    if start > end:
        raise Invalid(N_("The first day comes after the last."))
    if (end - start).days >= max_days:
        raise Invalid(N_("At most {n} days at once."), n=max_days)
    return start, end


def midnight(day: date) -> datetime:
    """The start of ``day`` in China, in UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=CALENDAR).astimezone(UTC)


def utc_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Midnight in China at ``start`` and after ``end``, in UTC: ``[from, to)``."""
    return midnight(start), midnight(end + timedelta(days=1))


_china_today = today  # ``month`` takes a ``today`` of its own

MONTH = re.compile(r"(\d{4})-(\d{2})\Z")


def month_end(day: date) -> date:
    """The last day of ``day``'s calendar month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def month(value: str | None, *, today: date | None = None) -> tuple[date, date]:
    """The first and last day of ``YYYY-MM`` (by default the current month, China time)."""
    if not value:
        first = (today or _china_today()).replace(day=1)
        return first, month_end(first)
    found = MONTH.match(value.strip())
    if found is None or not 1 <= int(found[2]) <= 12 or int(found[1]) < 2000:
        raise Invalid(N_("Please give a month as YYYY-MM."))
    first = date(int(found[1]), int(found[2]), 1)
    return first, month_end(first)
