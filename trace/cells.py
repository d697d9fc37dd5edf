"""Spreadsheet cells that stay data.

A cell that begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
return, which some spreadsheets skip first) is run as a formula when a CSV file
is opened in Excel or LibreOffice: a lot code such as ``=HYPERLINK(...)`` would
become a link to anywhere (CSV injection). Codes may not begin so (the
importer refuses them), and every CSV we write escapes such a cell with a
leading apostrophe, which spreadsheets show as text and do not display.
"""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def starts_formula(text: str) -> bool:
    return text.startswith(FORMULA_START)


def spreadsheet_safe(value: object) -> str:
    """``value`` as a cell no spreadsheet runs: text that would start a formula gets ``'``."""
    text = "" if value is None else str(value)
    return f"'{text}" if starts_formula(text) else text
