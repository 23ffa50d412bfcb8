"""Contingency-table tests: Pearson χ² without continuity correction, Fisher's exact for 2×2.

Pearson's χ² is computed **without** Yates' continuity correction
(``scipy.stats.chi2_contingency(correction=False)``): that is the "Pearson Chi-Square" row SPSS
reports, and it reproduces every χ² in seed 002 (see ``spec/ANALYSIS.md``). Where any expected
count is below 5 the χ² approximation is doubtful (Cochran 1954), so for 2×2 tables Fisher's
exact two-sided p is also returned and the row is flagged; the seed-compatible χ² is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

LOW_EXPECTED = 5.0


@dataclass(frozen=True)
class ChiSquareResult:
    """Pearson χ² test of independence on an r×c table of counts.

    ``observed`` is the table actually tested: levels absent from every group (an all-zero row
    or column) are dropped first, as SPSS Crosstabs does. When fewer than 2 rows or columns
    remain the test is not estimable (``estimable=False`` with a ``reason``), e.g. an adverse
    event with 0 events in both arms.
    """

    estimable: bool
    reason: str | None
    statistic: float | None
    df: int | None
    p_value: float | None
    min_expected: float | None
    low_expected: bool
    fisher_p: float | None
    observed: pd.DataFrame = field(repr=False)

    @property
    def test_name(self) -> str:
        return "Pearson χ² (no continuity correction)"


def chi_square_test(table: pd.DataFrame | np.ndarray | Sequence[Sequence[int]]) -> ChiSquareResult:
    """Pearson χ² (no continuity correction), df, p, minimum expected count, Fisher p for 2×2.

    ``table`` has one row per category and one column per group (the layout of
    :func:`crosstab`); the statistic is symmetric, the orientation only words the reasons.

    Never raises for degenerate tables: empty rows/columns are dropped and a table that is
    left with fewer than 2 rows or columns is returned with ``estimable=False``.
    """
    observed = (
        pd.DataFrame(np.asarray(table, dtype=float))
        if not isinstance(table, pd.DataFrame)
        else table.astype(float)
    )
    if (observed.to_numpy() < 0).any() or observed.isna().to_numpy().any():
        return _not_estimable(observed, "table has negative or missing counts")
    trimmed = observed.loc[observed.sum(axis=1) > 0, observed.sum(axis=0) > 0]
    if trimmed.shape[0] < 2 or trimmed.shape[1] < 2:
        if observed.to_numpy().sum() == 0:
            reason = "no observations"
        elif trimmed.shape[1] < 2:
            reason = "only one group has observations"
        else:
            reason = "only one category observed across all groups (e.g. no events in any group)"
        return _not_estimable(observed, reason)

    counts = trimmed.to_numpy()
    statistic, p_value, dof, expected = stats.chi2_contingency(counts, correction=False)
    min_expected = float(expected.min())
    low_expected = min_expected < LOW_EXPECTED
    fisher_p = None
    if low_expected and counts.shape == (2, 2):
        fisher_p = float(stats.fisher_exact(counts, alternative="two-sided").pvalue)
    return ChiSquareResult(
        estimable=True,
        reason=None,
        statistic=float(statistic),
        df=int(dof),
        p_value=float(p_value),
        min_expected=min_expected,
        low_expected=low_expected,
        fisher_p=fisher_p,
        observed=trimmed.astype(int),
    )


def _not_estimable(observed: pd.DataFrame, reason: str) -> ChiSquareResult:
    return ChiSquareResult(
        estimable=False,
        reason=reason,
        statistic=None,
        df=None,
        p_value=None,
        min_expected=None,
        low_expected=False,
        fisher_p=None,
        observed=observed,
    )


def crosstab(
    df: pd.DataFrame,
    variable: str,
    group: str,
    *,
    levels: Sequence[object] | None = None,
    group_order: Sequence[object] | None = None,
) -> pd.DataFrame:
    """Counts with one row per level of ``variable`` and one column per group.

    Rows with a missing value in ``variable`` or ``group`` are left out (complete cases for the
    row), as SPSS Crosstabs does. ``levels``/``group_order`` fix the order and keep levels with
    zero count so that a table always shows every category the CRF allows.
    """
    data = df[[variable, group]].dropna()
    table = pd.crosstab(data[variable], data[group])
    if levels is not None:
        table = table.reindex(index=list(levels), fill_value=0)
    if group_order is not None:
        table = table.reindex(columns=list(group_order), fill_value=0)
    table.index.name = variable
    table.columns.name = group
    return table.astype(int)


def compare_proportions(events: Sequence[int], totals: Sequence[int]) -> ChiSquareResult:
    """χ² for "events out of totals" in two or more groups (e.g. ORR 8/39 vs 23/56)."""
    table = np.array([[e, t - e] for e, t in zip(events, totals, strict=True)])
    return chi_square_test(table.T)
