"""Spreadsheet cells never start a formula (no database)."""

from __future__ import annotations

import pytest

from mall.reports.cells import safe_text


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://x")',
        "+1",
        "-2+3",
        "@SUM(A1:A2)",
        "\t=1+1",
        "\r=1+1",
        "=",
    ],
)
def test_a_text_that_would_start_a_formula_gets_a_quote(text: str) -> None:
    assert safe_text(text) == "'" + text


@pytest.mark.parametrize(
    "text", ["王秀英", "", "1+1", "a=b", " =1", "'=1", "帮扶困难户", "13800001111"]
)
def test_any_other_text_is_left_as_it_is(text: str) -> None:
    assert safe_text(text) == text
