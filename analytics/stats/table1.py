"""Baseline comparison between two arms ("Table 1"), with the seed 002 method choices.

Continuous variables: Shapiro–Wilk per group (Shapiro & Wilk 1965); when every group has
p ≥ 0.05 the variable is summarised as mean ± SD and compared with Student's t-test (equal
variances, as SPSS's "equal variances assumed" row the seed reports); otherwise as
median (Q1, Q3) and compared with the Mann–Whitney U test reported as Z.

Quartiles use SPSS's default weighted-average definition (HAVERAGE: the p-th quantile is at
position (n + 1)·p), which is numpy's ``method="weibull"`` (Hyndman & Fan 1996, type 6),
because the seed's medians and IQRs come from SPSS.

Categorical variables: n (%) per group and Pearson χ² without continuity correction
(see :mod:`analytics.stats.categorical`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from analytics.stats.categorical import ChiSquareResult, chi_square_test, crosstab
from analytics.stats.formatting import (
    format_count_pct,
    format_mean_sd,
    format_median_iqr,
    format_p,
    format_stat,
)

QUANTILE_METHOD = "weibull"  # SPSS HAVERAGE, Hyndman & Fan type 6
NORMALITY_ALPHA = 0.05

# Footnotes as in seed 002 Table 1 (a–e), plus "f" for this registry's Fisher addition.
FOOTNOTES: dict[str, str] = {
    "a": "The Shapiro–Wilk test was used to assess normality.",
    "b": "A P-value < 0.05 was considered statistically significant.",
    "c": "Normally distributed data are presented as mean ± standard deviation and compared "
    "with the independent-samples t-test.",
    "d": "Non-normally distributed data are presented as median (Q1, Q3) and compared with "
    "the Mann–Whitney U test (Z).",
    "e": "Categorical data are presented as n (%) and compared with Pearson's χ² test "
    "without continuity correction.",
    "f": "At least one expected count < 5; Fisher's exact P is also given for 2×2 tables.",
}


@dataclass(frozen=True)
class VariableSpec:
    """One Table 1 variable: the column, its label, and how it is summarised.

    ``levels`` fixes the order of categories (and keeps zero-count ones);
    ``level_labels`` maps stored codes to the labels printed in the table.
    """

    column: str
    label: str
    kind: Literal["continuous", "categorical"]
    levels: tuple[object, ...] | None = None
    level_labels: Mapping[object, str] | None = None
    decimals: int = 2


@dataclass(frozen=True)
class GroupSummary:
    group: object
    n: int
    mean: float | None
    sd: float | None
    median: float | None
    q1: float | None
    q3: float | None
    shapiro_p: float | None


@dataclass(frozen=True)
class ContinuousComparison:
    """Result of :func:`compare_continuous` for two groups.

    ``statistic_kind`` is "t" (Student's t, group 1 minus group 2) or "Z" (Mann–Whitney).
    """

    variable: str
    estimable: bool
    reason: str | None
    normal: bool
    groups: tuple[GroupSummary, ...]
    summaries: tuple[str, ...]
    statistic: float | None
    statistic_kind: Literal["t", "Z"]
    p_value: float | None
    test_name: str
    footnote: str


@dataclass(frozen=True)
class CategoricalComparison:
    """Result of :func:`compare_categorical`: counts, ``n (%)`` text per level, and χ²."""

    variable: str
    counts: pd.DataFrame = field(repr=False)
    summaries: pd.DataFrame = field(repr=False)
    chi_square: ChiSquareResult = field(repr=False)

    @property
    def footnote(self) -> str:
        return "e,f" if self.chi_square.low_expected else "e"


def spss_quartiles(values: np.ndarray) -> tuple[float, float, float]:
    """Q1, median, Q3 with SPSS's weighted-average (HAVERAGE) definition."""
    q1, median, q3 = np.quantile(values, [0.25, 0.5, 0.75], method=QUANTILE_METHOD)
    return float(q1), float(median), float(q3)


def shapiro_p(values: np.ndarray) -> float | None:
    """Shapiro–Wilk p, or None when it cannot be computed (n < 3 or no spread)."""
    if len(values) < 3 or np.ptp(values) == 0:
        return None
    return float(stats.shapiro(values).pvalue)


def mann_whitney_z(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Mann–Whitney U as Z (normal approximation with tie correction) and two-sided p.

    Matches SPSS's "Asymp. Sig." (no continuity correction). SPSS computes Z from the smaller
    of U₁ and U₂, so the Z it prints, and seed 002 reports (e.g. −0.851), is never positive:
    Z = (min(U₁, U₂) − n₁n₂/2) / σ_U. The sign therefore carries no direction; read the
    direction from the medians.
    """
    n1, n2 = len(a), len(b)
    ranks = stats.rankdata(np.concatenate([a, b]))
    u1 = ranks[:n1].sum() - n1 * (n1 + 1) / 2
    u = min(u1, n1 * n2 - u1)
    n = n1 + n2
    _, tie_counts = np.unique(ranks, return_counts=True)
    tie_term = (tie_counts**3 - tie_counts).sum() / (n * (n - 1))
    sigma = math.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term))
    if sigma == 0:
        return 0.0, 1.0
    z = (u - n1 * n2 / 2) / sigma
    return float(z), float(2 * stats.norm.cdf(z))


def _summarise_group(group: object, values: np.ndarray) -> GroupSummary:
    if len(values) == 0:
        return GroupSummary(group, 0, None, None, None, None, None, None)
    q1, median, q3 = spss_quartiles(values)
    sd = float(np.std(values, ddof=1)) if len(values) > 1 else None
    return GroupSummary(
        group, len(values), float(values.mean()), sd, median, q1, q3, shapiro_p(values)
    )


def _ordered_groups(
    df: pd.DataFrame, group: str, group_order: Sequence[object] | None
) -> list[object]:
    if group_order is not None:
        return list(group_order)
    return sorted(df[group].dropna().unique().tolist())


def compare_continuous(
    df: pd.DataFrame,
    variable: str,
    group: str,
    *,
    group_order: Sequence[object] | None = None,
    decimals: int = 2,
) -> ContinuousComparison:
    """Compare a continuous variable between two groups by the seed 002 rule.

    Shapiro–Wilk in each group; if all p ≥ 0.05 → mean ± SD and Student's t (equal variances),
    else median (Q1, Q3) and Mann–Whitney Z. A group with fewer than 3 values cannot be tested
    for normality and is treated as non-normal. Missing values are left out per variable.
    """
    groups = _ordered_groups(df, group, group_order)
    samples = [df.loc[df[group] == g, variable].dropna().to_numpy(dtype=float) for g in groups]
    summaries = tuple(_summarise_group(g, s) for g, s in zip(groups, samples, strict=True))
    normal = all(s.shapiro_p is not None and s.shapiro_p >= NORMALITY_ALPHA for s in summaries)
    kind: Literal["t", "Z"] = "t" if normal else "Z"
    texts = tuple(
        format_mean_sd(s.mean, s.sd, decimals)
        if normal
        else format_median_iqr(s.median, s.q1, s.q3, decimals)
        for s in summaries
    )

    def result(
        statistic: float | None, p: float | None, reason: str | None
    ) -> ContinuousComparison:
        return ContinuousComparison(
            variable=variable,
            estimable=reason is None,
            reason=reason,
            normal=normal,
            groups=summaries,
            summaries=texts,
            statistic=statistic,
            statistic_kind=kind,
            p_value=p,
            test_name="Student's t-test" if normal else "Mann–Whitney U test",
            footnote="c" if normal else "d",
        )

    if len(groups) != 2:
        return result(None, None, f"needs exactly 2 groups, found {len(groups)}")
    if any(len(s) == 0 for s in samples):
        return result(None, None, "a group has no non-missing values")
    if normal:
        test = stats.ttest_ind(samples[0], samples[1], equal_var=True)
        return result(float(test.statistic), float(test.pvalue), None)
    z, p = mann_whitney_z(samples[0], samples[1])
    return result(z, p, None)


def compare_categorical(
    df: pd.DataFrame,
    variable: str,
    group: str,
    *,
    levels: Sequence[object] | None = None,
    group_order: Sequence[object] | None = None,
) -> CategoricalComparison:
    """n (%) per level and group (percent of the group's non-missing values) and Pearson χ²."""
    groups = _ordered_groups(df, group, group_order)
    counts = crosstab(df, variable, group, levels=levels, group_order=groups)
    totals = counts.sum(axis=0)
    summaries = pd.DataFrame(
        {g: [format_count_pct(int(n), int(totals[g])) for n in counts[g]] for g in groups},
        index=counts.index,
    )
    return CategoricalComparison(
        variable=variable, counts=counts, summaries=summaries, chi_square=chi_square_test(counts)
    )


TABLE_ONE_COLUMNS = [
    "variable",
    "label",
    "level",
    "statistic",
    "statistic_kind",
    "statistic_text",
    "p_value",
    "p_text",
    "test",
    "footnote",
    "fisher_p",
    "fisher_p_text",
    "reason",
]


def table_one(
    df: pd.DataFrame,
    group: str,
    variables: Sequence[VariableSpec],
    *,
    group_order: Sequence[object] | None = None,
) -> pd.DataFrame:
    """Seed 002 Table 1: one row per variable, plus one row per level of categorical variables.

    Columns: ``variable``, ``label``, ``level`` (None on a variable's header row), one summary
    column per group (named by the group value), ``statistic``, ``statistic_kind``
    ("t", "Z" or "χ²"), ``statistic_text``, ``p_value``, ``p_text``, ``test``, ``footnote``
    (keys of :data:`FOOTNOTES`), ``fisher_p``/``fisher_p_text`` (2×2 with expected < 5) and
    ``reason`` (why a test was not estimable).
    """
    groups = _ordered_groups(df, group, group_order)
    rows: list[dict[str, object]] = []
    for spec in variables:
        if spec.kind == "continuous":
            cont = compare_continuous(
                df, spec.column, group, group_order=groups, decimals=spec.decimals
            )
            row = _row(
                spec,
                None,
                cont.statistic,
                cont.statistic_kind,
                cont.p_value,
                cont.test_name,
                cont.footnote,
            )
            row.update(dict(zip(groups, cont.summaries, strict=True)))
            row["reason"] = cont.reason
            rows.append(row)
            continue
        cat = compare_categorical(df, spec.column, group, levels=spec.levels, group_order=groups)
        chi = cat.chi_square
        header = _row(spec, None, chi.statistic, "χ²", chi.p_value, chi.test_name, cat.footnote)
        header.update(dict.fromkeys(groups, ""))
        header["fisher_p"] = chi.fisher_p
        header["fisher_p_text"] = format_p(chi.fisher_p) if chi.fisher_p is not None else ""
        header["reason"] = chi.reason
        rows.append(header)
        labels = spec.level_labels or {}
        for level in cat.summaries.index:
            level_row: dict[str, object] = {
                "variable": spec.column,
                "label": spec.label,
                "level": labels.get(level, str(level)),
            }
            level_row.update({g: cat.summaries.loc[level, g] for g in groups})
            rows.append(level_row)
    frame = pd.DataFrame(rows)
    columns = ["variable", "label", "level", *groups, *TABLE_ONE_COLUMNS[3:]]
    return frame.reindex(columns=columns)


def _row(
    spec: VariableSpec,
    level: object,
    statistic: float | None,
    kind: str,
    p_value: float | None,
    test: str,
    footnote: str,
) -> dict[str, object]:
    return {
        "variable": spec.column,
        "label": spec.label,
        "level": level,
        "statistic": statistic,
        "statistic_kind": kind,
        "statistic_text": format_stat(statistic),
        "p_value": p_value,
        "p_text": format_p(p_value),
        "test": test,
        "footnote": footnote,
        "fisher_p": None,
        "fisher_p_text": "",
        "reason": None,
    }


def patients_from_counts(
    arm_sizes: Mapping[object, int],
    variables: Mapping[str, Mapping[object, Mapping[object, int]]],
    *,
    group: str = "arm",
) -> pd.DataFrame:
    """One row per patient reconstructed from published counts, e.g. a seed's Table 1.

    ``variables`` maps a column to ``{arm: {level: count}}``. Levels are laid out in the
    given order within each arm; patients beyond a variable's counted total get a missing
    value (so counts may describe a subset, like a per-variable complete-case count).
    The layout is arbitrary, so such a frame reproduces marginal tables (χ² per variable)
    but not any association between variables.
    """
    frames = []
    for arm, size in arm_sizes.items():
        data: dict[str, list[object]] = {group: [arm] * size}
        for column, per_arm in variables.items():
            values: list[object] = []
            for level, count in per_arm.get(arm, {}).items():
                values.extend([level] * count)
            if len(values) > size:
                raise ValueError(f"{column}: counts for {arm!r} exceed the arm size {size}")
            data[column] = values + [None] * (size - len(values))
        frames.append(pd.DataFrame(data))
    return pd.concat(frames, ignore_index=True)
