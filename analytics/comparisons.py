"""Comparing two or more groups on a survival endpoint, with covariates from the dictionary.

* ``compare_survival``: the log-rank test of all groups at once (k − 1 df, R ``survdiff``)
  and every pair's log-rank P, adjusted for the number of pairs by Holm's step-down method
  (Holm 1979, Scand J Statist 6:65–70; R ``p.adjust(method = "holm")``), or not at all.
* ``cox_models``: a univariable Cox model of the grouping (if it is in the model) and of each
  candidate covariate, then the multivariable model — the grouping (unless left out) with
  every candidate (a fixed list) or those whose univariable P is below a threshold. A
  categorical term's univariable P is its likelihood-ratio test on k − 1 df (as the report's
  Cox section). Models are ``analytics.stats.cox.fit_cox`` (R ``coxph``, Efron ties, Firth
  fallback); covariates are coded by ``analytics.covariates``.

Pure pandas; the report and the run form call these.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.covariates import Coding, Covariate
from analytics.stats.cox import CoxResult, fit_cox
from analytics.stats.survival import LogRankResult, logrank
from analytics.variables import materialise

ADJUSTMENTS = {
    "holm": "Holm's step-down adjustment for the number of pairs (R p.adjust, method = 'holm')",
    "none": "not adjusted for multiple comparisons",
}
SELECTIONS = ("all", "univariable_p")
GROUP_TERM = "group"


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm-adjusted P values, as R ``p.adjust(p, "holm")``: the i-th smallest of m P values
    times (m − i + 1), made non-decreasing in that order and capped at 1. Missing P values
    (None/NaN) stay missing and do not count in m."""
    values = np.array([np.nan if p is None else float(p) for p in p_values], dtype=float)
    known = np.flatnonzero(~np.isnan(values))
    m = len(known)
    adjusted = np.full(len(values), np.nan)
    if m:
        order = known[np.argsort(values[known], kind="stable")]
        scaled = values[order] * (m - np.arange(m))
        adjusted[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    return [None if np.isnan(a) else float(a) for a in adjusted]


@dataclass(frozen=True)
class SurvivalComparison:
    overall: LogRankResult  # all groups: χ² on k − 1 df
    pairwise: pd.DataFrame  # group_a, group_b, statistic, p, p_adjusted
    adjustment: str


def compare_survival(
    frame: pd.DataFrame,
    duration: str,
    event: str,
    group: str,
    groups: Sequence[str],
    *,
    adjustment: str = "holm",
) -> SurvivalComparison:
    if adjustment not in ADJUSTMENTS:
        raise ValueError(f"adjustment {adjustment!r}: choose one of {', '.join(ADJUSTMENTS)}")
    overall = logrank(frame, duration, event, group, group_order=list(groups))
    rows = []
    for a, b in itertools.combinations(groups, 2):
        pair = frame[frame[group].isin((a, b))]
        result = logrank(pair, duration, event, group, group_order=[a, b])
        rows.append((a, b, result.statistic, result.p_value))
    pairwise = pd.DataFrame(rows, columns=["group_a", "group_b", "statistic", "p"])
    pairwise["p_adjusted"] = (
        holm(pairwise["p"].tolist()) if adjustment == "holm" else pairwise["p"].tolist()
    )
    return SurvivalComparison(overall, pairwise, ADJUSTMENTS[adjustment])


@dataclass(frozen=True)
class CoxModels:
    univariable: dict[str, CoxResult]  # term → its model (GROUP_TERM for the grouping)
    term_p: dict[str, float | None]
    selected: list[str]  # covariate names in the multivariable model
    multivariable: CoxResult | None  # None: no term to fit
    labels: dict[str, str]  # design column → printed label
    selection: str
    threshold: float | None


def group_covariate(group: str, groups: Sequence[str], reference: str) -> Covariate:
    """The grouping as a categorical term: one indicator per group against ``reference``."""
    return Covariate(
        GROUP_TERM, "Group", Coding.CATEGORICAL, group, levels=tuple(groups), reference=reference
    )


def cox_models(
    frame: pd.DataFrame,
    duration: str,
    event: str,
    covariates: Sequence[Covariate],
    *,
    group: str | None = None,
    groups: Sequence[str] = (),
    reference: str | None = None,
    selection: str = "all",
    threshold: float = 0.1,
) -> CoxModels:
    """Univariable models of the grouping (when ``group`` is given) and of every covariate,
    then the multivariable model of the grouping and the selected covariates."""
    if selection not in SELECTIONS:
        raise ValueError(f"selection {selection!r}: choose one of {', '.join(SELECTIONS)}")
    terms_of: list[Covariate] = []
    data = materialise(frame, covariates)
    if group is not None:
        grouping = group_covariate(group, groups, reference or groups[0])
        terms_of.append(grouping)
        data[GROUP_TERM] = data[group]
    terms_of.extend(covariates)
    designs = {c.name: c.design(data) for c in terms_of}
    model_frame = pd.concat([data[[duration, event]], *designs.values()], axis=1)
    terms = {name: list(design.columns) for name, design in designs.items()}
    labels = {
        column: c.column_label(column) for c in terms_of for column in designs[c.name].columns
    }
    univariable = {
        name: fit_cox(model_frame, duration, event, columns, terms={name: columns})
        for name, columns in terms.items()
    }
    term_p = {name: _term_p(model) for name, model in univariable.items()}
    names = [c.name for c in covariates]
    if selection == "univariable_p":
        selected = [n for n in names if term_p[n] is not None and term_p[n] < threshold]
    else:
        selected = names
    in_model = ([GROUP_TERM] if group is not None else []) + selected
    multivariable = None
    if in_model:
        columns = [column for name in in_model for column in terms[name]]
        multivariable = fit_cox(
            model_frame, duration, event, columns, terms={n: terms[n] for n in in_model}
        )
    return CoxModels(
        univariable,
        term_p,
        selected,
        multivariable,
        labels,
        selection,
        threshold if selection == "univariable_p" else None,
    )


def _term_p(model: CoxResult) -> float | None:
    if not model.estimable or model.coefficients.empty:
        return None
    if len(model.coefficients) == 1:
        return float(model.coefficients["p"].iloc[0])
    return model.lr_p
