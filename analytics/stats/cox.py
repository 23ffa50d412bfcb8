"""Cox proportional-hazards model, as R ``coxph`` with its defaults.

Fitting is lifelines' Newton–Raphson on the partial likelihood with Efron's tie handling (R
``coxph``'s default ``ties = "efron"``): the same normalisation, step sizes and stopping rules,
with the log-likelihood, gradient and Hessian computed by vectorised risk-set sums
(``_risksets``) instead of lifelines' Python loop over times, and one final Newton step that
brings the estimate to R's to ~1e-8. With ``cluster_col`` lifelines' ``CoxPHFitter`` itself
is used, so its robust variance is unchanged. The null log-likelihood of the LR test is the
first iteration's (β = 0), as in lifelines. Reported: coef, HR, 95% Wald CI, SE, z and Wald p
per design column; n, events, rows dropped for missing data; the likelihood-ratio test
against the null model; Harrell's concordance; and the proportional-hazards test of R
survival ≥ 3.0 ``cox.zph`` (``analytics.stats.cox_zph``), one test per term plus GLOBAL.

``terms`` groups design columns into one covariate (the k − 1 dummies of a k-level
categorical covariate): its PH test has k − 1 df, as R's.

``cluster_col`` gives the robust (sandwich, grouped-jackknife) variance clustered on e.g. the
matched pair, as R ``coxph(..., cluster = pair)``; coefficients are unchanged, SE/z/p/CI use
the robust variance, and the LR test stays the model-based one (R prints the same).

Monotone likelihood (separation): when the iteration does not converge, the covariates whose
coefficients run away are named (``separation``) and, if ``firth`` is on, the model is refitted
with Firth's penalised likelihood (``analytics.stats.firth``; Heinze & Schemper 2001, R
``coxphf``) and marked ``method = "firth"``; the result carries a warning saying so.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analytics.stats import _risksets
from analytics.stats.cox_zph import PH_COLUMNS, TimeTransform, cox_zph
from analytics.stats.firth import FIRTH_METHOD, FirthNotConvergedError, fit_firth_cox
from analytics.stats.validation import EVENT_RULE, check_binary, check_times

__all__ = ["COEFFICIENT_COLUMNS", "CoxResult", "DroppedCovariate", "TimeTransform", "fit_cox"]

COEFFICIENT_COLUMNS = ["covariate", "term", "coef", "hr", "hr_lower", "hr_upper", "se", "z", "p"]
# Standardised |β| beyond which a coefficient is taken to run away to ±∞ after
# DIVERGENCE_STEPS plain Newton steps: a finite HR per SD is far below e^10 in any real data,
# and on a monotone likelihood each step adds about 1 to the diverging coefficients.
DIVERGENCE_LIMIT = 10.0
DIVERGENCE_STEPS = 30


@dataclass(frozen=True)
class DroppedCovariate:
    covariate: str
    reason: str


@dataclass(frozen=True)
class CoxResult:
    """A fitted Cox model in tidy form.

    ``coefficients``: covariate (design column), term, coef, hr, hr_lower, hr_upper, se, z, p.
    With ``method == "coxph"`` the CI and p are Wald's; with ``"firth"`` (the fallback for a
    monotone likelihood) the CI is the profile penalised-likelihood one and p the penalised
    likelihood-ratio test, as R ``coxphf``. ``ph_test``: term (plus "GLOBAL"), chisq, df, p.
    When ``estimable`` is False the frames are empty and ``reason`` says why.
    ``separation`` names the covariates whose coefficient ran away; ``warnings`` are what a
    reader must be told (the fallback used, a model not estimable).
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
    method: str = "coxph"
    separation: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def firth(self) -> bool:
        return self.method == "firth"

    def to_frame(self) -> pd.DataFrame:
        return self.coefficients


def fit_cox(
    df: pd.DataFrame,
    duration: str,
    event: str,
    covariates: Sequence[str],
    *,
    terms: Mapping[str, Sequence[str]] | None = None,
    cluster_col: str | None = None,
    ph_transform: TimeTransform = "km",
    firth: bool = True,
    summaries: bool = True,
) -> CoxResult:
    """Fit ``coxph(Surv(duration, event) ~ covariates [, cluster = cluster_col])``.

    ``covariates`` are numeric design columns (the covariate registry codes them and builds
    the dummies of a categorical covariate; ``terms`` then maps its name to them). Rows with a
    missing value in any used column are dropped and counted, as R's default
    ``na.action = na.omit``. A covariate that is constant in the analysed rows is dropped with
    a reason (R would return NA for it).

    Raises ``ValueError`` for input that is not survival data (an event column not 0/1 or
    boolean, e.g. R's 1 = censored / 2 = dead; negative or non-numeric times). Otherwise
    never raises for data problems: no events, too few events or a failed fit give
    ``estimable=False`` and a reason; a monotone likelihood gives the Firth fit (``firth``).
    ``summaries=False`` skips the concordance and the PH test (None / empty), which a table of
    univariable models does not print and which cost most of a fit at 100,000 rows.
    """
    for column in (duration, event, *covariates, *([cluster_col] if cluster_col else [])):
        if column not in df.columns:
            raise ValueError(f"column {column!r} is not in the data")
    check_times(df[duration], duration, allow_missing=True)
    check_binary(df[event], event, allow_missing=True, rule=EVENT_RULE)
    used = [duration, event, *covariates] + ([cluster_col] if cluster_col else [])
    complete = df[used].dropna()
    rows_dropped = len(df) - len(complete)
    events = int(complete[event].astype(float).sum())
    dropped = tuple(
        DroppedCovariate(c, "constant in the analysed rows")
        for c in covariates
        if complete[c].nunique() < 2
    )
    kept = [c for c in covariates if c not in {d.covariate for d in dropped}]
    term_of = _term_of(kept, terms)

    def failure(reason: str, separation: tuple[str, ...] = ()) -> CoxResult:
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
            ph_test=pd.DataFrame(columns=PH_COLUMNS),
            ph_transform=ph_transform,
            separation=separation,
            warnings=(reason,),
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
        fit = _fit(data, duration, event, kept, cluster_col)
    except _NotConvergedError as exc:
        separation = monotone_likelihood_covariates(data, duration, event, kept)
        reason = f"model did not converge: {exc}"
        if separation:
            reason = (
                f"monotone likelihood (the estimate of {', '.join(separation)} runs to "
                "infinity: e.g. a level of it with no events)"
            )
        if not (firth and separation and cluster_col is None):
            return failure(reason, separation)
        return _firth_result(data, duration, event, kept, term_of, separation, reason, failure)
    return _result(
        data,
        duration,
        event,
        kept,
        term_of,
        fit,
        cluster_col,
        ph_transform,
        dropped,
        rows_dropped,
        summaries=summaries,
    )


def _term_of(columns: list[str], terms: Mapping[str, Sequence[str]] | None) -> dict[str, str]:
    owner = {column: term for term, members in (terms or {}).items() for column in members}
    return {column: owner.get(column, column) for column in columns}


class _NotConvergedError(Exception):
    pass


def _fit(
    data: pd.DataFrame, duration: str, event: str, kept: list[str], cluster_col: str | None
) -> _Fit:
    from lifelines.exceptions import ConvergenceError, ConvergenceWarning

    try:
        with warnings.catch_warnings():
            # A convergence warning means the estimates cannot be trusted (e.g. monotone
            # likelihood from separation); report it instead of printing numbers.
            warnings.simplefilter("error", ConvergenceWarning)
            fit = None if cluster_col else _fit_vectorised(data, duration, event, kept)
            if fit is None:
                fit = _fit_lifelines(data, duration, event, cluster_col)
    except (ConvergenceError, ConvergenceWarning, np.linalg.LinAlgError, ValueError) as exc:
        raise _NotConvergedError(str(exc).splitlines()[0]) from exc
    if not (np.all(np.isfinite(fit.beta)) and np.all(np.isfinite(fit.se))):
        raise _NotConvergedError("non-finite estimates")
    return fit


def _result(
    data: pd.DataFrame,
    duration: str,
    event: str,
    kept: list[str],
    term_of: dict[str, str],
    fit: _Fit,
    cluster_col: str | None,
    ph_transform: TimeTransform,
    dropped: tuple[DroppedCovariate, ...],
    rows_dropped: int,
    summaries: bool,
) -> CoxResult:
    z = stats.norm.ppf(0.975)
    hr = np.exp(fit.beta)
    coefficients = pd.DataFrame(
        {
            "covariate": kept,
            "term": [term_of[c] for c in kept],
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
    terms = {}
    for column, term in term_of.items():
        terms.setdefault(term, []).append(column)
    return CoxResult(
        estimable=True,
        reason=None,
        n=len(data),
        events=int(data[event].sum()),
        rows_dropped=rows_dropped,
        dropped_covariates=dropped,
        coefficients=coefficients,
        lr_statistic=float(lr_statistic),
        lr_df=len(kept),
        lr_p=float(stats.chi2.sf(lr_statistic, len(kept))),
        concordance=harrell_concordance(data, duration, event, kept, fit.beta)
        if summaries
        else None,
        robust=cluster_col is not None,
        cluster_col=cluster_col,
        ph_test=cox_zph(data, duration, event, kept, fit.beta, terms=terms, transform=ph_transform)
        if summaries
        else pd.DataFrame(columns=PH_COLUMNS),
        ph_transform=ph_transform,
    )


def _firth_result(
    data: pd.DataFrame,
    duration: str,
    event: str,
    kept: list[str],
    term_of: dict[str, str],
    separation: tuple[str, ...],
    reason: str,
    failure: Callable[[str, tuple[str, ...]], CoxResult],
) -> CoxResult:
    x = data[kept].to_numpy(dtype=float)
    try:
        fit = fit_firth_cox(data[duration].to_numpy(float), data[event].to_numpy(bool), x)
    except FirthNotConvergedError as exc:
        problem = f"{reason}; the Firth-penalised model did not converge either ({exc})"
        return failure(problem, separation)
    coefficients = pd.DataFrame(
        {
            "covariate": kept,
            "term": [term_of[c] for c in kept],
            "coef": fit.beta,
            "hr": np.exp(fit.beta),
            "hr_lower": np.exp(fit.lower),
            "hr_upper": np.exp(fit.upper),
            "se": fit.se,
            "z": fit.beta / fit.se,
            "p": fit.p,
        }
    )
    base = failure(reason, separation)
    note = f"{reason[:1].upper()}{reason[1:]}; fitted instead by {FIRTH_METHOD}."
    return CoxResult(
        estimable=True,
        reason=None,
        n=base.n,
        events=base.events,
        rows_dropped=base.rows_dropped,
        dropped_covariates=base.dropped_covariates,
        coefficients=coefficients,
        lr_statistic=fit.lr_statistic,
        lr_df=len(kept),
        lr_p=float(stats.chi2.sf(fit.lr_statistic, len(kept))),
        concordance=harrell_concordance(data, duration, event, kept, fit.beta),
        ph_test=pd.DataFrame(columns=PH_COLUMNS),
        ph_transform=base.ph_transform,
        method="firth",
        separation=separation,
        warnings=(note,),
    )


def monotone_likelihood_covariates(
    data: pd.DataFrame, duration: str, event: str, columns: Sequence[str]
) -> tuple[str, ...]:
    """The covariates whose partial-likelihood estimate runs to ±∞ (monotone likelihood).

    Two checks, either naming a covariate: (1) on its own, the covariate orders every death
    first in its risk set — each death has the largest (or each the smallest) value among
    those still at risk, e.g. a binary covariate with no events at one level (Heinze &
    Schemper 2001, §1); (2) in the joint model, its standardised coefficient exceeds
    ``DIVERGENCE_LIMIT`` after ``DIVERGENCE_STEPS`` Newton steps with step halving, which
    catches separation by a combination of covariates.
    """
    names = list(columns)
    rows = _risksets.sort_survival(
        data[duration].to_numpy(dtype=float), data[event].to_numpy(dtype=bool)
    )
    x = data[names].to_numpy(dtype=float)[rows.order]
    flagged = set()
    group_of_row = np.repeat(np.arange(rows.n_groups), np.diff(np.append(rows.starts, len(x))))
    for j, name in enumerate(names):
        column = x[:, j]
        # max/min over the rows with time ≥ t: reverse cumulative extremes by distinct time
        group_max = np.maximum.reduceat(column, rows.starts)
        group_min = np.minimum.reduceat(column, rows.starts)
        risk_max = np.maximum.accumulate(group_max[::-1])[::-1][group_of_row[rows.death_rows]]
        risk_min = np.minimum.accumulate(group_min[::-1])[::-1][group_of_row[rows.death_rows]]
        deaths = column[rows.death_rows]
        if np.all(deaths >= risk_max) or np.all(deaths <= risk_min):
            flagged.add(name)
    flagged.update(n for n, b in zip(names, _diverging(rows, x), strict=True) if b)
    return tuple(n for n in names if n in flagged)


def _diverging(rows: _risksets.SortedSurvival, x: np.ndarray) -> np.ndarray:
    std = x.std(axis=0, ddof=1)
    std[std == 0] = 1.0
    xs = (x - x.mean(axis=0)) / std
    beta = np.zeros(xs.shape[1])
    hessian, gradient, ll = _risksets.efron_derivatives(rows, xs, beta)
    for _ in range(DIVERGENCE_STEPS):
        try:
            delta = np.linalg.lstsq(-hessian, gradient, rcond=None)[0]
        except np.linalg.LinAlgError:
            break
        step = 1.0
        while step > 1e-4:
            trial = beta + step * delta
            h, g, trial_ll = _risksets.efron_derivatives(rows, xs, trial)
            if np.isfinite(trial_ll) and trial_ll >= ll:
                beta, hessian, gradient, ll = trial, h, g, trial_ll
                break
            step /= 2
        else:
            break
    return np.abs(beta) > DIVERGENCE_LIMIT


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
