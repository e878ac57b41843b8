"""Exports as downloads, for the API and the staff pages alike: ``awards.xlsx`` names the table
and the format; the answer streams (CSV as it is read, XLSX from its temporary file once
written) with a file name of ASCII letters, the table, the community and the days."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import IO

from litestar.response import Stream

from mall import xlsx
from mall.access import Principal
from mall.db import Database
from mall.reports import exports, writers

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": xlsx.MEDIA_TYPE,
}
CHUNK = 64 * 1024


def table_and_format(name: str) -> tuple[str, str]:
    """``awards.xlsx`` → (``awards``, ``xlsx``); an unknown format names no table (not found)."""
    table, _, fmt = name.rpartition(".")
    return (table, fmt) if fmt in MEDIA_TYPES else ("", "")


async def _file_chunks(stream: IO[bytes]) -> AsyncIterator[bytes]:
    try:
        while chunk := stream.read(CHUNK):
            yield chunk
    finally:
        stream.close()


def xlsx_download(stream: IO[bytes], filename: str) -> Stream:
    """An XLSX file already written to ``stream`` (an unlinked temporary file), streamed and then
    closed however the download ends; ``filename`` is ASCII."""
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",
    }
    return Stream(_file_chunks(stream), media_type=MEDIA_TYPES["xlsx"], headers=headers)


async def download(
    db: Database,
    p: Principal | None,
    slug: str,
    name: str,
    *,
    start: date | None,
    end: date | None,
) -> Stream:
    """The export ``name`` (``passbook.csv``) of the community as a download; every refusal
    (who, which community, which table, which days) comes before the first byte."""
    table, fmt = table_and_format(name)
    sheet = await exports.open_sheet(db, p, slug, table, start=start, end=end)
    headers = {
        "Content-Disposition": f'attachment; filename="{sheet.filename}.{fmt}"',
        "Cache-Control": "no-store",
    }
    if fmt == "csv":
        return Stream(writers.csv_chunks(sheet), media_type=MEDIA_TYPES[fmt], headers=headers)
    return xlsx_download(await writers.xlsx_file(sheet), f"{sheet.filename}.{fmt}")
