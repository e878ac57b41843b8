"""Exports without a database: the days an export covers, a settlement's month, China time,
and the writers (CSV in chunks with a BOM, XLSX as text never parsed as a formula)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from python_calamine import CalamineWorkbook

from mall.errors import Invalid
from mall.reports import writers
from mall.reports.exports import Sheet, month_window
from mall.reports.settlement import month_days
from mall.reports.sheets import Cell, Rows, clean, stamp


def test_the_default_is_this_month_up_to_today() -> None:
    assert month_window(None, None, today=date(2026, 12, 5)) == (
        date(2026, 12, 1),
        date(2026, 12, 5),
    )
    assert month_window(None, date(2026, 2, 14)) == (date(2026, 2, 1), date(2026, 2, 14))
    assert month_window(date(2026, 1, 1), date(2026, 12, 31))[1] == date(2026, 12, 31)


def test_backwards_or_more_than_a_year_is_refused() -> None:
    with pytest.raises(Invalid):
        month_window(date(2026, 12, 5), date(2026, 12, 1))
    with pytest.raises(Invalid):
        month_window(date(2025, 1, 1), date(2026, 12, 31))


def test_a_month_is_its_first_to_its_last_day() -> None:
    assert month_days("2026-02") == ("2026-02", date(2026, 2, 1), date(2026, 2, 28))
    assert month_days("2024-02")[2] == date(2024, 2, 29)
    assert month_days("2026-12")[2] == date(2026, 12, 31)
    assert month_days(None, today=date(2026, 11, 17))[0] == "2026-11"
    for bad in ("2026-13", "2026-1", "26-01", "next month", "1999-01"):
        with pytest.raises(Invalid):
            month_days(bad)


def test_times_are_china_time_to_the_minute() -> None:
    assert stamp(datetime(2026, 12, 4, 16, 30, 59, tzinfo=UTC)) == "2026-12-05 00:30"
    assert stamp(datetime(2026, 12, 4, 16, 30)) == "2026-12-05 00:30"
    assert stamp(None) == ""


def test_clean_quotes_only_text() -> None:
    assert clean(["=1+1", -3, None, "王"]) == ["'=1+1", -3, None, "王"]


def sheet(rows: list[list[Cell]]) -> Sheet:
    async def gen() -> Rows:
        for row in rows:
            yield row

    return Sheet(
        table="passbook",
        slug="maple",
        start=date(2026, 12, 1),
        end=date(2026, 12, 5),
        headers=("姓名", "积分"),
        rows=gen(),
    )


async def test_csv_comes_in_chunks_with_one_bom_and_one_header() -> None:
    rows: list[list[Cell]] = [[f"居民{n}", n] for n in range(writers.CSV_ROWS * 2 + 3)]
    chunks = [c async for c in writers.csv_chunks(sheet(rows))]
    assert len(chunks) == 3
    body = b"".join(chunks)
    assert body.count(b"\xef\xbb\xbf") == 1 and body.startswith(b"\xef\xbb\xbf")
    read = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert read[0] == ["姓名", "积分"] and read[1:] == [[str(a), str(b)] for a, b in rows]


async def test_xlsx_writes_text_as_text_and_numbers_as_numbers() -> None:
    rows: list[list[Cell]] = [["'=SUM(1,2)", 5], ["http://x", None], ["=1+1", -2]]
    with await writers.xlsx_file(sheet(rows)) as stream:
        book = CalamineWorkbook.from_filelike(io.BytesIO(stream.read()))
    assert book.sheet_names == ["passbook"]
    assert book.get_sheet_by_index(0).to_python() == [
        ["姓名", "积分"],
        ["'=SUM(1,2)", 5.0],
        ["http://x", ""],
        ["=1+1", -2.0],
    ]
