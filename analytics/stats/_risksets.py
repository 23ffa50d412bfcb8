"""Vectorised risk-set sums for the Cox model (private helpers of ``cox.py``).

Everything here works on numpy arrays sorted once by time: per distinct time the sums over the
rows that leave at that time are taken with ``np.add.reduceat``, and the risk-set sums
(rows with time ≥ t) are reverse cumulative sums of those. No Python loop runs per row or per
distinct time, so the cost is O(n log n) for the sort plus O(n·p) (O(n·p²) for the Hessian).

Ties are handled with Efron's approximation, as R ``coxph`` (``ties = "efron"``) and lifelines:
at a time with m deaths, risk-set sum R and death sum D, the l-th (l = 0…m−1) "slot" has
denominator R − (l/m)·D, and likewise for the x-weighted sums.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SortedSurvival:
    """Rows sorted by time (stable) with the distinct-time and death-slot structure."""

    order: np.ndarray  # positions in the caller's arrays, ascending time
    time: np.ndarray  # sorted times
    event: np.ndarray  # sorted events (bool)
    starts: np.ndarray  # first sorted row of each distinct time
    death_rows: np.ndarray  # sorted-row positions of the deaths
    death_group: np.ndarray  # distinct-time index of each death
    death_group_starts: np.ndarray  # first death of each distinct time that has deaths
    tied_deaths: np.ndarray  # m, per distinct time with deaths
    slot_fraction: np.ndarray  # l/m per death (Efron)

    @property
    def n_groups(self) -> int:
        return len(self.starts)


def sort_survival(time: np.ndarray, event: np.ndarray) -> SortedSurvival:
    order = np.argsort(time, kind="stable")
    t = np.asarray(time, dtype=float)[order]
    e = np.asarray(event, dtype=bool)[order]
    new = np.empty(len(t), dtype=bool)
    if len(t):
        new[0] = True
        new[1:] = t[1:] != t[:-1]
    starts = np.flatnonzero(new)
    group = np.cumsum(new) - 1
    death_rows = np.flatnonzero(e)
    death_group = group[death_rows]
    first = np.empty(len(death_group), dtype=bool)
    if len(death_group):
        first[0] = True
        first[1:] = death_group[1:] != death_group[:-1]
    death_group_starts = np.flatnonzero(first)
    tied = np.diff(np.append(death_group_starts, len(death_group)))
    # l = position of the death among the deaths of its time (0…m−1)
    slot = np.arange(len(death_group)) - np.repeat(death_group_starts, tied)
    return SortedSurvival(
        order=order,
        time=t,
        event=e,
        starts=starts,
        death_rows=death_rows,
        death_group=death_group,
        death_group_starts=death_group_starts,
        tied_deaths=tied,
        slot_fraction=slot / np.repeat(tied, tied),
    )


def _reverse_cumsum(a: np.ndarray) -> np.ndarray:
    return np.cumsum(a[::-1], axis=0)[::-1]


def efron_zph_blocks(
    s: SortedSurvival, x_sorted: np.ndarray, beta: np.ndarray, g: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Score and information blocks of R ``cox.zph``'s test (survival ≥ 3.0, C ``zph1``).

    The test adds the terms g(t)·x to the fitted model and takes one score step at
    (β̂, 0): with, per Efron slot, the weighted mean u and covariance V of x over the
    slot's risk set, returns
    ``U = Σ_deaths g·(x − u)`` (p), ``I = Σ V``, ``I_g = Σ g·V``, ``I_gg = Σ g²·V`` (p×p).
    ``g`` is the centred time transform at each death (``s.death_rows`` order); it is
    constant within a death time, which is what lets the slot sums be written as
    Xᵀ diag(w) X with the per-row weights of ``efron_derivatives`` scaled by g or g².
    """
    n_groups = s.n_groups
    xc = x_sorted - x_sorted.mean(axis=0)  # as zph1: less round-off, same result
    phi = np.exp(xc @ beta)
    phix = phi[:, None] * xc
    risk = _reverse_cumsum(np.add.reduceat(phi, s.starts))
    risk_x = _reverse_cumsum(np.add.reduceat(phix, s.starts, axis=0))
    d_phi = np.add.reduceat(phi[s.death_rows], s.death_group_starts)
    d_phix = np.add.reduceat(phix[s.death_rows], s.death_group_starts, axis=0)
    groups = s.death_group[s.death_group_starts]
    per_slot = np.repeat(np.arange(len(groups)), s.tied_deaths)
    f = s.slot_fraction
    denom = risk[groups][per_slot] - f * d_phi[per_slot]
    u = (risk_x[groups][per_slot] - f[:, None] * d_phix[per_slot]) / denom[:, None]
    inverse = 1.0 / denom
    row_group = np.repeat(np.arange(n_groups), np.diff(np.append(s.starts, len(s.time))))
    score = g @ (xc[s.death_rows] - u)
    blocks = []
    for weight in (np.ones_like(g), g, g * g):
        c = np.zeros(n_groups)
        c[groups] = np.add.reduceat(weight * inverse, s.death_group_starts)
        e = np.add.reduceat(weight * f * inverse, s.death_group_starts)
        w = np.cumsum(c)[row_group]
        w[s.death_rows] -= e[per_slot]
        w *= phi
        blocks.append(xc.T @ (w[:, None] * xc) - u.T @ (weight[:, None] * u))
    return score, blocks[0], blocks[1], blocks[2]


def km_before_deaths(s: SortedSurvival) -> np.ndarray:
    """1 − S(t−) (left-continuous Kaplan–Meier) at each death, in ``s.death_rows`` order."""
    n = len(s.time)
    group_of_death = s.death_group[s.death_group_starts]
    at_risk = n - s.starts[group_of_death]
    survival = np.cumprod(1 - s.tied_deaths / at_risk)
    before = np.concatenate([[1.0], survival[:-1]])
    return 1 - np.repeat(before, s.tied_deaths)


def concordance_counts(
    time: np.ndarray, event: np.ndarray, predicted: np.ndarray
) -> tuple[int, int, int]:
    """(correct, tied, pairs) of Harrell's C as lifelines' ``_concordance_summary_statistics``.

    ``predicted`` is a predicted survival time (larger = longer; pass −partial hazard). A
    death at t is compared with every later exit and with censorings at t; deaths tied in
    time are not compared. Each case j counts the deaths i before it (T_i < T_j, or ≤ when j
    is censored) with predicted_i < predicted_j (correct) or equal (tied).

    The prefix "deaths before j" is split into its O(log n) aligned dyadic blocks (the set
    bits of its length); per block size the deaths are sorted by (block, rank of prediction)
    once and every case is answered with ``searchsorted`` — O(n log² n) in vectorised steps.
    """
    time = np.asarray(time, dtype=float)
    died = np.asarray(event, dtype=bool)
    predicted = np.asarray(predicted, dtype=float)
    order = np.argsort(time[died], kind="stable")
    death_time = time[died][order]
    death_pred = predicted[died][order]
    n_deaths = len(death_time)
    if n_deaths == 0:
        return 0, 0, 0
    prefix = np.where(
        died,
        np.searchsorted(death_time, time, side="left"),
        np.searchsorted(death_time, time, side="right"),
    ).astype(np.int64)
    pairs = int(prefix.sum())
    values, rank = np.unique(np.concatenate([death_pred, predicted]), return_inverse=True)
    rank = rank.astype(np.int64)
    death_rank, case_rank = rank[:n_deaths], rank[n_deaths:]
    width = np.int64(len(values) + 1)
    positions = np.arange(n_deaths, dtype=np.int64)
    correct = tied = 0
    for k in range(int(n_deaths).bit_length()):
        has_block = ((prefix >> k) & 1).astype(bool)
        if not has_block.any():
            continue
        block = prefix[has_block] >> (k + 1) << 1  # the block's index at size 2^k
        keys = np.sort((positions >> k) * width + death_rank)
        # only sums are needed, so the queries may be sorted (searchsorted is faster so)
        query = np.sort(block * width + case_rank[has_block])
        below = np.searchsorted(keys, query, side="left")
        # the block's first key sits at index block·2^k: every earlier block is full
        correct += int((below - ((query // width) << k)).sum())
        # equal predictions: only where the key found is the query itself
        equal = below < len(keys)
        equal[equal] = keys[below[equal]] == query[equal]
        if equal.any():
            through = np.searchsorted(keys, query[equal], side="right")
            tied += int((through - below[equal]).sum())
    return correct, tied, pairs


def efron_derivatives(
    s: SortedSurvival, x_sorted: np.ndarray, beta: np.ndarray, *, breslow: bool = False
) -> tuple[np.ndarray, np.ndarray, float]:
    """Hessian, gradient and log partial likelihood (Efron ties, unit weights) at ``beta``.

    ``breslow``: Breslow's ties instead (every slot's f = 0), as R ``coxphf`` uses.

    With slot (k, l) of death time k: denominator δ = R − f·D (f = l/m), numerator
    ν = RX − f·DX, u = ν/δ:  ℓ = Σ_deaths xβ − Σ_slots log δ,  ∇ = Σ_deaths x − Σ_slots u,
    H = Σ_slots u uᵀ − Σ_slots (RXX − f·DXX)/δ. The last sum is Xᵀ diag(w) X with
    w_j = φ_j·(C_j − [j dies]·e_{k(j)}), C_j = Σ over death times ≤ t_j of c_k = Σₗ 1/δ and
    e_k = Σₗ f/δ, so no per-time p×p sums are formed. Same quantities as lifelines'
    ``_get_efron_values_batch`` / ``_get_efron_values_single`` (which loop in Python).
    """
    n_groups = s.n_groups
    phi = np.exp(x_sorted @ beta)
    phix = phi[:, None] * x_sorted
    risk = _reverse_cumsum(np.add.reduceat(phi, s.starts))
    risk_x = _reverse_cumsum(np.add.reduceat(phix, s.starts, axis=0))
    d_phi = np.add.reduceat(phi[s.death_rows], s.death_group_starts)
    d_phix = np.add.reduceat(phix[s.death_rows], s.death_group_starts, axis=0)
    groups = s.death_group[s.death_group_starts]
    per_slot = np.repeat(np.arange(len(groups)), s.tied_deaths)
    f = np.zeros_like(s.slot_fraction) if breslow else s.slot_fraction
    denom = risk[groups][per_slot] - f * d_phi[per_slot]
    u = (risk_x[groups][per_slot] - f[:, None] * d_phix[per_slot]) / denom[:, None]
    inverse = 1.0 / denom
    c = np.zeros(n_groups)
    c[groups] = np.add.reduceat(inverse, s.death_group_starts)
    e = np.add.reduceat(f * inverse, s.death_group_starts)
    row_group = np.repeat(np.arange(n_groups), np.diff(np.append(s.starts, len(s.time))))
    w = np.cumsum(c)[row_group]
    w[s.death_rows] -= e[per_slot]
    w *= phi
    x_deaths = x_sorted[s.death_rows]
    gradient = x_deaths.sum(axis=0) - u.sum(axis=0)
    hessian = u.T @ u - x_sorted.T @ (w[:, None] * x_sorted)
    log_lik = float(x_deaths.sum(axis=0) @ beta - np.log(denom).sum())
    return hessian, gradient, log_lik


class NotConvergedError(Exception):
    """The Newton–Raphson iteration did not end cleanly (the caller falls back)."""


@dataclass(frozen=True)
class EfronFit:
    beta: np.ndarray  # on the caller's (unnormalised) scale
    variance: np.ndarray  # −H⁻¹ on the caller's scale
    log_lik: float
    log_lik_null: float  # at β = 0 (first iteration)
    iterations: int


def efron_newton_raphson(
    s: SortedSurvival,
    x_sorted: np.ndarray,
    *,
    step_size: float = 0.95,
    precision: float = 1e-07,
    r_precision: float = 1e-9,
    max_steps: int = 500,
    polish: bool = True,
) -> EfronFit:
    """lifelines' ``_newton_raphson_for_efron_model`` (same normalisation, step sizer and
    stopping rules, no penaliser, no strata, unit weights) on ``efron_derivatives``.

    Raises ``NotConvergedError`` wherever lifelines would warn or raise (failed convergence, large
    final step, separation, non-positive-definite Hessian, NaN step).
    """
    from lifelines.utils import StepSizer
    from scipy.linalg import solve

    mean = x_sorted.mean(axis=0)
    std = x_sorted.std(axis=0, ddof=1)
    x = (x_sorted - mean) / std
    beta = np.zeros(x.shape[1])
    sizer = StepSizer(step_size)
    step = sizer.next()
    delta = np.zeros_like(beta)
    previous_ll = 0.0
    log_lik_null = 0.0
    i = 0
    while True:
        beta = beta + step * delta
        i += 1
        hessian, gradient, ll = efron_derivatives(s, x, beta)
        if i == 1:
            log_lik_null = ll
        try:
            delta = solve(-hessian, gradient, assume_a="pos", check_finite=False)
        except (ValueError, np.linalg.LinAlgError) as exc:
            raise NotConvergedError(str(exc)) from exc
        if np.any(np.isnan(delta)):
            raise NotConvergedError("delta contains nan value(s)")
        norm_delta = float(np.linalg.norm(delta))
        decrement = float(gradient @ delta / 2)
        if norm_delta < precision:
            break
        if previous_ll != 0 and abs(ll - previous_ll) / (-previous_ll) < r_precision:
            break
        if decrement < precision:
            break
        if i >= max_steps or step <= 0.00001:
            raise NotConvergedError("Newton-Raphson failed to converge")
        if abs(ll) < 0.0001 and norm_delta > 1.0:
            raise NotConvergedError("log-likelihood close to 0 with a large step (separation?)")
        previous_ll = ll
        step = sizer.update(norm_delta).next()
    if norm_delta > 0.1:
        raise NotConvergedError(f"norm(delta) is still high, {norm_delta:.3f}")
    if polish:
        # lifelines stops on a relative log-likelihood change of 1e-9, which can leave a
        # coefficient with a tiny effect per unit (e.g. days since diagnosis) 1-2 % from R's
        # coxph. One more full Newton step from the last solve lands on R's estimate to
        # ~1e-8 (quadratic convergence) and the variance is taken there.
        beta = beta + delta
        hessian, gradient, ll = efron_derivatives(s, x, beta)
    variance = -np.linalg.inv(hessian) / np.outer(std, std)
    return EfronFit(
        beta=beta / std,
        variance=variance,
        log_lik=ll,
        log_lik_null=log_lik_null,
        iterations=i,
    )
