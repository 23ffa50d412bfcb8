"""The vectorised Cox PH test, concordance, log-rank and Kaplan–Meier equal the per-row /
per-time implementations they replaced (kept here as references) on the R-referenced
datasets of ``test_cox.py`` / ``test_survival.py`` and on tie-heavy synthetic data.

The references are the code as it was before vectorisation: the PH test on lifelines'
``compute_residuals(kind="schoenfeld")``, lifelines' ``concordance_index_``, and the loops of
``survdiff`` / ``survfit`` over the distinct times.
"""

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter
from lifelines.datasets import load_dd, load_lung, load_regression_dataset, load_rossi
from scipy import stats

from analytics.stats import _risksets
from analytics.stats.cox import fit_cox, harrell_concordance, schoenfeld_ph_test
from analytics.stats.survival import kaplan_meier, logrank

ROSSI = ("week", "arrest", ["fin", "age", "race", "wexp", "mar", "paro", "prio"])
REGRESSION = ("T", "E", ["var1", "var2", "var3"])
KM5 = pd.DataFrame(
    {
        "var1": [0.209325, 0.693919, 0.443804, 0.065636, 0.386294],
        "T": [5.269797, 6.601666, 7.335846, 11.684092, 12.678458],
        "E": [1, 1, 1, 0, 1],
    }
)


def _tied_frame(n: int = 1500, seed: int = 3) -> pd.DataFrame:
    """Few distinct times, discrete covariates: many tied deaths and tied predictions."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "t": rng.integers(1, 25, n).astype(float),
            "e": (rng.random(n) < 0.6).astype(int),
            "a": rng.integers(0, 2, n).astype(float),
            "b": rng.integers(0, 3, n).astype(float),
            "c": rng.normal(size=n).round(1),
            "g": rng.choice(["x", "y", "z"], n),
        }
    )


COX_CASES = {
    "rossi": (load_rossi(), *ROSSI),
    "regression": (load_regression_dataset(), *REGRESSION),
    "km5": (KM5, "T", "E", ["var1"]),
    "tied": (_tied_frame(), "t", "e", ["a", "b", "c"]),
}


def _fitted(case: str):
    df, duration, event, covariates = COX_CASES[case]
    data = df[[duration, event, *covariates]].dropna().copy()
    data[event] = data[event].astype(bool)
    return CoxPHFitter().fit(data, duration_col=duration, event_col=event), data, duration, event


def _reference_ph_test(fitter, data, duration, event, transform):
    """The PH test as before: lifelines' Schoenfeld residuals, KM transform by a loop."""
    residuals = fitter.compute_residuals(data, kind="schoenfeld")
    variance = fitter.variance_matrix_.loc[residuals.columns, residuals.columns].to_numpy()
    times = data.loc[residuals.index, duration].to_numpy(dtype=float)
    order = np.argsort(times, kind="stable")
    times = times[order]
    s = residuals.to_numpy()[order]
    deaths = len(times)
    all_times, all_events = data[duration].to_numpy(float), data[event].to_numpy(bool)
    if transform == "identity":
        g = times.copy()
    elif transform == "log":
        g = np.log(times)
    elif transform == "rank":
        g = stats.rankdata(times)
    else:
        distinct = np.unique(all_times[all_events])
        survival = np.cumprod(
            [1 - np.sum(all_events & (all_times == t)) / np.sum(all_times >= t) for t in distinct]
        )
        before = dict(zip(distinct.tolist(), np.r_[1.0, survival[:-1]].tolist(), strict=True))
        g = 1 - np.array([before[t] for t in times.tolist()])
    g = g - g.mean()
    per_covariate = (g @ (s @ variance * deaths)) ** 2 / (np.diag(variance) * deaths * (g**2).sum())
    gs = g @ s
    return np.r_[per_covariate, gs @ variance @ gs * deaths / (g**2).sum()]


@pytest.mark.parametrize("transform", ["km", "rank", "log", "identity"])
@pytest.mark.parametrize("case", sorted(COX_CASES))
def test_ph_test_equals_the_lifelines_residual_version(case, transform):
    fitter, data, duration, event = _fitted(case)
    new = schoenfeld_ph_test(fitter, data, duration, event, transform=transform)
    expected = _reference_ph_test(fitter, data, duration, event, transform)
    np.testing.assert_allclose(new["chisq"].to_numpy(), expected, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("case", sorted(COX_CASES))
def test_schoenfeld_residuals_equal_lifelines(case):
    fitter, data, duration, event = _fitted(case)
    names = list(fitter.params_.index)
    rows = _risksets.sort_survival(data[duration].to_numpy(float), data[event].to_numpy(bool))
    residuals = _risksets.efron_schoenfeld(
        rows, data[names].to_numpy(float)[rows.order], fitter.params_.to_numpy()
    )
    reference = fitter.compute_residuals(data, kind="schoenfeld")
    index = data.index.to_numpy()[rows.order][rows.death_rows]
    np.testing.assert_allclose(residuals, reference.loc[index].to_numpy(), rtol=0, atol=1e-10)


@pytest.mark.parametrize("case", sorted(COX_CASES))
def test_concordance_equals_lifelines(case):
    fitter, data, duration, event = _fitted(case)
    assert harrell_concordance(fitter, data, duration, event) == pytest.approx(
        fitter.concordance_index_, abs=1e-12
    )


def test_concordance_counts_equal_the_pairwise_definition():
    """Brute force over all pairs: a death i is compared with j if T_i < T_j, or T_i = T_j
    and j censored; correct if pred_i < pred_j, tied if equal (lifelines' convention)."""
    rng = np.random.default_rng(7)
    time = rng.integers(1, 12, 300).astype(float)
    event = rng.random(300) < 0.5
    pred = rng.integers(0, 6, 300).astype(float)
    correct = tied = pairs = 0
    for i in np.flatnonzero(event):
        later = (time > time[i]) | ((time == time[i]) & ~event)
        pairs += int(later.sum())
        correct += int((later & (pred > pred[i])).sum())
        tied += int((later & (pred == pred[i])).sum())
    assert _risksets.concordance_counts(time, event, pred) == (correct, tied, pairs)


def test_fit_cox_reports_the_vectorised_statistics():
    df, duration, event, covariates = COX_CASES["rossi"]
    result = fit_cox(df, duration, event, covariates)
    fitter, data, _, _ = _fitted("rossi")
    assert result.concordance == pytest.approx(fitter.concordance_index_, abs=1e-12)
    np.testing.assert_allclose(
        result.ph_test["chisq"].to_numpy(),
        _reference_ph_test(fitter, data, duration, event, "km"),
        rtol=1e-8,
    )


def _reference_logrank(df, duration, event, group, groups):
    """survdiff as before: a loop over the distinct event times."""
    data = df[[duration, event, group]].dropna()
    data = data[data[group].isin(groups)]
    time = data[duration].to_numpy(dtype=float)
    died = data[event].to_numpy(dtype=float).astype(bool)
    membership = np.array([(data[group] == g).to_numpy() for g in groups])
    k = len(groups)
    observed, expected, variance = np.zeros(k), np.zeros(k), np.zeros((k, k))
    for t in np.unique(time[died]):
        at_risk = membership[:, time >= t].sum(axis=1).astype(float)
        deaths = membership[:, (time == t) & died].sum(axis=1).astype(float)
        n_j, d_j = at_risk.sum(), deaths.sum()
        observed += deaths
        expected += d_j * at_risk / n_j
        if n_j > 1:
            share = at_risk / n_j
            variance += d_j * (n_j - d_j) / (n_j - 1) * (np.diag(share) - np.outer(share, share))
    used = expected > 0
    diff = (observed - expected)[used][1:]
    statistic = float(diff @ np.linalg.solve(variance[np.ix_(used, used)][1:, 1:], diff))
    dof = int(used.sum()) - 1
    return observed, expected, statistic, dof, float(stats.chi2.sf(statistic, dof))


LOGRANK_CASES = {
    "lung": (load_lung(), "time", "status", "sex"),
    "dd": (load_dd(), "duration", "observed", "regime"),
    "censored": (
        pd.DataFrame(
            {"t": [10, 20, 30, 10, 20, 50], "e": [1, 0, 1, 1, 0, 1], "g": [1, 1, 1, 0, 0, 0]}
        ),
        "t",
        "e",
        "g",
    ),
    "tied": (_tied_frame(), "t", "e", "g"),
}


@pytest.mark.parametrize("case", sorted(LOGRANK_CASES))
def test_logrank_equals_the_loop_version(case):
    df, duration, event, group = LOGRANK_CASES[case]
    result = logrank(df, duration, event, group)
    observed, expected, statistic, dof, p = _reference_logrank(
        df, duration, event, group, result.groups
    )
    assert [result.observed[g] for g in result.groups] == observed.tolist()
    np.testing.assert_allclose(
        [result.expected[g] for g in result.groups], expected, rtol=1e-12, atol=1e-12
    )
    assert result.statistic == pytest.approx(statistic, rel=1e-10, abs=1e-10)
    assert result.df == dof
    assert result.p_value == pytest.approx(p, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("case", ["lung", "tied"])
def test_kaplan_meier_table_equals_the_loop_version(case):
    df, duration, event, _ = LOGRANK_CASES[case]
    time = df[duration].to_numpy(float)
    died = df[event].to_numpy(float).astype(bool)
    times = np.unique(time)
    table = kaplan_meier(df[duration], df[event]).table
    assert table["time"].tolist() == times.tolist()
    assert table["n_risk"].tolist() == [int(np.sum(time >= t)) for t in times]
    assert table["n_event"].tolist() == [int(np.sum(died & (time == t))) for t in times]
    assert table["n_censor"].tolist() == [int(np.sum(~died & (time == t))) for t in times]
