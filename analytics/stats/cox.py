"""Multivariable Cox proportional-hazards model, as R ``coxph`` with its defaults.

Fitting is lifelines' Newton–Raphson on the partial likelihood with Efron's tie handling (R
``coxph``'s default ``ties = "efron"``): the same normalisation, step sizes and stopping rules,
with the log-likelihood, gradient and Hessian computed by vectorised risk-set sums
(``_risksets``) instead of lifelines' Python loop over times. Where that iteration does not end
cleanly (separation, singular Hessian) and with ``cluster_col``, lifelines' ``CoxPHFitter``
itself is used, so its warnings and robust variance are unchanged. The null log-likelihood of
the LR test is the first iteration's (β = 0), as in lifelines. Reported: coef, HR, 95% Wald CI, SE,
z and Wald p per covariate; n, events, rows dropped for missing data; the likelihood-ratio
test against the null model; Harrell's concordance; and a proportional-hazards check.

``cluster_col`` gives the robust (sandwich, grouped-jackknife) variance clustered on e.g. the
matched pair, as R ``coxph(..., cluster = pair)``; coefficients are unchanged, SE/z/p/CI use
the robust variance, and the LR test stays the model-based one (R prints the same).

Proportional hazards: test on scaled Schoenfeld residuals per covariate and globally, with the
formula of R ``cox.zph`` in survival **2.x** (≤ 2.44, before the 3.0 rewrite of late 2019):
with g(t) the transformed event times centred at their mean, S the d×p Schoenfeld residuals
and V the coefficient variance, the covariate-k statistic is
(Σ g·(d·S·V)ₖ)² / (d·Vₖₖ·Σg²) on 1 df and the global one (gᵀS)V(Sᵀg)·d/Σg² on p df.
Survival ≥ 3.0 computes an exact score test instead, so its numbers differ slightly; the
default transform ("km", 1 − left-continuous Kaplan–Meier) is R's default in both versions.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from analytics.stats import _risksets

TimeTransform = Literal["km", "rank", "identity", "log"]


@dataclass(frozen=True)
class DroppedCovariate:
    covariate: str
    reason: str


@dataclass(frozen=True)
class CoxResult:
    """A fitted Cox model in tidy form.

    ``coefficients``: covariate, coef, hr, hr_lower, hr_upper, se, z, p (95% Wald CI).
    ``ph_test``: covariate (plus "GLOBAL"), chisq, df, p.
    When ``estimable`` is False the frames are empty and ``reason`` says why.
    """

    estimable: bool
    reason: str | None
    n: int
    events: int
    rows_dropped: int
    dropped_covariates: tuple[DroppedCovariate, ...]
    coefficients: pd.DataFrame = field(repr=False)
    lr_statistic: float | None = None
    lr_df: int | None = None
    lr_p: float | None = None
    concordance: float | None = None
    robust: bool = False
    cluster_col: str | None = None
    ph_test: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    ph_transform: str = "km"

    def to_frame(self) -> pd.DataFrame:
        return self.coefficients


def fit_cox(
    df: pd.DataFrame,
    duration: str,
    event: str,
    covariates: Sequence[str],
    *,
    cluster_col: str | None = None,
    ph_transform: TimeTransform = "km",
) -> CoxResult:
    """Fit ``coxph(Surv(duration, event) ~ covariates [, cluster = cluster_col])``.

    Covariates must already be numerically coded (the report states the coding, e.g. BCLC
    A/B = 0 vs C = 1). Rows with a missing value in any used column are dropped and counted,
    as R's default ``na.action = na.omit``. A covariate that is constant in the analysed rows
    is dropped with a reason (R would return NA for it). Never raises for data problems:
    no events, too few events or a failed fit give ``estimable=False`` and a reason.
    """
    from lifelines.exceptions import ConvergenceError, ConvergenceWarning

    used = [duration, event, *covariates] + ([cluster_col] if cluster_col else [])
    complete = df[used].dropna()
    rows_dropped = len(df) - len(complete)
    events = int(complete[event].astype(bool).sum())
    dropped = tuple(
        DroppedCovariate(c, "constant in the analysed rows")
        for c in covariates
        if complete[c].nunique() < 2
    )
    kept = [c for c in covariates if c not in {d.covariate for d in dropped}]

    def failure(reason: str) -> CoxResult:
        return CoxResult(
            estimable=False,
            reason=reason,
            n=len(complete),
            events=events,
            rows_dropped=rows_dropped,
            dropped_covariates=dropped,
            coefficients=pd.DataFrame(columns=COEFFICIENT_COLUMNS),
            robust=cluster_col is not None,
            cluster_col=cluster_col,
            ph_transform=ph_transform,
        )

    if not kept:
        return failure("no covariate varies in the analysed rows")
    if events == 0:
        return failure("no events")
    if events <= len(kept):
        return failure(f"too few events ({events}) for {len(kept)} covariates")

    data = complete[[duration, event, *kept] + ([cluster_col] if cluster_col else [])].copy()
    data[event] = data[event].astype(bool)
    try:
        with warnings.catch_warnings():
            # A convergence warning means the estimates cannot be trusted (e.g. monotone
            # likelihood from separation); report it instead of printing numbers.
            warnings.simplefilter("error", ConvergenceWarning)
            fit = None if cluster_col else _fit_vectorised(data, duration, event, kept)
            if fit is None:
                fit = _fit_lifelines(data, duration, event, cluster_col)
    except (ConvergenceError, ConvergenceWarning, np.linalg.LinAlgError, ValueError) as exc:
        return failure(f"model did not converge: {str(exc).splitlines()[0]}")

    z = stats.norm.ppf(0.975)
    hr = np.exp(fit.beta)
    coefficients = pd.DataFrame(
        {
            "covariate": kept,
            "coef": fit.beta,
            "hr": hr,
            "hr_lower": hr * np.exp(-z * fit.se),
            "hr_upper": hr * np.exp(z * fit.se),
            "se": fit.se,
            "z": fit.beta / fit.se,
            "p": stats.chi2.sf((fit.beta / fit.se) ** 2, 1),
        }
    )
    lr_statistic = 2 * fit.log_lik - 2 * fit.log_lik_null
    return CoxResult(
        estimable=True,
        reason=None,
        n=len(complete),
        events=events,
        rows_dropped=rows_dropped,
        dropped_covariates=dropped,
        coefficients=coefficients,
        lr_statistic=float(lr_statistic),
        lr_df=len(kept),
        lr_p=float(stats.chi2.sf(lr_statistic, len(kept))),
        concordance=harrell_concordance(data, duration, event, kept, fit.beta),
        robust=cluster_col is not None,
        cluster_col=cluster_col,
        ph_test=schoenfeld_ph_test(
            data, duration, event, kept, fit.beta, fit.variance, transform=ph_transform
        ),
        ph_transform=ph_transform,
    )


@dataclass(frozen=True)
class _Fit:
    """Estimates on the covariates' scale: coefficients, model-based variance, the standard
    errors reported (robust ones with a cluster), log partial likelihood and its null value."""

    beta: np.ndarray
    variance: np.ndarray
    se: np.ndarray
    log_lik: float
    log_lik_null: float


def _fit_vectorised(
    data: pd.DataFrame, duration: str, event: str, covariates: list[str]
) -> _Fit | None:
    """Newton–Raphson of lifelines (same steps and stopping rules) on vectorised Efron
    derivatives (``_risksets``); None when it does not end cleanly, so that lifelines' own fit
    gives its warning or error as before. lifelines' checks of the input run first."""
    from lifelines import utils as lifelines_utils

    x_frame = data[covariates]
    lifelines_utils.check_low_var(x_frame)
    lifelines_utils.check_for_numeric_dtypes_or_raise(x_frame)
    lifelines_utils.check_nans_or_infs(data[duration])
    lifelines_utils.check_nans_or_infs(x_frame)
    rows = _risksets.sort_survival(
        data[duration].to_numpy(dtype=float), data[event].to_numpy(dtype=bool)
    )
    try:
        fit = _risksets.efron_newton_raphson(rows, x_frame.to_numpy(dtype=float)[rows.order])
    except _risksets.NotConvergedError:
        return None
    return _Fit(
        beta=fit.beta,
        variance=fit.variance,
        se=np.sqrt(np.diag(fit.variance)),
        log_lik=fit.log_lik,
        log_lik_null=fit.log_lik_null,
    )


def _fit_lifelines(data: pd.DataFrame, duration: str, event: str, cluster_col: str | None) -> _Fit:
    """lifelines' ``CoxPHFitter`` (cluster-robust variance; fallback of the vectorised fit)."""
    from lifelines import CoxPHFitter

    fitter = CoxPHFitter()
    fitter.fit(data, duration_col=duration, event_col=event, cluster_col=cluster_col)
    lr = fitter.log_likelihood_ratio_test()
    return _Fit(
        beta=fitter.params_.to_numpy(dtype=float),
        variance=fitter.variance_matrix_.to_numpy(dtype=float),
        se=fitter.standard_errors_.to_numpy(dtype=float),
        log_lik=float(fitter.log_likelihood_),
        log_lik_null=float(fitter.log_likelihood_) - float(lr.test_statistic) / 2,
    )


COEFFICIENT_COLUMNS = ["covariate", "coef", "hr", "hr_lower", "hr_upper", "se", "z", "p"]


def schoenfeld_ph_test(
    data: pd.DataFrame,
    duration: str,
    event: str,
    covariates: Sequence[str],
    beta: np.ndarray,
    variance: np.ndarray,
    *,
    transform: TimeTransform = "km",
) -> pd.DataFrame:
    """PH test per covariate and global from Schoenfeld residuals (R ``cox.zph``, survival 2.x).

    See the module docstring for the formula. ``data`` is the frame the model was fitted on,
    ``beta`` and ``variance`` the fitted coefficients and their (model-based) variance. The
    residuals (Efron ties) come from vectorised risk-set sums (``_risksets``), equal to
    lifelines' ``compute_residuals(kind="schoenfeld")`` without its per-row loop.
    """
    names = list(covariates)
    variance = np.asarray(variance, dtype=float)
    sorted_rows = _risksets.sort_survival(
        data[duration].to_numpy(dtype=float), data[event].to_numpy(dtype=bool)
    )
    x = data[names].to_numpy(dtype=float)[sorted_rows.order]
    s = _risksets.efron_schoenfeld(sorted_rows, x, np.asarray(beta, dtype=float))
    times = sorted_rows.time[sorted_rows.death_rows]
    deaths = len(times)

    g = _transform_times(times, sorted_rows, transform)
    g = g - g.mean()
    scaled = s @ variance * deaths
    per_covariate = (g @ scaled) ** 2 / (np.diag(variance) * deaths * (g**2).sum())
    gs = g @ s
    global_stat = float(gs @ variance @ gs * deaths / (g**2).sum())
    p = len(names)
    rows = [
        {"covariate": name, "chisq": float(stat), "df": 1, "p": float(stats.chi2.sf(stat, 1))}
        for name, stat in zip(names, per_covariate, strict=True)
    ]
    rows.append(
        {
            "covariate": "GLOBAL",
            "chisq": global_stat,
            "df": p,
            "p": float(stats.chi2.sf(global_stat, p)),
        }
    )
    return pd.DataFrame(rows)


def _transform_times(
    event_times: np.ndarray, sorted_rows: _risksets.SortedSurvival, transform: TimeTransform
) -> np.ndarray:
    """g(t) at the (ascending) death times; "km" is 1 − left-continuous KM from all rows."""
    if transform == "identity":
        return event_times.copy()
    if transform == "log":
        return np.log(event_times)
    if transform == "rank":
        return stats.rankdata(event_times)
    return _risksets.km_before_deaths(sorted_rows)


def harrell_concordance(
    data: pd.DataFrame, duration: str, event: str, covariates: Sequence[str], beta: np.ndarray
) -> float | None:
    """Harrell's C of the fitted model, equal to lifelines' ``concordance_index_``.

    The partial hazard is exp((x − x̄)β) as lifelines' ``predict_partial_hazard``; pairs are
    counted by ``_risksets.concordance_counts`` in vectorised O(n log² n) steps instead of
    lifelines' per-row Python loop. None when no pair of patients is comparable.
    """
    x = data[list(covariates)].to_numpy(dtype=float)
    hazard = np.exp((x - x.mean(axis=0)) @ np.asarray(beta, dtype=float))
    correct, tied, pairs = _risksets.concordance_counts(
        data[duration].to_numpy(dtype=float), data[event].to_numpy(dtype=bool), -hazard
    )
    if pairs == 0:
        return None
    return (correct + tied / 2) / pairs
