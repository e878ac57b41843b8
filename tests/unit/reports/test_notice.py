"""Masking a name for the public notice, and the days it covers (no database)."""

from __future__ import annotations

from datetime import date

import pytest

from mall.errors import Invalid
from mall.reports.notice import mask, window


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("张晓明", "张**"),
        ("张三", "张*"),
        ("张", "张*"),
        ("欧阳娜娜", "欧阳**"),
        ("欧阳", "欧*"),
        ("司马相如", "司马**"),
        ("爱新觉罗·溥仪", "爱***"),
        (" 王 秀英 ", "王**"),
        ("", "*"),
    ],
)
def test_the_surname_stays_and_the_rest_is_starred(name: str, shown: str) -> None:
    assert mask(name) == shown


def test_no_mask_shows_more_than_the_surname() -> None:
    for name in ("张晓明", "欧阳娜娜", "李", "Anna Smith"):
        assert mask(name) != name.strip()


def test_the_default_is_the_last_seven_days_up_to_today() -> None:
    assert window(None, None, today=date(2026, 12, 5)) == (date(2026, 11, 29), date(2026, 12, 5))
    assert window(None, date(2026, 1, 7)) == (date(2026, 1, 1), date(2026, 1, 7))


@pytest.mark.parametrize(
    ("start", "end"), [(date(2026, 12, 5), date(2026, 12, 1)), (date(2026, 1, 1), date(2026, 6, 1))]
)
def test_a_backwards_or_too_long_range_is_refused(start: date, end: date) -> None:
    with pytest.raises(Invalid):
        window(start, end)
