"""A workbook (XLSX) of report sheets, written row by row in constant memory to a temporary
file that the caller streams and then removes. Every text cell goes through
``cells.safe_text``, so no cell ever starts a formula; numbers stay numbers."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

import anyio.to_thread
import msgspec
import xlsxwriter

from mall.reports.cells import safe_text

Cell = int | float | str | None
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


def write(sheets: Sequence[Sheet], path: Path) -> None:
    """The workbook at ``path`` (blocking: run it in a thread)."""
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    try:
        bold = book.add_format({"bold": True})
        for sheet, name in zip(sheets, sheet_names([s.name for s in sheets]), strict=True):
            ws = book.add_worksheet(name)
            ws.set_column(0, max(0, len(sheet.header) - 1), 16)
            for col, heading in enumerate(sheet.header):
                ws.write_string(0, col, safe_text(heading), bold)
            for r, row in enumerate(sheet.rows, start=1):
                for col, value in enumerate(row):
                    if value is None:
                        continue
                    if isinstance(value, bool) or not isinstance(value, int | float):
                        ws.write_string(r, col, safe_text(str(value)))
                    else:
                        ws.write_number(r, col, value)
    finally:
        book.close()


async def written(sheets: Sequence[Sheet]) -> Path:
    """A temporary file holding the workbook; the caller removes it once sent."""
    handle, name = tempfile.mkstemp(prefix="mall-report-", suffix=".xlsx")
    os.close(handle)
    path = Path(name)
    try:
        await anyio.to_thread.run_sync(write, sheets, path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path
