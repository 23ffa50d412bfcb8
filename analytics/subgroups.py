"""Landmark and subgroup analyses of a two-group comparison on a survival endpoint.

* ``landmark``: the comparison among the patients still followed at the landmark time L —
  their time is longer than L (an event or censoring at L itself means not followed beyond
  it) — with time counted from L (Anderson, Cain & Gelber 1983, J Clin Oncol 1:710–719;
  R: ``subset(d, time > L)``, ``Surv(time - L, event)``). Returns the log-rank test and the
  Cox hazard ratio of the compared group in that landmark cohort.
* ``subgroups``: the hazard ratio of the compared group within each level of each chosen
  variable (a Cox model of the group alone in that level's patients) and the interaction P:
  the likelihood-ratio test of ``group × variable`` (R
  ``anova(coxph(~ group + v), coxph(~ group * v))``) on the patients with the variable
  known, with (levels − 1) df. ``subgroup_forest_rows`` gives the rows of the report's forest
  plot (``analytics.reports.figures.forest_figure``).

Cox models are ``analytics.stats.cox.fit_cox`` (R ``coxph``, Efron ties); log-rank is
``analytics.stats.survival.logrank`` (R ``survdiff``). Pure pandas.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analytics.groupings import level_text
from analytics.stats.cox import CoxResult, fit_cox
from analytics.stats.formatting import format_estimate_ci, format_p
from analytics.stats.survival import LogRankResult, logrank

COMPARED = "_compared"  # 1 = the compared group, 0 = the reference group


def _indicator(frame: pd.DataFrame, group: str, reference: str, compared: str) -> pd.DataFrame:
    data = frame[frame[group].isin((reference, compared))].copy()
    data[COMPARED] = (data[group] == compared).astype(float)
    return data


@dataclass(frozen=True)
class LandmarkResult:
    landmark: float
    n: int  # patients still followed at the landmark
    excluded: int  # patients with an event or censored by the landmark
    logrank: LogRankResult
    cox: CoxResult


def landmark(
    frame: pd.DataFrame,
    duration: str,
    event: str,
    group: str,
    reference: str,
    compared: str,
    at: float,
) -> LandmarkResult:
    if not np.isfinite(at) or at < 0:
        raise ValueError(f"landmark time {at!r}: a time of 0 or more, in the endpoint's unit")
    data = _indicator(frame, group, reference, compared).dropna(subset=[duration, event])
    followed = data[data[duration].astype(float) > at].copy()
    followed[duration] = followed[duration].astype(float) - at
    return LandmarkResult(
        landmark=at,
        n=len(followed),
        excluded=len(data) - len(followed),
        logrank=logrank(followed, duration, event, group, group_order=[reference, compared]),
        cox=fit_cox(followed, duration, event, [COMPARED]),
    )


@dataclass(frozen=True)
class SubgroupRow:
    variable: str
    level: str
    n: int
    events: int
    cox: CoxResult


@dataclass(frozen=True)
class SubgroupAnalysis:
    rows: list[SubgroupRow]
    interaction_p: dict[str, float | None]  # variable → LR test of group × variable
    interaction_df: dict[str, int]


def subgroups(
    frame: pd.DataFrame,
    duration: str,
    event: str,
    group: str,
    reference: str,
    compared: str,
    variables: dict[str, Sequence[str]],
) -> SubgroupAnalysis:
    """``variables``: column → its levels in the order shown (levels compared as text)."""
    data = _indicator(frame, group, reference, compared).dropna(subset=[duration, event])
    rows: list[SubgroupRow] = []
    interaction_p: dict[str, float | None] = {}
    interaction_df: dict[str, int] = {}
    for variable, levels in variables.items():
        if variable not in data.columns:
            raise ValueError(f"subgroup variable {variable!r} is not in the dataset")
        text = data[variable].map(level_text)
        levels = [level_text(level) for level in levels]
        for level in levels:
            part = data[text == level]
            rows.append(
                SubgroupRow(
                    variable,
                    level,
                    len(part),
                    int(part[event].sum()),
                    fit_cox(part, duration, event, [COMPARED]),
                )
            )
        p, df = _interaction(data[text.isin(levels)], text, duration, event, levels)
        interaction_p[variable], interaction_df[variable] = p, df
    return SubgroupAnalysis(rows, interaction_p, interaction_df)


def _interaction(
    data: pd.DataFrame, text: pd.Series, duration: str, event: str, levels: list[str]
) -> tuple[float | None, int]:
    """LR test of the group × level terms: 2 × (log L with − log L without), from the two
    models' likelihood-ratio statistics against the same null on the same rows."""
    present = [level for level in levels if (text.loc[data.index] == level).any()]
    design = data[[duration, event, COMPARED]].copy()
    mains, products = [], []
    for level in present[1:]:  # the first present level is the reference
        indicator = (text.loc[data.index] == level).astype(float)
        design[f"_level[{level}]"] = indicator
        design[f"_x[{level}]"] = indicator * design[COMPARED]
        mains.append(f"_level[{level}]")
        products.append(f"_x[{level}]")
    if not products:
        return None, 0
    main = fit_cox(design, duration, event, [COMPARED, *mains], firth=False)
    full = fit_cox(design, duration, event, [COMPARED, *mains, *products], firth=False)
    if not (main.estimable and full.estimable) or full.dropped_covariates:
        return None, len(products)
    statistic = float(full.lr_statistic) - float(main.lr_statistic)
    df = int(full.lr_df) - int(main.lr_df)
    return float(stats.chi2.sf(max(statistic, 0.0), df)), df


def subgroup_forest_rows(analysis: SubgroupAnalysis, labels: dict[str, str]) -> pd.DataFrame:
    """Rows of the subgroup forest plot: one per level ("<variable label>: <level>") with the
    HR (95% CI), n and the interaction P on each variable's first row."""
    out = []
    seen: set[str] = set()
    for row in analysis.rows:
        coefficients = row.cox.coefficients
        if row.cox.estimable and len(coefficients):
            hr, lower, upper = (
                float(coefficients[c].iloc[0]) for c in ("hr", "hr_lower", "hr_upper")
            )
            text = f"{format_estimate_ci(hr, lower, upper)}; n = {row.n}"
        else:
            hr = lower = upper = float("nan")
            text = f"not estimable ({row.cox.reason}); n = {row.n}"
        if row.variable not in seen:
            seen.add(row.variable)
            p = analysis.interaction_p.get(row.variable)
            text += f"; interaction P = {format_p(p)}" if p is not None else ""
        label = f"{labels.get(row.variable, row.variable)}: {row.level}"
        out.append({"label": label, "hr": hr, "lower": lower, "upper": upper, "text": text})
    return pd.DataFrame(out, columns=["label", "hr", "lower", "upper", "text"])
