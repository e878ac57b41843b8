"""A workbook (XLSX) of report sheets, written row by row in constant memory (``mall.xlsx``) to
a temporary file that the caller streams and then closes. Every text cell goes through
``cells.safe_text``, so no cell ever starts a formula; numbers stay numbers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import IO

import anyio.to_thread
import msgspec

from mall import xlsx
from mall.reports.cells import safe_text
from mall.xlsx import Cell

#: what Excel refuses in a sheet's name, and its longest name
_NOT_IN_NAME = re.compile(r"[\[\]:*?/\\']")
MAX_NAME = 31


class Sheet(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    header: list[str]
    rows: Sequence[Sequence[Cell]]


def sheet_names(names: Sequence[str]) -> list[str]:
    """Names Excel accepts: no ``[]:*?/\\'``, at most 31 characters, none twice."""
    found: list[str] = []
    for name in names:
        base = _NOT_IN_NAME.sub("_", name).strip() or "Sheet"
        candidate, n = base[:MAX_NAME], 1
        while candidate.lower() in {f.lower() for f in found}:
            n += 1
            suffix = f" ({n})"
            candidate = base[: MAX_NAME - len(suffix)] + suffix
        found.append(candidate)
    return found


def write(sheets: Sequence[Sheet], path: str) -> None:
    """The workbook at ``path`` (blocking: run it in a thread)."""
    book = xlsx.book(path)
    try:
        bold = book.add_format({"bold": True})
        for sheet, name in zip(sheets, sheet_names([s.name for s in sheets]), strict=True):
            ws = book.add_worksheet(name)
            ws.set_column(0, max(0, len(sheet.header) - 1), 16)
            xlsx.put(ws, 0, [safe_text(h) for h in sheet.header], bold)
            for r, row in enumerate(sheet.rows, start=1):
                xlsx.put(ws, r, [_safe(value) for value in row])
    finally:
        book.close()


def _safe(value: Cell) -> Cell:
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    return safe_text(str(value))


async def written(sheets: Sequence[Sheet]) -> IO[bytes]:
    """The workbook in an open temporary file, already unlinked: it goes when the caller closes
    it (when the download ends)."""
    with xlsx.temporary() as path:
        await anyio.to_thread.run_sync(write, sheets, path)
        return xlsx.handed_over(path)
