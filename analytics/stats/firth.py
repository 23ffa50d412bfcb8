"""Firth-penalised Cox regression: the documented fallback when the likelihood is monotone.

With separation (e.g. a covariate level in which nobody has the event) the Cox partial
likelihood keeps increasing as a coefficient goes to ±∞: the maximum-likelihood estimate
does not exist and Newton–Raphson does not converge. Heinze & Schemper (A solution to the
problem of monotone likelihood in Cox regression, Biometrics 2001;57:114–119) maximise the
penalised log partial likelihood ℓ*(β) = ℓ(β) + ½·log|I(β)| (Firth 1993; Jeffreys prior),
which has a finite maximum, and recommend profile penalised-likelihood confidence intervals
and penalised likelihood-ratio tests instead of Wald ones. R: ``coxphf`` (Heinze, Ploner,
Jiricka), whose defaults are followed: Breslow ties, profile-likelihood 95% CI, P from the
penalised likelihood-ratio test of each coefficient.

The fitting is ``firthmodels.FirthCoxPH`` (J. Luo; MIT licence), whose own tests pin it to
``coxphf`` to 1e-6 including the profile CIs; this project's tests pin it again to that
``coxphf`` output and to ℓ*(β) maximised by a general-purpose optimiser.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from analytics.stats import _risksets

FIRTH_METHOD = (
    "Firth-penalised Cox regression (Heinze & Schemper 2001; as R coxphf: Breslow ties, "
    "profile penalised-likelihood 95% CI, penalised likelihood-ratio P)"
)


class FirthNotConvergedError(Exception):
    """Even the penalised likelihood could not be maximised (e.g. collinear covariates)."""


@dataclass(frozen=True)
class FirthFit:
    beta: np.ndarray
    se: np.ndarray  # Wald, from the penalised information (coxphf's se(coef))
    lower: np.ndarray  # profile penalised-likelihood limits of beta
    upper: np.ndarray
    p: np.ndarray  # penalised likelihood-ratio test of beta_j = 0
    log_lik: float  # penalised log partial likelihood at beta (Breslow, no constant)
    log_lik_null: float  # the same at beta = 0
    iterations: int

    @property
    def lr_statistic(self) -> float:
        """Penalised likelihood-ratio test of the whole model (coxphf's "Likelihood ratio
        test")."""
        return 2.0 * (self.log_lik - self.log_lik_null)


def penalised_log_likelihood(
    time: np.ndarray, event: np.ndarray, x: np.ndarray, beta: np.ndarray
) -> float:
    """ℓ(β) + ½·log|I(β)| with Breslow ties (Heinze & Schemper 2001, eq. 2)."""
    rows = _risksets.sort_survival(np.asarray(time, float), np.asarray(event, bool))
    xs = np.asarray(x, float)[rows.order]
    xs = xs - xs.mean(axis=0)
    hessian, _, log_lik = _risksets.efron_derivatives(
        rows, xs, np.asarray(beta, float), breslow=True
    )
    sign, logdet = np.linalg.slogdet(-hessian)
    return float(log_lik + 0.5 * logdet) if sign > 0 else float("-inf")


def fit_firth_cox(
    time: np.ndarray, event: np.ndarray, x: np.ndarray, *, conf_level: float = 0.95
) -> FirthFit:
    """Firth's penalised Cox model of ``Surv(time, event) ~ x`` (columns of ``x``)."""
    from firthmodels import FirthCoxPH
    from sklearn.exceptions import ConvergenceWarning

    x = np.asarray(x, dtype=float)
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        try:
            model = FirthCoxPH(backend="numpy").fit(x, (event, time))
            if not model.converged_:
                raise FirthNotConvergedError("the penalised likelihood did not converge")
            model.lrt()
            limits = model.conf_int(alpha=1 - conf_level, method="pl", tol=1e-8)
        except (ConvergenceWarning, np.linalg.LinAlgError, ValueError) as exc:
            raise FirthNotConvergedError(str(exc).splitlines()[0]) from exc
    beta = np.asarray(model.coef_, dtype=float)
    p = np.asarray(model.lrt_pvalues_, dtype=float)
    if not np.all(np.isfinite(p)) or not np.all(np.isfinite(limits)):
        raise FirthNotConvergedError("a profile-likelihood limit or test did not converge")
    return FirthFit(
        beta=beta,
        se=np.asarray(model.bse_, dtype=float),
        lower=limits[:, 0],
        upper=limits[:, 1],
        p=p,
        log_lik=penalised_log_likelihood(time, event, x, beta),
        log_lik_null=penalised_log_likelihood(time, event, x, np.zeros(x.shape[1])),
        iterations=int(model.n_iter_),
    )
