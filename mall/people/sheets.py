"""Reading a spreadsheet staff upload (名单表格): ``.xlsx`` through python-calamine, which reads the
cached values and never runs a formula, or ``.csv`` (UTF-8 with or without a BOM, or GB18030 as
Excel on Chinese Windows writes it).

Everything here refuses before anything is created: a file over ``MAX_BYTES``, one that is not
a spreadsheet, more than ``MAX_ROWS`` rows (counted before a row becomes a Python object), or no
header naming the required columns. A row holding a formula, or a cell starting with ``=``, is
a bad row (``FORMULA``). Never writes to the database.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, time

import msgspec
import python_calamine

from mall.errors import N_, Invalid

MAX_BYTES = 10 * 1024 * 1024
"""The largest file accepted: 10 MB."""
MAX_ROWS = 20_000
"""The most rows below the header (blank ones counted, as the file's row numbers go)."""
MAX_UNZIPPED = 200 * 1024 * 1024
"""The most an ``.xlsx`` may say it unpacks to (a zip bomb is refused before it is read)."""
MAX_CELL = 200
"""A longer cell is cut here; every column read is far shorter."""
FORMULA = N_("Formulas cannot be imported")

#: the start of a formula element (``<f>``, ``<f t="shared" .../>``, ``<x:f>``) in a sheet's XML
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")
#: a cell's opening tag with its reference, and a formula element, in document order
_CELL_OR_FORMULA = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="[A-Z]+(\d+)"|<(?:\w+:)?f[\s>/]')
_ZIP_MAGIC = b"PK\x03\x04"


class SheetRow(msgspec.Struct, frozen=True, kw_only=True):
    """One row with something in it: ``number`` is the spreadsheet's own row number (the header
    is row 1, or wherever it stands); ``cells`` maps a column's key to its text, stripped."""

    number: int
    cells: dict[str, str]
    formula: bool = False
    """A cell of the row held a formula or began with ``=``: the row is refused (``FORMULA``)."""


class Sheet(msgspec.Struct, frozen=True, kw_only=True):
    rows: list[SheetRow]
    columns: list[str]
    """The keys of the columns found in the header, in their order in the file."""


def check_size(data: bytes) -> None:
    if len(data) > MAX_BYTES:
        raise Invalid(
            N_("The file is larger than {mb} MB. Please split it into smaller files."),
            mb=MAX_BYTES // (1024 * 1024),
        )
    if not data:
        raise Invalid(N_("The file is empty. Please choose an .xlsx or .csv file."))


def kind_of(filename: str, data: bytes) -> str:
    """``xlsx`` or ``csv``, by the file's name and its first bytes; anything else is refused."""
    name = (filename or "").lower().strip()
    if name.endswith(".xlsx") or (not name.endswith(".csv") and data.startswith(_ZIP_MAGIC)):
        return "xlsx"
    if name.endswith(".csv"):
        return "csv"
    raise Invalid(N_("Please upload a spreadsheet: an .xlsx or .csv file."))


def read(
    data: bytes,
    filename: str,
    columns: Mapping[str, Sequence[str]],
    required: Sequence[str],
) -> Sheet:
    """The rows of the first sheet under its header row.

    ``columns`` maps each key to the header names it may go by (Chinese and English, matched
    without regard to case or spaces), in any order; other columns are ignored. The header is
    the first row with anything in it; it must name every key of ``required``. Blank rows are
    skipped, their numbers kept.
    """
    check_size(data)
    kind = kind_of(filename, data)
    raw = _xlsx_rows(data) if kind == "xlsx" else _csv_rows(data)
    return _under_header(raw, columns, required)


def text_of(value: object) -> str:
    """A cell's value as the text staff typed: a whole float (a phone typed as a number) loses
    its ``.0``, a date its time."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value).strip()[:MAX_CELL]


def _under_header(
    raw: Iterator[tuple[int, list[str], bool]],
    columns: Mapping[str, Sequence[str]],
    required: Sequence[str],
) -> Sheet:
    names = {_norm(n): key for key, known in columns.items() for n in (key, *known)}
    where: dict[str, int] = {}
    rows: list[SheetRow] = []
    for number, cells, formula in raw:
        if not any(cells):
            continue
        if not where:
            for i, cell in enumerate(cells):
                key = names.get(_norm(cell))
                if key is not None and key not in where:
                    where[key] = i
            missing = [k for k in required if k not in where]
            if missing:
                raise Invalid(
                    N_(
                        "The first row must name the columns; missing: {columns}. "
                        "Please start from the template."
                    ),
                    columns="、".join(columns[k][0] for k in missing),
                )
            continue
        if len(rows) >= MAX_ROWS:
            raise _too_many()
        picked = {k: cells[i] if i < len(cells) else "" for k, i in where.items()}
        if not any(picked.values()):
            continue
        rows.append(SheetRow(number=number, cells=picked, formula=formula))
    if not where:
        raise Invalid(N_("The file has no rows. Please start from the template."))
    return Sheet(rows=rows, columns=sorted(where, key=where.__getitem__))


def _norm(name: str) -> str:
    return re.sub(r"[\s_*（）()]", "", name).lower()


def _too_many() -> Invalid:
    return Invalid(
        N_("The file has more than {n} rows. Please split it into smaller files."), n=MAX_ROWS
    )


def _cells(values: Sequence[object]) -> tuple[list[str], bool]:
    cells = [text_of(v) for v in values]
    return cells, any(c.startswith("=") for c in cells)


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[str], bool]]:
    text = decode(data)
    if "\x00" in text:
        raise Invalid(N_("Please upload a spreadsheet: an .xlsx or .csv file."))
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for number, values in enumerate(reader, start=1):
            if number > MAX_ROWS + 1:  # the header and MAX_ROWS rows, blank ones too
                raise _too_many()
            cells, formula = _cells(values)
            yield number, cells, formula
    except csv.Error:
        raise Invalid(
            N_("This CSV file cannot be read. Please save it again from Excel.")
        ) from None


def decode(data: bytes) -> str:
    """A CSV's text: a UTF-8 BOM means UTF-8; otherwise UTF-8 if every byte decodes as UTF-8
    (GB18030's Chinese practically never does), else GB18030 (Excel's "CSV" on Chinese
    Windows), which decodes nearly any bytes and is the last resort."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise Invalid(
            N_("This CSV file cannot be read. Please save it again from Excel.")
        ) from None


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[str], bool]]:
    formula_rows = _formula_rows(data)
    try:
        book = python_calamine.CalamineWorkbook.from_object(io.BytesIO(data))
        sheet = book.get_sheet_by_index(0)
        if sheet.height > MAX_ROWS + 1:  # counted by calamine, before any row is in Python
            raise _too_many()
        values = sheet.to_python(skip_empty_area=False)
    except (python_calamine.CalamineError, ValueError, OSError):
        raise Invalid(
            N_("This .xlsx file cannot be read. Please save it again from Excel.")
        ) from None
    for number, row in enumerate(values, start=1):
        cells, formula = _cells(row)
        yield number, cells, formula or number in formula_rows


def _formula_rows(data: bytes) -> set[int]:
    """The numbers of the first sheet's rows with a formula in them, read from the sheet's XML
    (calamine gives the cached values only, as wanted, so it cannot tell)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(i.file_size for i in archive.infolist()) > MAX_UNZIPPED:
                raise Invalid(
                    N_("This .xlsx file cannot be read. Please save it again from Excel.")
                )
            sheets = sorted(
                (n for n in archive.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)),
                key=lambda n: int(re.sub(r"\D", "", n)),
            )
            if not sheets:
                raise Invalid(N_("Please upload a spreadsheet: an .xlsx or .csv file."))
            xml = archive.read(sheets[0])
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, OSError, EOFError):
        raise Invalid(
            N_("This .xlsx file cannot be read. Please save it again from Excel.")
        ) from None
    if not _FORMULA_TAG.search(xml):
        return set()
    found: set[int] = set()
    row = 0
    for match in _CELL_OR_FORMULA.finditer(xml):
        if match.group(1) is not None:
            row = int(match.group(1))
        else:
            found.add(row)
    return found
