"""Kaplan–Meier curves, medians with R's confidence interval, numbers at risk, log-rank.

Conventions are R ``survival``'s defaults, so a report can say "as R survfit/survdiff":

* Kaplan–Meier estimate with Greenwood's variance; the 95% CI uses ``conf.type = "log"``:
  exp(log S ± z·se(log S)), se² = Σ dᵢ / (nᵢ(nᵢ − dᵢ)), upper limit capped at 1 and no limit
  where S = 0 (R ``survfit.formula`` / ``survfit_confint``).
* Median and its CI as R's ``quantile.survfit`` (and ``print.survfit``): the time where the
  curve (and the lower/upper confidence curves) first reaches 0.5; if a curve is flat at
  exactly 0.5 the midpoint of the flat is used. lifelines computes the median CI differently
  (a transform of the quantile), so this module does not use it.
* Log-rank test as ``survdiff(rho = 0)``: χ² on (groups with expected > 0) − 1 df.
* Numbers at risk at time t: patients with follow-up ≥ t (R ``summary(fit, times=t)$n.risk``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analytics.stats.validation import EVENT_RULE, check_binary, check_survival_frame, check_times

# R's quantile.survfit tolerance: sqrt(.Machine$double.eps).
R_TOLERANCE = math.sqrt(np.finfo(float).eps)


@dataclass(frozen=True)
class KaplanMeierCurve:
    """One Kaplan–Meier curve.

    ``table`` has one row per distinct time (events and censorings, as R's survfit):
    ``time``, ``n_risk``, ``n_event``, ``n_censor``, ``survival``, ``std_err`` (of S, as
    printed by R's ``summary.survfit``), ``lower``, ``upper``. ``median`` is None when not
    reached (``median_reason`` says why); an unreached CI limit is None too.
    """

    group: object
    n: int
    events: int
    conf_level: float
    table: pd.DataFrame = field(repr=False)
    median: float | None
    median_lower: float | None
    median_upper: float | None
    median_reason: str | None

    def survival_at(self, time: float) -> float:
        """S(t) of the right-continuous step function (1 before the first time)."""
        before = self.table[self.table["time"] <= time]
        return 1.0 if before.empty else float(before["survival"].iloc[-1])


@dataclass(frozen=True)
class KaplanMeierResult:
    curves: tuple[KaplanMeierCurve, ...]

    def medians_frame(self) -> pd.DataFrame:
        """``print.survfit``-like table: group, n, events, median, lower, upper, reason."""
        return pd.DataFrame(
            [
                {
                    "group": c.group,
                    "n": c.n,
                    "events": c.events,
                    "median": c.median,
                    "lower": c.median_lower,
                    "upper": c.median_upper,
                    "reason": c.median_reason,
                }
                for c in self.curves
            ]
        )

    def curve(self, group: object) -> KaplanMeierCurve:
        return next(c for c in self.curves if c.group == group)


@dataclass(frozen=True)
class LogRankResult:
    """``survdiff``: observed and expected events per group, χ², df and p."""

    estimable: bool
    reason: str | None
    groups: tuple[object, ...]
    n: dict[object, int]
    observed: dict[object, float]
    expected: dict[object, float]
    statistic: float | None
    df: int | None
    p_value: float | None

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "group": list(self.groups),
                "n": [self.n[g] for g in self.groups],
                "observed": [self.observed[g] for g in self.groups],
                "expected": [self.expected[g] for g in self.groups],
            }
        )


def kaplan_meier(
    durations: Sequence[float] | pd.Series,
    events: Sequence[int] | pd.Series,
    *,
    conf_level: float = 0.95,
    group: object = None,
) -> KaplanMeierCurve:
    """Kaplan–Meier estimate with Greenwood variance and log-transformed CI (R default).

    ``ValueError`` for a time that is missing, negative or not a number, or an event that is
    not 0/1/boolean (R's 1/2 coding, text, missing): these arrays have no rows to leave out.
    """
    time = check_times(durations, _name(durations, "durations"))
    event = check_binary(events, _name(events, "events"), rule=EVENT_RULE)
    if len(time) != len(event):
        raise ValueError(f"{len(time)} durations but {len(event)} events")
    z = stats.norm.ppf(1 - (1 - conf_level) / 2)
    # One sort: per distinct time its count and deaths; at risk = rows not yet left.
    times, where, n_total = np.unique(time, return_inverse=True, return_counts=True)
    n_event = np.bincount(where, weights=event, minlength=len(times)).astype(np.int64)
    n_risk = len(time) - np.concatenate([[0], np.cumsum(n_total)[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.cumprod(1 - n_event / n_risk)
        # Greenwood on the log scale: Σ d/(n(n−d)); infinite once S reaches 0.
        greenwood = np.cumsum(np.where(n_event > 0, n_event / (n_risk * (n_risk - n_event)), 0.0))
        se_log = np.sqrt(greenwood)
        positive = survival > 0
        lower = np.where(positive, survival * np.exp(-z * se_log), np.nan)
        upper = np.where(positive, np.minimum(survival * np.exp(z * se_log), 1.0), np.nan)
        std_err = np.where(positive, survival * se_log, np.nan)
    table = pd.DataFrame(
        {
            "time": times,
            "n_risk": n_risk,
            "n_event": n_event,
            "n_censor": n_total - n_event,
            "survival": survival,
            "std_err": std_err,
            "lower": lower,
            "upper": upper,
        }
    )
    median = _r_quantile(times, survival, 0.5)
    median_lower = _r_quantile(times, lower, 0.5)
    median_upper = _r_quantile(times, upper, 0.5)
    reason = None
    if median is None:
        reason = (
            "no events: median not reached"
            if not event.any()
            else "survival did not fall to 50%: median not reached"
        )
    return KaplanMeierCurve(
        group=group,
        n=len(time),
        events=int(event.sum()),
        conf_level=conf_level,
        table=table,
        median=median,
        median_lower=median_lower,
        median_upper=median_upper,
        median_reason=reason,
    )


def _name(values: object, default: str) -> str:
    return str(getattr(values, "name", None) or default)


def _r_quantile(times: np.ndarray, survival: np.ndarray, p: float) -> float | None:
    """R ``findq`` (quantile.survfit.R) on the CDF 1 − S with a leading (0, 0) point.

    The quantile is the first time the CDF reaches p (within tolerance); when the CDF equals
    p on a flat, the midpoint between that time and the next jump (or the last time, if the
    flat runs to the end of follow-up) is returned.
    """
    x = np.concatenate([[0.0], times])
    y = np.concatenate([[0.0], 1 - survival])
    finite = ~np.isnan(y)
    if not finite.any() or np.nanmax(y) < p:
        return None
    x_max = x[-1]
    # Censoring times repeat the previous value; keep the first of each (R: !duplicated(y)).
    keep = np.ones(len(y), dtype=bool)
    _, first = np.unique(np.where(finite, y, np.inf), return_index=True)
    keep[:] = False
    keep[first] = True
    keep &= finite
    x, y = x[keep], y[keep]
    order = np.argsort(y, kind="stable")
    x, y = x[order], y[order]
    reach = np.flatnonzero(y + R_TOLERANCE >= p)
    past = np.flatnonzero(y - R_TOLERANCE >= p)
    if reach.size == 0:
        return None
    first_reach = x[reach[0]]
    if abs(p - y[-1]) < R_TOLERANCE:
        return float((first_reach + x_max) / 2)
    if past.size == 0:
        return None
    return float((first_reach + x[past[0]]) / 2)


def _groups(df: pd.DataFrame, group: str, group_order: Sequence[object] | None) -> list[object]:
    if group_order is not None:
        return list(group_order)
    return sorted(df[group].dropna().unique().tolist())


def kaplan_meier_by_group(
    df: pd.DataFrame,
    duration: str,
    event: str,
    group: str,
    *,
    group_order: Sequence[object] | None = None,
    conf_level: float = 0.95,
) -> KaplanMeierResult:
    """One Kaplan–Meier curve per group (rows with missing time, event or group left out,
    as R na.omit; present values are checked as in ``kaplan_meier``)."""
    data = check_survival_frame(df, duration, event)[[duration, event, group]].dropna()
    curves = []
    for g in _groups(data, group, group_order):
        subset = data[data[group] == g]
        curves.append(kaplan_meier(subset[duration], subset[event], conf_level=conf_level, group=g))
    return KaplanMeierResult(curves=tuple(curves))


def numbers_at_risk(
    df: pd.DataFrame,
    duration: str,
    group: str,
    times: Sequence[float],
    *,
    group_order: Sequence[object] | None = None,
) -> pd.DataFrame:
    """Patients still at risk (follow-up ≥ t) per group at each time, for a KM risk table.
    Rows with a missing time or group are left out; a negative or non-numeric time is a
    ``ValueError``."""
    check_times(df[duration], duration, allow_missing=True)
    data = df[[duration, group]].dropna()
    groups = _groups(data, group, group_order)
    counts = {
        g: [int((data.loc[data[group] == g, duration] >= t).sum()) for t in times] for g in groups
    }
    frame = pd.DataFrame(counts, index=pd.Index(list(times), name="time")).T
    frame.index.name = group
    return frame


def logrank(
    df: pd.DataFrame,
    duration: str,
    event: str,
    group: str,
    *,
    group_order: Sequence[object] | None = None,
) -> LogRankResult:
    """Log-rank (Mantel–Haenszel) test for two or more groups, as R ``survdiff(rho = 0)``.

    At each distinct event time with nⱼ at risk and dⱼ events, group g expects
    dⱼ·n_gj/nⱼ events; the hypergeometric covariance is
    dⱼ(nⱼ − dⱼ)/(nⱼ − 1) · n_gj/nⱼ · (δ_gh − n_hj/nⱼ). As in survdiff, groups with expected 0
    are dropped, the first remaining group is left out, and χ² = (O − E)ᵀ V⁻¹ (O − E).
    Rows with a missing time, event or group are left out (R na.omit); present values are
    checked as in ``kaplan_meier``.
    """
    data = check_survival_frame(df, duration, event)[[duration, event, group]].dropna()
    groups = tuple(_groups(data, group, group_order))
    data = data[data[group].isin(groups)]
    time = data[duration].to_numpy(dtype=float)
    died = data[event].to_numpy(dtype=float).astype(bool)
    member = data[group].to_numpy()
    membership = np.array([member == g for g in groups])
    n = {g: int(m.sum()) for g, m in zip(groups, membership, strict=True)}

    # Vectorised over the distinct event times (no loop per time): n_gj = members with
    # time ≥ t_j from one sort per group, d_gj by counting the deaths per event time.
    k = len(groups)
    event_times = np.unique(time[died])
    at_risk = np.array(
        [m.sum() - np.searchsorted(np.sort(time[m]), event_times, side="left") for m in membership],
        dtype=float,
    ).reshape(k, len(event_times))
    slot = np.searchsorted(event_times, time[died])
    deaths = np.array(
        [np.bincount(slot[m[died]], minlength=len(event_times)) for m in membership],
        dtype=float,
    ).reshape(k, len(event_times))
    n_j, d_j = at_risk.sum(axis=0), deaths.sum(axis=0)
    observed = deaths.sum(axis=1)
    expected = (d_j * at_risk / n_j).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(n_j > 1, d_j * (n_j - d_j) / (n_j - 1), 0.0)
    share = at_risk / n_j
    variance = np.diag((weight * share).sum(axis=1)) - (share * weight) @ share.T

    obs = dict(zip(groups, observed.tolist(), strict=True))
    exp = dict(zip(groups, expected.tolist(), strict=True))

    def not_estimable(reason: str) -> LogRankResult:
        return LogRankResult(False, reason, groups, n, obs, exp, None, None, None)

    if k < 2:
        return not_estimable("log-rank needs at least two groups")
    if not died.any():
        return not_estimable("no events in any group")
    used = expected > 0
    if used.sum() < 2:
        return not_estimable("fewer than two groups have patients at risk at an event time")
    diff = (observed - expected)[used][1:]
    v = variance[np.ix_(used, used)][1:, 1:]
    try:
        statistic = float(diff @ np.linalg.solve(v, diff))
    except np.linalg.LinAlgError:
        return not_estimable("singular log-rank variance matrix")
    dof = int(used.sum()) - 1
    return LogRankResult(
        True, None, groups, n, obs, exp, statistic, dof, float(stats.chi2.sf(statistic, dof))
    )
