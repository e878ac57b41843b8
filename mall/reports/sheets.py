"""What every exported table shares: the community and days it covers, a cell's types, China
time as staff write it, the Chinese words for codes, and the guard that no text cell starts a
formula. Spreadsheets go to the street in Chinese whatever language the staff member reads the
site in, so the headers and words here are Chinese (docs/guide.md gives them in English)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime

import msgspec

from mall import days
from mall.reports.cells import safe_text

#: rows read from the database at a time: an export holds one page, never the whole table
PAGE = 1000

Cell = str | int | None
Rows = AsyncIterator[list[Cell]]


class Scope(msgspec.Struct, frozen=True, kw_only=True):
    """The community and days an export covers: ``[since, until)`` in UTC."""

    community_id: int
    slug: str
    book: int
    start: date
    end: date
    since: datetime
    until: datetime


def stamp(at: datetime | None) -> str:
    """China time, to the minute (``2026-12-05 09:30``); empty for none."""
    if at is None:
        return ""
    return (
        (at if at.tzinfo else at.replace(tzinfo=UTC))
        .astimezone(days.CALENDAR)
        .strftime("%Y-%m-%d %H:%M")
    )


def clean(row: Sequence[Cell]) -> list[Cell]:
    """The row with every text passed through ``safe_text``: no cell ever starts a formula."""
    return [safe_text(c) if isinstance(c, str) else c for c in row]


PATH_WORDS = {
    "timely_help": "雪中送炭",
    "adding_to_good": "锦上添花",
    "settling_disputes": "息事宁人",
}
AWARD_WORDS = {
    "posted": "已发放",
    "pending_approval": "待审批",
    "rejected": "已驳回",
    "reversed": "已撤销",
}
ORDER_WORDS = {"completed": "已兑换", "refunded": "已退还"}
JOURNAL_WORDS = {
    "award": "获得积分",
    "grant": "预算下拨",
    "redemption": "兑换商品",
    "refund": "退还积分",
    "reversal": "更正",
    "hold": "预约冻结",
    "capture": "预约领取",
    "release": "预约取消退回",
    "lapse": "预约过期退回",
    "closure": "销户退回",
    "merge": "合并转入",
    "expiry": "积分到期",
    "opening": "期初余额",
}
MOVEMENT_WORDS = {
    "receipt": "入库",
    "donation": "捐赠",
    "redemption": "兑换",
    "refund": "退货",
    "reservation": "预约",
    "release": "预约释放",
    "stocktake": "盘点",
    "adjustment": "调整",
}


def word(words: dict[str, str], code: str | None) -> str:
    """The Chinese word for a code, or the code itself for one added later."""
    if code is None:
        return ""
    return words.get(code, code)
