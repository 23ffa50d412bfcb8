"""Firth-penalised Cox regression against R ``coxphf`` and against its definition.

References: coxphf 1.13.1 (Heinze, Ploner, Jiricka; github georgheinze/coxphf, built from
source for R 4.2.2 to compute them) on its own ``breast`` data (Heinze & Schemper,
Biometrics 2001;57:114–119, the paper's example; data/breast.txt.gz of the package, written
with ``write.csv(breast)``) and on the monotone-likelihood data of firthmodels' test-suite
(tests/conftest.py ``make_cox_separation_data(seed=42)``, written to CSV), whose coxphf
values firthmodels' tests quote too.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from analytics.stats.cox import fit_cox
from analytics.stats.firth import fit_firth_cox

DATA = Path(__file__).parent / "data"
BREAST = ["T", "N", "G", "CD"]


@pytest.fixture(scope="module")
def breast():
    return pd.read_csv(DATA / "breast.csv")


@pytest.fixture(scope="module")
def breast_fit(breast):
    return fit_firth_cox(breast["TIME"], breast["CENS"], breast[BREAST].to_numpy(float))


def test_breast_matches_coxphf(breast_fit):
    """R: fit <- coxphf(data = breast, Surv(TIME, CENS) ~ T + N + G + CD); summary(fit)
    coef 1.2244388003 0.9188881851 2.4244141347 0.3971180862
    se(coef) 0.4916044289 0.4225733546 1.4735463367 0.4418553985
    log(lower 0.95) 0.3095018774 0.1137350551 0.3823107680 −0.4670206155
    log(upper 0.95) 2.248359533 1.763507910 7.280659962 1.256124069
    p 0.008225203505 0.025282830500 0.013589875707 0.364502439660
    "Likelihood ratio test=35.95142036 on 4 df"."""
    fit = breast_fit
    np.testing.assert_allclose(
        fit.beta, [1.2244388003, 0.9188881851, 2.4244141347, 0.3971180862], atol=1e-6
    )
    np.testing.assert_allclose(
        fit.se, [0.4916044289, 0.4225733546, 1.4735463367, 0.4418553985], atol=1e-6
    )
    np.testing.assert_allclose(
        fit.lower, [0.3095018774, 0.1137350551, 0.3823107680, -0.4670206155], atol=1e-5
    )
    np.testing.assert_allclose(
        fit.upper, [2.248359533, 1.763507910, 7.280659962, 1.256124069], atol=1e-5
    )
    np.testing.assert_allclose(
        fit.p, [0.008225203505, 0.025282830500, 0.013589875707, 0.364502439660], atol=1e-6
    )
    assert fit.lr_statistic == pytest.approx(35.95142036, abs=1e-5)


def test_monotone_likelihood_data_matches_coxphf():
    """R: coxphf(data = s, Surv(time, event) ~ separator + x1 + x2 + x3): separator has no
    event at level 0, so coxph diverges. coef 3.8815802032 0.6042066421 −0.4202139193
    1.0415063061; se 1.4430191289 0.1599607483 0.2541800107 0.3128784410; profile CI
    (1.9343469272, 8.72156760150) (0.2921186188, 0.91642709781) (−0.9217200647,
    0.06994153358) (0.4348431279, 1.65504614817); p 7.318984974e-09 1.686334002e-04
    9.295083722e-02 8.463066114e-04; loglik −166.6893470 −137.8857959 (LR 57.6071)."""
    df = pd.read_csv(DATA / "firth_separation.csv")
    covariates = ["separator", "x1", "x2", "x3"]
    result = fit_cox(df, "time", "event", covariates)
    assert result.method == "firth"
    assert "separator" in result.separation
    table = result.coefficients
    np.testing.assert_allclose(
        table["coef"], [3.8815802032, 0.6042066421, -0.4202139193, 1.0415063061], atol=1e-6
    )
    np.testing.assert_allclose(
        table["se"], [1.4430191289, 0.1599607483, 0.2541800107, 0.3128784410], atol=1e-6
    )
    np.testing.assert_allclose(
        np.log(table["hr_lower"]),
        [1.9343469272, 0.2921186188, -0.9217200647, 0.4348431279],
        atol=1e-5,
    )
    np.testing.assert_allclose(
        np.log(table["hr_upper"]),
        [8.72156760150, 0.91642709781, 0.06994153358, 1.65504614817],
        atol=1e-5,
    )
    np.testing.assert_allclose(
        table["p"], [7.318984974e-09, 1.686334002e-04, 9.295083722e-02, 8.463066114e-04],
        rtol=1e-5,
    )  # fmt: skip
    assert result.lr_statistic == pytest.approx(2 * (-137.8857959 + 166.6893470), abs=1e-5)


def _penalised_log_likelihood(beta, time, event, x):
    """ℓ(β) + ½ log|I(β)|, Breslow ties, written from the definition (one loop per death):
    ℓ = Σ_deaths [xᵢβ − log Σ_{R(tᵢ)} exp(xⱼβ)], I = Σ_deaths Var_{R(tᵢ)}(x) with weights
    exp(xⱼβ) (Heinze & Schemper 2001, eq. 2)."""
    eta = x @ beta
    log_lik = 0.0
    info = np.zeros((x.shape[1], x.shape[1]))
    for i in np.flatnonzero(event):
        at_risk = time >= time[i]
        w = np.exp(eta[at_risk])
        w = w / w.sum()
        xr = x[at_risk]
        mean = w @ xr
        log_lik += eta[i] - np.log(np.exp(eta[at_risk]).sum())
        info += (xr - mean).T @ (w[:, None] * (xr - mean))
    return log_lik + 0.5 * np.linalg.slogdet(info)[1]


def test_breast_maximises_the_penalised_likelihood(breast, breast_fit):
    """Independent of firthmodels and of coxphf: the penalised log partial likelihood,
    written here from its definition, maximised by scipy's BFGS from 0 reaches the same β."""
    time = breast["TIME"].to_numpy(float)
    event = breast["CENS"].to_numpy(bool)
    x = breast[BREAST].to_numpy(float)
    best = optimize.minimize(
        lambda b: -_penalised_log_likelihood(b, time, event, x),
        np.zeros(len(BREAST)),
        method="BFGS",
        options={"gtol": 1e-9},
    )
    np.testing.assert_allclose(best.x, breast_fit.beta, atol=1e-4)
    assert -best.fun == pytest.approx(
        _penalised_log_likelihood(breast_fit.beta, time, event, x), abs=1e-8
    )
    assert breast_fit.lr_statistic == pytest.approx(
        2 * (-best.fun - _penalised_log_likelihood(np.zeros(4), time, event, x)), abs=1e-6
    )


def test_profile_limit_is_where_the_penalised_lr_statistic_reaches_the_chi2_quantile(
    breast, breast_fit
):
    """The profile CI's definition: at β_T = upper limit, 2·(ℓ*(β̂) − max over the other
    coefficients of ℓ*) = χ²₁(0.95) = 3.841459."""
    time = breast["TIME"].to_numpy(float)
    event = breast["CENS"].to_numpy(bool)
    x = breast[BREAST].to_numpy(float)
    top = _penalised_log_likelihood(breast_fit.beta, time, event, x)
    upper = breast_fit.upper[0]
    constrained = optimize.minimize(
        lambda rest: -_penalised_log_likelihood(np.r_[upper, rest], time, event, x),
        breast_fit.beta[1:],
        method="BFGS",
        options={"gtol": 1e-9},
    )
    assert 2 * (top + constrained.fun) == pytest.approx(3.841459, abs=1e-4)
