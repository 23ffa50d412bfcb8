"""Proportional-hazards test of a fitted Cox model, as R survival ≥ 3.0 ``cox.zph``.

Method (Therneau, survival 3.x: ``R/cox.zph.R`` and ``src/zph1.c``; vignette "The
cox.zph function", survival package, 2019 onwards; Grambsch & Therneau, Biometrika 1994):
the model is extended by the time-varying terms x·g(t), where g is the transformed time
centred at its mean over the deaths, and the hypothesis "their coefficients are 0" is
tested with a score test at (β̂, 0) — one Newton step from the fitted model, with no
approximation of the information matrix. With U the score of the new terms and
I = [[I, I_g], [I_g, I_gg]] the 2p×2p information,

* per term (the columns jj of one covariate; a k-level factor has k − 1 columns and is one
  test on k − 1 df): χ² = uᵀ I[kk, kk]⁻¹ u with kk = (1…p, p + jj) and u = (0, U_jj);
* GLOBAL: χ² = (0, U)ᵀ I⁻¹ (0, U) on p df.

Survival 2.x (≤ 2.44) instead approximated the information by assuming the variance of x is
constant over time (the formula of Grambsch & Therneau 1994 based on scaled Schoenfeld
residuals); on R's ``veteran`` data that approximation and the exact test can lead to
opposite conclusions, so only the exact test is implemented here.

Transforms as R: "km" (default) = 1 − left-continuous Kaplan–Meier of all rows, "rank" =
rank of the time among all rows (ties averaged), "identity", "log". Ties are Efron's, as in
the fitted model (R ``coxph``'s default).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from analytics.stats import _risksets

TimeTransform = Literal["km", "rank", "identity", "log"]
PH_COLUMNS = ["term", "chisq", "df", "p"]


def cox_zph(
    data: pd.DataFrame,
    duration: str,
    event: str,
    columns: Sequence[str],
    beta: np.ndarray,
    *,
    terms: Mapping[str, Sequence[str]] | None = None,
    transform: TimeTransform = "km",
) -> pd.DataFrame:
    """The ``cox.zph(fit, transform)$table`` of a fitted model: term, chisq, df, p + GLOBAL.

    ``data`` are the rows the model was fitted on (no missing values, event 0/1), ``columns``
    its design columns in the order of ``beta``. ``terms`` maps a term name to its design
    columns (a categorical covariate's dummies); columns in no term are their own term.
    """
    names = list(columns)
    term_map = _term_map(names, terms)
    rows = _risksets.sort_survival(
        data[duration].to_numpy(dtype=float), data[event].to_numpy(dtype=bool)
    )
    x = data[names].to_numpy(dtype=float)[rows.order]
    g = transformed_times(rows, transform)
    g = g - g.mean()
    score, info, info_g, info_gg = _risksets.efron_zph_blocks(
        rows, x, np.asarray(beta, dtype=float), g
    )
    p = len(names)
    full = np.block([[info, info_g], [info_g.T, info_gg]])
    u = np.concatenate([np.zeros(p), score])
    table = []
    for term, positions in term_map.items():
        kk = [*range(p), *(p + j for j in positions)]
        u_term = np.concatenate([np.zeros(p), score[positions]])
        chisq = float(u_term @ np.linalg.solve(full[np.ix_(kk, kk)], u_term))
        table.append(_row(term, chisq, len(positions)))
    table.append(_row("GLOBAL", float(u @ np.linalg.solve(full, u)), p))
    return pd.DataFrame(table, columns=PH_COLUMNS)


def _row(term: str, chisq: float, df: int) -> dict[str, object]:
    return {"term": term, "chisq": chisq, "df": df, "p": float(stats.chi2.sf(chisq, df))}


def _term_map(names: list[str], terms: Mapping[str, Sequence[str]] | None) -> dict[str, list[int]]:
    """Term → positions of its columns, in the order of the columns' first appearance."""
    owner = {}
    for term, members in (terms or {}).items():
        for column in members:
            owner[column] = term
    mapping: dict[str, list[int]] = {}
    for position, name in enumerate(names):
        mapping.setdefault(owner.get(name, name), []).append(position)
    return mapping


def transformed_times(rows: _risksets.SortedSurvival, transform: TimeTransform) -> np.ndarray:
    """g(t) at each death (``rows.death_rows`` order), before centring; R ``cox.zph``'s
    ``ttimes`` evaluated at the deaths."""
    times = rows.time[rows.death_rows]
    if transform == "km":
        return _risksets.km_before_deaths(rows)
    if transform == "rank":
        return stats.rankdata(rows.time)[rows.death_rows]
    if transform == "identity":
        return times.copy()
    if transform == "log":
        return np.log(times)
    raise ValueError(f"unknown time transform {transform!r}; use km, rank, identity or log")
