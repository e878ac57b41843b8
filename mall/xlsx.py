"""Writing XLSX, in one place (xlsxwriter): the exports, the street's monthly workbook and the
templates staff fill in all open their workbook here, so that every text cell is written as text
(never read as a formula, a number or a link) and big workbooks go row by row to a temporary
file in constant memory. What a cell holds is the caller's: the reports pass their text through
``mall.reports.cells.safe_text`` first, so that a cell copied into another program cannot start a
formula either."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

Cell = int | float | str | None
MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: text stays text: "=1+1" is four characters, "13800000000" a phone number, not 1.38E+10
TEXT_ONLY = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}


def book(target: str | IO[bytes]) -> xlsxwriter.Workbook:
    """A workbook at ``target``: a path (written row by row, in constant memory) or an in-memory
    buffer (for a small file)."""
    if isinstance(target, str):
        return xlsxwriter.Workbook(target, {"constant_memory": True, **TEXT_ONLY})
    return xlsxwriter.Workbook(target, {"in_memory": True, **TEXT_ONLY})


def put(ws: Worksheet, row: int, cells: Sequence[Cell], style: Format | None = None) -> None:
    """One row: text as text, numbers as numbers (a ``bool`` as its text), nothing for None."""
    for col, value in enumerate(cells):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            ws.write_string(row, col, str(value), style)
        else:
            ws.write_number(row, col, value, style)


@contextmanager
def temporary() -> Iterator[str]:
    """A path for a workbook that is handed over as an open file (``handed_over``) and never
    left behind on disk, however writing ends."""
    handle, path = tempfile.mkstemp(prefix="mall-", suffix=".xlsx")
    os.close(handle)
    try:
        yield path
    finally:
        os.unlink(path)


def handed_over(path: str) -> IO[bytes]:
    """The written workbook, open at its start; inside ``temporary`` the name goes at once and the
    file when the caller closes it (when the download ends)."""
    return open(path, "rb")  # noqa: SIM115  (the caller closes it)


def small(header: Sequence[str], rows: Sequence[Sequence[Cell]], *, width: int = 16) -> bytes:
    """A one-sheet workbook in memory, every column formatted as text (a template to fill in: a
    phone number typed into it stays a phone number)."""
    data = io.BytesIO()
    wb = book(data)
    ws = wb.add_worksheet()
    text = wb.add_format({"num_format": "@"})
    ws.set_column(0, max(0, len(header) - 1), width, text)
    put(ws, 0, list(header), wb.add_format({"bold": True}))
    for r, row in enumerate(rows, start=1):
        put(ws, r, row)
    wb.close()
    return data.getvalue()
