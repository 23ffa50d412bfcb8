"""The vectorised Cox PH test, concordance, log-rank and Kaplan–Meier equal the per-row /
per-time implementations they replaced (kept here as references) on the R-referenced
datasets of ``test_cox.py`` / ``test_survival.py`` and on tie-heavy synthetic data.

The references are per-row / per-time loops: the PH test as R survival 3.x's C code
``zph1.c`` loops over the times, lifelines' ``concordance_index_``, and the loops of
``survdiff`` / ``survfit`` over the distinct times.
"""

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter
from lifelines.datasets import load_dd, load_lung, load_regression_dataset, load_rossi
from scipy import stats

from analytics.stats import _risksets
from analytics.stats.cox import fit_cox, harrell_concordance
from analytics.stats.cox_zph import cox_zph
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


def _reference_zph(data, duration, event, names, beta, transform):
    """R survival 3.x ``cox.zph`` as its C code ``zph1.c`` writes it: a loop backwards over
    the distinct times, Efron slots added one at a time, then the per-covariate and global
    score tests of ``cox.zph.R``."""
    time = data[duration].to_numpy(float)
    died = data[event].to_numpy(bool)
    x = data[names].to_numpy(float)
    x = x - x.mean(axis=0)
    risk = np.exp(x @ beta)
    p = len(names)
    if transform == "km":
        distinct = np.unique(time[died])
        survival = np.cumprod(
            [1 - np.sum(died & (time == t)) / np.sum(time >= t) for t in distinct]
        )
        before = dict(zip(distinct.tolist(), np.r_[1.0, survival[:-1]].tolist(), strict=True))
        g_all = np.array([1 - before.get(t, np.nan) for t in time.tolist()])
    elif transform == "rank":
        g_all = stats.rankdata(time)
    elif transform == "log":
        g_all = np.log(time)
    else:
        g_all = time.copy()
    g_all = g_all - np.nanmean(g_all[died])
    u = np.zeros(2 * p)
    imat = np.zeros((2 * p, 2 * p))
    denom, a, cmat = 0.0, np.zeros(p), np.zeros((p, p))
    for t in np.unique(time)[::-1]:
        here = time == t
        censored, dead = here & ~died, here & died
        denom += risk[censored].sum()
        a += risk[censored] @ x[censored]
        cmat += (risk[censored][:, None] * x[censored]).T @ x[censored]
        m = int(dead.sum())
        if m == 0:
            continue
        gt = g_all[dead][0]
        d2, a2 = risk[dead].sum(), risk[dead] @ x[dead]
        c2 = (risk[dead][:, None] * x[dead]).T @ x[dead]
        u[:p] += x[dead].sum(axis=0)
        u[p:] += gt * x[dead].sum(axis=0)
        for _ in range(m):
            denom += d2 / m
            a += a2 / m
            cmat += c2 / m
            mean = a / denom
            v = cmat / denom - np.outer(mean, mean)
            u[:p] -= mean
            u[p:] -= gt * mean
            imat += np.block([[v, gt * v], [gt * v, gt * gt * v]])
    tests = []
    for j in range(p):
        kk = [*range(p), p + j]
        uu = np.r_[np.zeros(p), u[p + j]]
        tests.append(uu @ np.linalg.solve(imat[np.ix_(kk, kk)], uu))
    uu = np.r_[np.zeros(p), u[p:]]
    return np.r_[tests, uu @ np.linalg.solve(imat, uu)]


@pytest.mark.parametrize("transform", ["km", "rank", "log", "identity"])
@pytest.mark.parametrize("case", sorted(COX_CASES))
def test_ph_test_equals_the_loop_of_r_zph1(case, transform):
    """The vectorised score test equals the per-time loop of R's C code on every case,
    including the tie-heavy one (Efron slots) — R pins are in test_cox.py."""
    fitter, data, duration, event = _fitted(case)
    names = list(fitter.params_.index)
    beta = fitter.params_.to_numpy()
    new = cox_zph(data, duration, event, names, beta, transform=transform)
    expected = _reference_zph(data, duration, event, names, beta, transform)
    np.testing.assert_allclose(new["chisq"].to_numpy(), expected, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("case", sorted(COX_CASES))
def test_concordance_equals_lifelines(case):
    fitter, data, duration, event = _fitted(case)
    names = list(fitter.params_.index)
    c = harrell_concordance(data, duration, event, names, fitter.params_.to_numpy())
    assert c == pytest.approx(fitter.concordance_index_, abs=1e-12)


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
        _reference_zph(data, duration, event, covariates, result.coefficients["coef"], "km"),
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


@pytest.mark.parametrize("case", sorted(COX_CASES))
def test_vectorised_fit_equals_lifelines_summary(case):
    """fit_cox (vectorised Newton–Raphson) against lifelines' CoxPHFitter on the same rows,
    within lifelines' stopping tolerance: fit_cox takes one more Newton step, which moves it
    onto R's estimate (km5: R coxph coef 2.57355181045, fit_cox 2.5735518104, lifelines
    2.5735143; regression var1 p: R 0.00277975894930, fit_cox 0.0027797589, lifelines
    0.0027767508); the R pins are in test_cox.py."""
    df, duration, event, covariates = COX_CASES[case]
    result = fit_cox(df, duration, event, covariates)
    fitter, _, _, _ = _fitted(case)
    summary = fitter.summary
    table = result.coefficients
    for ours, theirs in [
        ("coef", "coef"),
        ("hr", "exp(coef)"),
        ("hr_lower", "exp(coef) lower 95%"),
        ("hr_upper", "exp(coef) upper 95%"),
        ("se", "se(coef)"),
        ("z", "z"),
        ("p", "p"),
    ]:
        np.testing.assert_allclose(
            table[ours].to_numpy(float), summary[theirs].to_numpy(), rtol=1e-3, atol=1e-5
        )
    lr = fitter.log_likelihood_ratio_test()
    assert result.lr_statistic == pytest.approx(lr.test_statistic, rel=1e-6)
    assert result.lr_df == lr.degrees_freedom
    assert result.lr_p == pytest.approx(lr.p_value, rel=1e-5, abs=1e-300)


def test_null_log_likelihood_is_the_closed_form():
    """At β = 0 every φ = 1, so ℓ(0) = −Σ_k Σ_{l<m_k} log(n_k − l) (n_k at risk, m_k deaths)."""
    df = _tied_frame()
    rows = _risksets.sort_survival(df["t"].to_numpy(float), df["e"].to_numpy(bool))
    fit = _risksets.efron_newton_raphson(rows, df[["a", "b", "c"]].to_numpy(float)[rows.order])
    time, died = df["t"].to_numpy(float), df["e"].to_numpy(bool)
    closed = -sum(
        np.log(np.sum(time >= t) - np.arange(np.sum(died & (time == t)))).sum()
        for t in np.unique(time[died])
    )
    assert fit.log_lik_null == pytest.approx(closed, rel=1e-12)


def test_monotone_likelihood_is_detected_not_fitted():
    """Separation: the vectorised iteration refuses (as lifelines warns) and fit_cox names
    the covariate instead of printing lifelines' last iterate."""
    df = pd.DataFrame({"t": range(1, 9), "e": 1, "x": [1, 1, 1, 1, 0, 0, 0, 0]})
    rows = _risksets.sort_survival(df["t"].to_numpy(float), df["e"].to_numpy(bool))
    with pytest.raises(_risksets.NotConvergedError):
        _risksets.efron_newton_raphson(rows, df[["x"]].to_numpy(float)[rows.order])
    result = fit_cox(df, "t", "e", ["x"], firth=False)
    assert not result.estimable
    assert result.separation == ("x",)


def test_low_variance_covariate_fails_as_with_lifelines():
    """lifelines' input checks still run: a near-constant covariate (variance < 1e-4) gives
    lifelines' ConvergenceWarning, reported as non-convergence."""
    df = load_rossi().assign(tiny=lambda d: 1e-4 * (d.index % 2))
    result = fit_cox(df, "week", "arrest", ["fin", "tiny"])
    assert not result.estimable
    assert result.reason.startswith("model did not converge")
