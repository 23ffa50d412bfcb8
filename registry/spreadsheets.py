"""Cell values for CSV and XLSX files that leave the registry: text never becomes a formula.

A spreadsheet program evaluates a cell whose text starts with ``=``, ``+``, ``-`` or ``@`` (and,
in some programs, a leading tab or carriage return) as a formula, so user text such as a report
title ``=HYPERLINK(...)`` would run when an investigator opens the file. Following the OWASP
"CSV Injection" guidance, such text is written with a leading apostrophe, which spreadsheet
programs read as "this cell is text". Numbers (int, float, Decimal, numpy scalars) and other
non-text values pass unchanged, so they stay numbers. Every CSV/XLSX writer of the project
(exports, import error reports, report tables and provenance sheets) passes its cells through
``safe_cell``; this is the only implementation of the rule.
"""

from __future__ import annotations

from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` itself, or text that starts with a formula character prefixed with ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_row(values: list[Any] | tuple[Any, ...]) -> list[Any]:
    return [safe_cell(value) for value in values]
