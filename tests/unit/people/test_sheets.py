"""Reading staff's spreadsheets (mall.people.sheets): the header in any order and either
language, blank rows skipped with their numbers kept, formulas found, CSV encodings detected,
and the limits refused before anything is built."""

from __future__ import annotations

import time

import pytest

from mall.errors import Invalid
from mall.people import sheets
from tests.api.test_roster import csv_bytes, xlsx

COLUMNS = {"name": ("姓名",), "phone": ("电话",)}


def test_headers_match_in_either_language_and_any_order() -> None:
    data = csv_bytes(
        [
            ["Phone", "备注", " 姓 名 "],
            ["13800001111", "x", "张三"],
            [",", "", ""],
            ["", "", "李四"],
        ]
    )
    read = sheets.read(data, "a.csv", COLUMNS, ["name"])
    assert [(r.number, r.cells) for r in read.rows] == [
        (2, {"phone": "13800001111", "name": "张三"}),
        (4, {"phone": "", "name": "李四"}),
    ]


def test_a_formula_or_a_leading_equals_sign_marks_its_row() -> None:
    data = xlsx(
        [["姓名", "电话"], ["张三", "1"], ["李四", None], ["=HYPERLINK(1)", None]],
        formula_at=(2, 1),
    )
    read = sheets.read(data, "a.xlsx", COLUMNS, ["name"])
    assert [(r.number, r.formula) for r in read.rows] == [(2, False), (3, True), (4, True)]


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ("姓名\r\n张三".encode("gb18030"), "张三"),
        (b"\xef\xbb\xbf" + "姓名\r\n张三".encode(), "张三"),
        ("姓名\r\n张三".encode(), "张三"),
    ],
)
def test_csv_is_read_as_utf8_or_gb18030(data: bytes, text: str) -> None:
    assert sheets.read(data, "a.csv", COLUMNS, ["name"]).rows[0].cells["name"] == text


def test_limits_are_refused_whole_and_quickly() -> None:
    with pytest.raises(Invalid):
        sheets.read(b"x" * (sheets.MAX_BYTES + 1), "a.csv", COLUMNS, ["name"])
    rows = xlsx([["姓名"], *([f"n{i}"] for i in range(sheets.MAX_ROWS + 1))])
    started = time.monotonic()
    with pytest.raises(Invalid):
        sheets.read(rows, "a.xlsx", COLUMNS, ["name"])
    assert time.monotonic() - started < 5
    with pytest.raises(Invalid):
        sheets.read(b"%PDF-1.4", "a.pdf", COLUMNS, ["name"])
    with pytest.raises(Invalid):
        sheets.read(csv_bytes([["电话"], ["1"]]), "a.csv", COLUMNS, ["name"])
