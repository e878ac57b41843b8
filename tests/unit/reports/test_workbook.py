"""The workbook writer: text that looks like a formula is escaped, numbers stay numbers, sheet
names are ones Excel accepts, and what is written reads back (python-calamine) as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from mall.reports import workbook
from mall.reports.cells import safe_text


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("+86 138", "'+86 138"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("王秀英", "王秀英"),
        ("1=1", "1=1"),
        ("", ""),
    ],
)
def test_a_cell_that_would_start_a_formula_gets_a_quote(value: str, shown: str) -> None:
    assert safe_text(value) == shown


def test_sheet_names_are_ones_excel_accepts() -> None:
    names = workbook.sheet_names(["概况", "a/b", "x" * 40, "x" * 40, "概况", ""])
    assert names[0] == "概况" and names[1] == "a_b"
    assert all(0 < len(n) <= 31 for n in names)
    assert len({n.lower() for n in names}) == len(names)


async def test_what_is_written_reads_back_and_no_formula_survives() -> None:
    sheets = [
        workbook.Sheet(name="概况", header=["社区", "积分"], rows=[["幸福里", 120], ["=cmd", 0.5]]),
        workbook.Sheet(name="空", header=["项目"], rows=[]),
    ]
    with await workbook.written(sheets) as stream:
        book = CalamineWorkbook.from_filelike(stream)
        assert book.sheet_names == ["概况", "空"]
        rows = book.get_sheet_by_name("概况").to_python()
        assert rows == [["社区", "积分"], ["幸福里", 120], ["'=cmd", 0.5]]
        assert book.get_sheet_by_name("空").to_python() == [["项目"]]
        assert not Path(stream.name).exists()  # nothing left on disk once handed over
