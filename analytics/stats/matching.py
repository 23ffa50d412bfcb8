"""Propensity-score matching (seed 000): 1:1 greedy nearest neighbour on the logit of the PS.

* Propensity score: logistic regression of treatment on the chosen baseline covariates
  (statsmodels ``Logit`` with an intercept, maximum likelihood).
* Matching: 1:1 nearest neighbour **without replacement** on the logit of the PS, with a
  caliper of 0.2 × SD of the logit (Austin 2011, Pharm Stat 10:150; the SD is over all
  analysed patients, ddof = 1). ``caliper_sd`` changes the multiplier, None disables it.
* Order (greedy matching depends on it): treated patients are taken in the order of the input
  rows; each gets the unmatched control with the smallest |Δ logit|, ties going to the control
  that comes first in the input. The same input therefore always gives the same pairs.
* Balance: standardized mean differences before and after matching. Continuous:
  (x̄₁ − x̄₀)/√((s₁² + s₀²)/2); binary (values only 0/1): (p₁ − p₀)/√((p₁(1−p₁) + p₀(1−p₀))/2)
  (Austin 2009, Stat Med 28:3083).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

MIN_PER_ARM = 2


@dataclass(frozen=True)
class MatchResult:
    """Outcome of :func:`propensity_match`.

    ``data``: the analysed rows (all input columns) with ``propensity``, ``logit_ps`` and ``pair_id`` (NaN when
    unmatched). ``pairs``: pair_id, treated_index, control_index, distance (|Δ logit|).
    ``balance``: covariate, kind, mean_treated/control and smd before and after matching.
    """

    estimable: bool
    reason: str | None
    n_treated: int
    n_control: int
    n_pairs: int
    unmatched_treated: int
    unmatched_control: int
    rows_dropped: int
    caliper: float | None
    data: pd.DataFrame = field(repr=False)
    pairs: pd.DataFrame = field(repr=False)
    balance: pd.DataFrame = field(repr=False)
    coefficients: pd.Series = field(repr=False, default_factory=pd.Series)

    def matched(self) -> pd.DataFrame:
        """The matched cohort (both members of every pair) with its ``pair_id``."""
        return self.data[self.data["pair_id"].notna()]


def standardized_difference(treated: pd.Series, control: pd.Series) -> float:
    """SMD: binary columns use the proportions formula, others the pooled-SD formula."""
    if _is_binary(pd.concat([treated, control])):
        p1, p0 = treated.mean(), control.mean()
        denominator = np.sqrt((p1 * (1 - p1) + p0 * (1 - p0)) / 2)
        return float((p1 - p0) / denominator) if denominator > 0 else 0.0
    denominator = np.sqrt((treated.var(ddof=1) + control.var(ddof=1)) / 2)
    return float((treated.mean() - control.mean()) / denominator) if denominator > 0 else 0.0


def _is_binary(values: pd.Series) -> bool:
    return set(pd.unique(values.dropna())) <= {0, 1}


def balance_table(df: pd.DataFrame, treated: pd.Series, covariates: Sequence[str]) -> pd.DataFrame:
    rows = []
    for c in covariates:
        rows.append(
            {
                "covariate": c,
                "kind": "binary" if _is_binary(df[c]) else "continuous",
                "mean_treated": float(df.loc[treated, c].mean()),
                "mean_control": float(df.loc[~treated, c].mean()),
                "smd": standardized_difference(df.loc[treated, c], df.loc[~treated, c]),
            }
        )
    return pd.DataFrame(rows)


def greedy_match(
    logit_treated: pd.Series, logit_control: pd.Series, caliper: float | None
) -> pd.DataFrame:
    """1:1 greedy nearest neighbour without replacement (see the module docstring for order)."""
    available = logit_control.copy()
    pairs = []
    for treated_index, value in logit_treated.items():
        if available.empty:
            break
        distance = (available - value).abs()
        best = distance.to_numpy().argmin()  # first minimum → earliest control on ties
        if caliper is not None and distance.iloc[best] > caliper:
            continue
        control_index = available.index[best]
        pairs.append((treated_index, control_index, float(distance.iloc[best])))
        available = available.drop(control_index)
    frame = pd.DataFrame(pairs, columns=["treated_index", "control_index", "distance"])
    frame.insert(0, "pair_id", range(1, len(frame) + 1))
    return frame


def propensity_match(
    df: pd.DataFrame,
    treatment: str,
    covariates: Sequence[str],
    *,
    treated_value: object = 1,
    caliper_sd: float | None = 0.2,
) -> MatchResult:
    """Estimate propensity scores and match 1:1 (see module docstring). Never raises for data
    problems: too few patients per arm or a logistic model that cannot be fitted (perfect
    separation, singular design) give ``estimable=False`` with a reason."""
    import statsmodels.api as sm

    # Keep every column (outcomes are analysed in the matched cohort), complete cases only.
    used = df[df[[treatment, *covariates]].notna().all(axis=1)]
    rows_dropped = len(df) - len(used)
    treated = used[treatment] == treated_value
    n_treated, n_control = int(treated.sum()), int((~treated).sum())
    empty_pairs = pd.DataFrame(columns=["pair_id", "treated_index", "control_index", "distance"])

    def failure(reason: str, data: pd.DataFrame | None = None) -> MatchResult:
        return MatchResult(
            estimable=False,
            reason=reason,
            n_treated=n_treated,
            n_control=n_control,
            n_pairs=0,
            unmatched_treated=n_treated,
            unmatched_control=n_control,
            rows_dropped=rows_dropped,
            caliper=None,
            data=used.assign(pair_id=np.nan) if data is None else data,
            pairs=empty_pairs,
            balance=pd.DataFrame(),
        )

    if not used.index.is_unique:
        return failure("row index must be unique to identify matched patients")
    if min(n_treated, n_control) < MIN_PER_ARM:
        return failure(f"too few patients to match: {n_treated} treated, {n_control} control")

    design = sm.add_constant(used[list(covariates)].astype(float), has_constant="add")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # separation/convergence warnings → not estimable
            model = sm.Logit(treated.astype(float), design).fit(disp=0, maxiter=100)
    except Exception as exc:  # statsmodels signals separation with several exception types
        return failure(f"propensity model could not be fitted: {type(exc).__name__}: {exc}")
    propensity = model.predict(design)
    if not model.mle_retvals.get("converged", False):
        return failure("propensity model did not converge")
    if (propensity < 1e-8).any() or (propensity > 1 - 1e-8).any():
        return failure("perfect or quasi-perfect separation in the propensity model")

    logit = np.log(propensity / (1 - propensity))
    caliper = float(caliper_sd * logit.std(ddof=1)) if caliper_sd is not None else None
    pairs = greedy_match(logit[treated], logit[~treated], caliper)

    data = used.assign(propensity=propensity, logit_ps=logit, pair_id=np.nan)
    data.loc[pairs["treated_index"], "pair_id"] = pairs["pair_id"].to_numpy()
    data.loc[pairs["control_index"], "pair_id"] = pairs["pair_id"].to_numpy()

    matched = data[data["pair_id"].notna()]
    before = balance_table(data, treated, covariates)
    after = balance_table(matched, treated[matched.index], covariates)
    balance = before.merge(after, on=["covariate", "kind"], suffixes=("_before", "_after"))
    return MatchResult(
        estimable=True,
        reason=None if len(pairs) else "no treated patient had a control within the caliper",
        n_treated=n_treated,
        n_control=n_control,
        n_pairs=len(pairs),
        unmatched_treated=n_treated - len(pairs),
        unmatched_control=n_control - len(pairs),
        rows_dropped=rows_dropped,
        caliper=caliper,
        data=data,
        pairs=pairs,
        balance=balance,
        coefficients=model.params,
    )
