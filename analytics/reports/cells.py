"""Table cells that print as text and keep their numbers, for every output format at once.

A report table is laid out once. The PDF and HTML show each cell as the journal-style text
of ``analytics.stats.formatting`` ("49 (87.50)", "0.58 (0.34, 0.98)", "< 0.001"); the XLSX and
CSV files need the numbers behind that text as numbers, each in its own column. A
:class:`Cell` is both: a ``str`` (so tables compare, join and print as before) carrying
``parts``, the (name, value, Excel number format) of every number it shows. The spreadsheet
writers expand a column of cells into one numeric column per part ("n", "%"; "HR", "lower",
"upper") and let the number format do the rounding, so a P of 0.0000123 is stored as that
number and only *displayed* as "< 0.001".

The text comes from the formatting functions (the one place the rounding rules live); the
numbers are the unrounded values the statistics returned.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from analytics.stats.formatting import (
    NOT_ESTIMABLE,
    format_count_pct,
    format_estimate_ci,
    format_mean_sd,
    format_median_iqr,
    format_p,
    format_stat,
)

# Excel number formats. P: three decimals, below 0.001 the text the report prints.
P_FORMAT = '[<0.001]"< 0.001";0.000'
INTEGER_FORMAT = "0"
PERCENT_FORMAT = "0.00"  # percentages are stored as 51.28, not 0.5128: the header says "%"
# Starts the label of a row that sits under the row above (a category of a characteristic in
# Table 1); the renderers indent it. An em space, so the text still reads right as plain text.
SUB_ROW = "\u2003"


def decimals_format(decimals: int) -> str:
    return "0" if decimals <= 0 else "0." + "0" * decimals


Part = tuple[str, float | int | None, str]  # (name, value, Excel number format)


class Cell(str):
    """Display text with the numbers it shows (``parts``); see the module docstring."""

    parts: tuple[Part, ...]

    def __new__(cls, text: str, parts: Sequence[Part]) -> Cell:
        cell = super().__new__(cls, text)
        cell.parts = tuple((name, _number(value), fmt) for name, value, fmt in parts)
        return cell

    def __reduce__(self):  # keep the parts when a report is pickled (e.g. by a task result)
        return (Cell, (str(self), self.parts))


def _number(value: Any) -> float | int | None:
    """A plain Python number, or None for a missing or non-finite value (an empty cell)."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    value = float(value)
    return value if math.isfinite(value) else None


def p_value(p: float | None) -> Cell:
    """P to 3 decimals, "< 0.001" below; "-" when not estimable."""
    return Cell(format_p(p), [("P", p, P_FORMAT)])


def statistic(value: float | None, decimals: int = 3) -> Cell:
    """A test statistic (t, Z, χ², z) to 3 decimals."""
    return Cell(format_stat(value, decimals), [("", value, decimals_format(decimals))])


def number(value: float | int | None, decimals: int = 0) -> Cell:
    """A count (``decimals`` 0) or a measured value."""
    if _number(value) is None:
        return Cell(NOT_ESTIMABLE, [("", None, decimals_format(decimals))])
    text = str(int(value)) if decimals == 0 else format_stat(value, decimals)
    return Cell(text, [("", value, decimals_format(decimals))])


def count_pct(count: int, total: int) -> Cell:
    """``n (%)`` with both numbers, e.g. "49 (87.50)"."""
    pct = 100.0 * count / total if total > 0 else None
    return Cell(
        format_count_pct(int(count), int(total)),
        [("n", int(count), INTEGER_FORMAT), ("%", pct, PERCENT_FORMAT)],
    )


def estimate_ci(
    estimate: float | None,
    lower: float | None,
    upper: float | None,
    decimals: int = 2,
    names: tuple[str, str, str] = ("estimate", "95% CI lower", "95% CI upper"),
) -> Cell:
    """``estimate (lower, upper)``; an unreached limit prints "NR" and is an empty cell."""
    fmt = decimals_format(decimals)
    return Cell(
        format_estimate_ci(estimate, lower, upper, decimals),
        [(names[0], estimate, fmt), (names[1], lower, fmt), (names[2], upper, fmt)],
    )


def mean_sd(mean: float | None, sd: float | None, decimals: int = 2) -> Cell:
    fmt = decimals_format(decimals)
    return Cell(format_mean_sd(mean, sd, decimals), [("mean", mean, fmt), ("SD", sd, fmt)])


def median_iqr(median: float | None, q1: float | None, q3: float | None, decimals: int = 2) -> Cell:
    fmt = decimals_format(decimals)
    return Cell(
        format_median_iqr(median, q1, q3, decimals),
        [("median", median, fmt), ("Q1", q1, fmt), ("Q3", q3, fmt)],
    )


# Plain text cells of tables that are not (yet) built from Cells: a lone number, "n (%)" and
# "estimate (lower, upper)" are still written as numbers, with the decimals they were printed
# with (so at the printed precision: build tables from Cells to keep the unrounded values).
_NUM = r"[-−]?\d+(?:\.\d+)?"
_PLAIN_NUMBER = re.compile(rf"^{_NUM}$")
_COUNT_PCT = re.compile(rf"^(\d+) \(({_NUM}|-)\)$")
_ESTIMATE_CI = re.compile(rf"^({_NUM}) \(({_NUM}|NR), ({_NUM}|NR)\)$")


def _parsed(text: str) -> tuple[float | int | None, str]:
    """A printed number as (value, Excel format with the printed decimals)."""
    if text in ("-", "NR"):
        return None, "General"
    decimals = len(text.split(".")[1]) if "." in text else 0
    value = float(text.replace("−", "-"))
    return (int(value) if decimals == 0 else value), decimals_format(decimals)


def as_cell(value: Any) -> Any:
    """``value`` as a Cell where it is a number; other values unchanged.

    Numbers (int, float, numpy) become one-part cells; text that is exactly a number
    ("0.036", "-1.267", "42") too, with the decimals it shows; "-" (not estimable) becomes an
    empty number. Any other text stays text.
    """
    if isinstance(value, Cell):
        return value
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float) or hasattr(value, "item"):
        plain = _number(value)
        if isinstance(plain, int):
            return number(plain)
        if plain is None:
            return None
        return Cell(repr(plain), [("", plain, "General")])
    if isinstance(value, str):
        text = value
        if text == NOT_ESTIMABLE:
            return Cell(NOT_ESTIMABLE, [("", None, "General")])
        if _PLAIN_NUMBER.match(text):
            return Cell(text, [("", *_parsed(text))])
        if match := _COUNT_PCT.match(text):
            return Cell(text, [("n", *_parsed(match[1])), ("%", *_parsed(match[2]))])
        if match := _ESTIMATE_CI.match(text):
            names = ("estimate", "95% CI lower", "95% CI upper")
            return Cell(
                text, [(n, *_parsed(g)) for n, g in zip(names, match.groups(), strict=True)]
            )
    return value
