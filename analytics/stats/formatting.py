"""Number formatting for report tables.

The conventions come from ``spec/ANALYSIS.md`` and match seed 002's tables: percentages to
2 decimals, test statistics to 3, p to 3 with p < 0.001 shown as "< 0.001", and "-" where a
statistic could not be estimated (seed 002 Table 3 prints "-" for a row with no events).
"""

from __future__ import annotations

import math

NOT_ESTIMABLE = "-"


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _fixed(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    # "-0.000" reads as a negative statistic in a table; a rounded zero has no sign.
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    return text


def format_p(p: float | None) -> str:
    """P to 3 decimals; below 0.001 as "< 0.001" (the seed's and most journals' style)."""
    if _missing(p):
        return NOT_ESTIMABLE
    if p < 0.001:
        return "< 0.001"
    return _fixed(p, 3)


def format_stat(value: float | None, decimals: int = 3) -> str:
    """A test statistic (t, Z, χ²) to 3 decimals."""
    if _missing(value):
        return NOT_ESTIMABLE
    return _fixed(value, decimals)


def format_pct(count: int, total: int) -> str:
    """Percentage of ``total`` to 2 decimals; "-" when the denominator is empty."""
    if total <= 0:
        return NOT_ESTIMABLE
    return _fixed(100.0 * count / total, 2)


def format_count_pct(count: int, total: int) -> str:
    """``n (%)`` as in seed 002's tables, e.g. ``35 (89.74)``."""
    return f"{count} ({format_pct(count, total)})"


def format_median_iqr(
    median: float | None, q1: float | None, q3: float | None, decimals: int = 2
) -> str:
    """``median (Q1, Q3)`` as in seed 002 Table 1, e.g. ``41.20 (36.40, 45.30)``."""
    if _missing(median):
        return NOT_ESTIMABLE
    return f"{_fixed(median, decimals)} ({format_stat(q1, decimals)}, {format_stat(q3, decimals)})"


def format_mean_sd(mean: float | None, sd: float | None, decimals: int = 2) -> str:
    """``mean ± SD`` as in seed 002 Table 1, e.g. ``60.95 ± 11.18``."""
    if _missing(mean):
        return NOT_ESTIMABLE
    return f"{_fixed(mean, decimals)} ± {format_stat(sd, decimals)}"


def format_estimate_ci(
    estimate: float | None, lower: float | None, upper: float | None, decimals: int = 2
) -> str:
    """``estimate (lower, upper)``; an unreached limit (None/NaN) prints as "NR" (not reached)."""
    if _missing(estimate):
        return "NR"

    def limit(value: float | None) -> str:
        return "NR" if _missing(value) else _fixed(value, decimals)

    return f"{_fixed(estimate, decimals)} ({limit(lower)}, {limit(upper)})"
