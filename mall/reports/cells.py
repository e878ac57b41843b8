"""Text for a spreadsheet cell that never runs as a formula: the one escape every export and
workbook writes through (CSV and XLSX alike)."""

from __future__ import annotations

#: what makes Excel, LibreOffice or WPS read a typed cell as a formula (or a DDE command)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str) -> str:
    """``value``, with a ``'`` in front when it starts like a formula (``=``, ``+``, ``-``,
    ``@``, tab or carriage return), so a spreadsheet shows it as the text it is."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value
