"""Writing an export out: CSV as UTF-8 with a byte-order mark (so Excel opens Chinese correctly),
produced a few hundred rows at a time; XLSX through ``mall.xlsx`` in constant-memory mode (each
row goes to a temporary file as it is written), into a file the caller streams and then closes.
Text is written as text, never parsed as a formula, a number or a link."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from typing import IO

from mall import xlsx
from mall.reports.exports import Sheet

#: rows gathered into one chunk of a CSV download
CSV_ROWS = 500
BOM = "\ufeff"


async def csv_chunks(sheet: Sheet) -> AsyncIterator[bytes]:
    """The sheet as CSV, a chunk at a time: the header row first, with the BOM."""
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    out.writerow(sheet.headers)
    count = 0
    async for row in sheet.rows:
        out.writerow(["" if cell is None else cell for cell in row])
        count += 1
        if count % CSV_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


async def xlsx_file(sheet: Sheet) -> IO[bytes]:
    """The sheet as an XLSX workbook in an open temporary file, already unlinked (it goes when
    the caller closes it, however the download ends), positioned at its start."""
    with xlsx.temporary() as path:
        workbook = xlsx.book(path)
        page = workbook.add_worksheet(sheet.table[:31])
        xlsx.put(page, 0, sheet.headers, workbook.add_format({"bold": True}))
        page.freeze_panes(1, 0)
        number = 1
        async for row in sheet.rows:
            xlsx.put(page, number, row)
            number += 1
        await asyncio.to_thread(workbook.close)
        return xlsx.handed_over(path)
