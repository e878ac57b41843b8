"""Spreadsheet cells that never run a formula: a text that Excel, WPS or LibreOffice would read
as a formula (or as the start of one) gets a leading ``'`` (API.md, CSV injection). Numbers are
written as numbers and need nothing; only text passes through here."""

from __future__ import annotations

#: what makes a spreadsheet treat a cell's text as a formula: ``=``, ``+``, ``-``, ``@``, and a
#: tab or carriage return some programs strip before looking at the rest
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str) -> str:
    """``value`` as a spreadsheet shows it, never as a formula: ``=1+2`` → ``'=1+2``."""
    if value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
