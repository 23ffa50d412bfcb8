"""Propensity-score matching with R MatchIt's conventions (seed 000, ANALYSIS.md).

What R ``matchit(treat ~ covariates, distance = "glm", link = "linear.logit",
method = "nearest", ...)`` followed by ``summary()`` does, read in MatchIt's source
(github.com/kosukeimai/MatchIt; the tests pin it to MatchIt 4.5.1 built with the two upstream
fixes described in ``tests/analytics/stats/data/matching_reference.R``):

* **Propensity score**: logistic regression of the arm on the chosen baseline covariates with an
  intercept (R ``glm(family = binomial)``; here statsmodels ``Logit``, maximum likelihood).
  Patients are matched on its **logit** (the linear predictor; MatchIt ``link = "linear.logit"``).
* **Matching** (``R/matchit2nearest.R``, ``src/nn_matchC_vec.cpp``): greedy nearest neighbour.
  Treated patients are taken in ``order``: ``largest`` logit first (MatchIt's default ``m.order``
  for the ATT), ``smallest`` first, ``data`` (the order of the rows) or ``random`` (a permutation
  drawn from ``seed``; numpy's generator, so the permutation is not R's ``set.seed`` one). With
  ``ratio`` k > 1 matching goes in k rounds: every treated patient gets its first control in
  round 1, its second in round 2, and so on. Each time, the control is the nearest one still
  available on the logit; the nearest on the lower side wins a tie in distance; among controls
  with the same score the one next to the treated patient in the stable sort of all patients by
  score is taken (``nn_matchC_vec.cpp``: ``find_left``/``find_right``, ``<=`` picks the left).
  Without replacement a control is used once; with replacement (``replace``) every treated
  patient gets its k nearest controls and the order does not matter (MatchIt then sets
  ``m.order = "data"``).
* **Caliper** (``R/input_processing.R``, ``process.caliper``; ``std.caliper = TRUE``):
  ``caliper_sd`` × the SD of the logit over **all** analysed patients of both arms
  (``sd(distance[!discarded])``, n − 1 denominator). It is always enforced: a treated patient
  whose nearest available control is farther gets no match in that round. (MatchIt 4.5.1's C++
  calls ``abs()`` on doubles, which some builds, Debian's among them, resolve to the integer
  ``abs``: every |Δ| < 1 becomes 0, so that build lets pairs more than a caliper apart through
  *and* takes the lower-score neighbour even when the higher one is nearer. Fixed upstream
  with ``std::abs`` in 4.5.4, issue #163. With replacement and ratio > 1, 4.5.1 also matched
  the same control k times; fixed in 4.5.3. Both fixes are MatchIt's method, followed here.)
* **Exact matching** on ``exact`` variables: a control is only matched to a treated patient
  with the same values of all of them (4.5.1 matches each stratum separately, which gives the
  same pairs). Exact variables are added to the balance table, as ``summary()`` does.
* **Weights** (``src/weights_matrixC.cpp``): a matched treated patient weighs 1; each control
  gets 1/(number of controls of its treated patient), summed over the treated patients it is
  matched to, then the controls' weights are scaled to sum to the number of matched controls.
  1:1 without replacement gives every matched patient weight 1.
* **Balance** (``R/summary.matchit.R``, ``bal1var``/``qqsum`` in ``R/match.qoi.R``, ``wvar`` in
  ``R/aux_functions.R``), before (unweighted) and after matching (matching weights, unmatched
  patients weight 0): means per arm; standardized mean difference with the **treated arm's SD
  before matching** as denominator (ATT; ``smd_denominator = "pooled"``: √((s₁² + s₀²)/2)
  before matching, MatchIt's ATE denominator); for a 0/1 covariate the SD is √(p(1 − p)); the
  same denominator is used before and after. Variance ratio treated/control (weighted,
  continuous covariates only); eCDF mean and max: the mean and largest absolute difference
  between the arms' weighted empirical CDFs at the distinct values of the covariate (for a 0/1
  covariate both are the absolute difference in proportions). Row ``distance`` is the logit.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

MIN_PER_ARM = 2
ORDERS = ("largest", "smallest", "data", "random")
SMD_DENOMINATORS = ("treated", "pooled")
MAX_RATIO = 10
MAX_CALIPER_SD = 5.0
DISTANCE = "distance"  # the balance row of the logit of the propensity score, as in summary()
_EPS = math.sqrt(np.finfo(float).eps)  # R's sqrt(.Machine$double.eps)


class MatchingOptionError(ValueError):
    """A matching option with a bad value; ``option`` names it (for form and API errors)."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option


@dataclass(frozen=True)
class MatchingOptions:
    """Every choice that changes the match; stored with the run and printed in the report.

    Construction validates: a bad value raises ``ValueError`` naming the option, the value and
    the rule.
    """

    order: str = "largest"
    ratio: int = 1
    replace: bool = False
    caliper_sd: float | None = 0.2
    exact: tuple[str, ...] = ()
    seed: int | None = None
    smd_denominator: str = "treated"

    def __post_init__(self) -> None:
        def bad(name: str, rule: str) -> MatchingOptionError:
            value = getattr(self, name)
            return MatchingOptionError(name, f"matching option '{name}' = {value!r}: {rule}")

        if self.order not in ORDERS:
            raise bad("order", f"must be one of {', '.join(ORDERS)}")
        if isinstance(self.ratio, bool) or not isinstance(self.ratio, int | np.integer):
            raise bad("ratio", "must be a whole number of controls per treated patient")
        if not 1 <= self.ratio <= MAX_RATIO:
            raise bad("ratio", f"must be between 1 and {MAX_RATIO}")
        if not isinstance(self.replace, bool | np.bool_):
            raise bad("replace", "must be true or false")
        if self.caliper_sd is not None:
            if isinstance(self.caliper_sd, bool) or not isinstance(
                self.caliper_sd, int | float | np.number
            ):
                raise bad("caliper_sd", "must be a number of SDs of the logit, or none")
            if not (math.isfinite(self.caliper_sd) and 0 < self.caliper_sd <= MAX_CALIPER_SD):
                raise bad("caliper_sd", f"must be > 0 and ≤ {MAX_CALIPER_SD:g} SD of the logit")
        if isinstance(self.exact, str) or not all(isinstance(v, str) and v for v in self.exact):
            raise bad("exact", "must be a list of variable names")
        if len(set(self.exact)) != len(self.exact):
            raise bad("exact", "names a variable twice")
        if self.seed is not None and (
            isinstance(self.seed, bool) or not isinstance(self.seed, int | np.integer)
        ):
            raise bad("seed", "must be a whole number")
        if self.seed is not None and not 0 <= self.seed < 2**32:
            raise bad("seed", "must be between 0 and 4294967295")
        if self.order == "random" and self.seed is None:
            raise bad("seed", "order 'random' needs a seed so that the match can be reproduced")
        if self.order != "random" and self.seed is not None:
            raise bad("seed", f"a seed is used only with order 'random', not '{self.order}'")
        if self.smd_denominator not in SMD_DENOMINATORS:
            raise bad("smd_denominator", f"must be one of {', '.join(SMD_DENOMINATORS)}")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> MatchingOptions:
        """Options from stored JSON; missing keys take the defaults, unknown keys are refused."""
        values = dict(values or {})
        unknown = sorted(set(values) - set(cls.__dataclass_fields__))
        if unknown:
            raise MatchingOptionError(
                "options", f"unknown matching option(s): {', '.join(unknown)}"
            )
        exact = values.pop("exact", None)
        if exact is not None:  # JSON keeps a list; a bare string is left for the check
            values["exact"] = exact if isinstance(exact, str) else tuple(exact)
        if isinstance(values.get("caliper_sd"), int) and not isinstance(values["caliper_sd"], bool):
            values["caliper_sd"] = float(values["caliper_sd"])
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, every option spelled out (the run's record)."""
        values = asdict(self)
        values["exact"] = list(self.exact)
        return values

    def describe(self) -> str:
        """The match in words, for the methods paragraph."""
        text = (
            f"{self.ratio}:1 greedy nearest-neighbour matching on the logit of the propensity "
            f"score, {'with' if self.replace else 'without'} replacement"
        )
        if not self.replace:
            text += (
                ", "
                + {
                    "largest": "treated patients taken from the largest score down (MatchIt's "
                    "default order)",
                    "smallest": "treated patients taken from the smallest score up",
                    "data": "treated patients taken in the order of the dataset",
                    "random": f"treated patients taken in a random order (seed {self.seed})",
                }[self.order]
            )
        text += (
            f", caliper {self.caliper_sd:g} SD of the logit (SD over all analysed patients)"
            if self.caliper_sd is not None
            else ", no caliper"
        )
        if self.exact:
            text += f", exact matching on {', '.join(self.exact)}"
        denominator = (
            "the treated arm's SD before matching"
            if self.smd_denominator == "treated"
            else "the pooled SD √((s₁² + s₀²)/2) before matching"
        )
        return text + f"; standardized mean differences use {denominator}"


@dataclass(frozen=True)
class MatchResult:
    """Outcome of :func:`propensity_match`.

    ``data``: the analysed rows (all input columns) with ``propensity``, ``logit_ps``,
    ``weight`` (MatchIt's matching weight, 0 when unmatched) and ``pair_id`` (the matched set
    of one treated patient and its controls, MatchIt's ``subclass``; NaN when unmatched, and for
    every patient when a control is reused with replacement).
    ``pairs``: one row per treated–control match: pair_id, treated_index, control_index,
    distance (|Δ logit|), round (1 … ratio).
    ``balance``: covariate, kind and, with suffixes ``_before``/``_after``: mean_treated,
    mean_control, smd, variance_ratio, ecdf_mean, ecdf_max; first row ``distance`` (the logit).
    ``n_pairs``: matched treated patients (matched sets).
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
    options: MatchingOptions = field(default_factory=MatchingOptions)
    matched_control: int = 0
    ess_treated: float = 0.0
    ess_control: float = 0.0
    notes: tuple[str, ...] = ()

    def matched(self) -> pd.DataFrame:
        """The matched cohort: every patient with a matching weight above 0, once."""
        return self.data[self.data["weight"] > 0]

    @property
    def unit_weights(self) -> bool:
        """Whether every matched patient weighs 1 and belongs to one matched set, so that
        unweighted analyses of the matched cohort clustered on ``pair_id`` are MatchIt's."""
        matched = self.matched()
        return bool(
            len(matched)
            and np.allclose(matched["weight"], 1.0)
            and matched["pair_id"].notna().all()
        )


# --- balance (summary.matchit) -------------------------------------------------------------


def _is_binary(values: np.ndarray) -> bool:
    return bool(np.all((values == 0) | (values == 1)))


def weighted_variance(x: np.ndarray, binary: bool, w: np.ndarray | None = None) -> float:
    """MatchIt ``wvar``: p(1 − p) for a 0/1 variable, else the reliability-weights variance
    Σw(x − x̄)²/(1 − Σw²) with w normalised to sum 1 (= var(x) with n − 1 when unweighted)."""
    w = np.ones(len(x)) if w is None else np.asarray(w, float)
    total = w.sum()
    if total <= 0:
        return math.nan
    w = w / total
    mean = float(np.sum(w * x))
    if binary:
        return mean * (1 - mean)
    denominator = 1 - float(np.sum(w**2))
    return float(np.sum(w * (x - mean) ** 2)) / denominator if denominator > 0 else math.nan


def _pooled_sd_proportional(x: np.ndarray, treated: np.ndarray, binary: bool) -> float:
    """MatchIt ``pooled_sd(contribution = "proportional")``, the fallback denominator."""
    n = len(x)
    if binary:
        total = 0.0
        for arm in (treated, ~treated):
            s, k = x[arm].sum(), arm.sum()
            total += s * (1 - s / k) / n
        return math.sqrt(total)
    centred = np.concatenate([x[arm] - x[arm].mean() for arm in (treated, ~treated)])
    return math.sqrt(float(np.sum(centred**2)) / (n - 2))


def ecdf_differences(x: np.ndarray, treated: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """MatchIt ``qqsum(standardize = TRUE)``: |F₁ − F₀| of the weighted eCDFs at every distinct
    value of ``x`` (all rows, weight-0 rows included), mean and max."""
    w = np.asarray(w, float).copy()
    for arm in (treated, ~treated):
        w[arm] = w[arm] / w[arm].sum()
    order = np.argsort(x, kind="stable")
    x_sorted, w_sorted, t_sorted = x[order], w[order], treated[order]
    signed = np.where(t_sorted == t_sorted[0], -w_sorted, w_sorted)
    cumulative = np.abs(np.cumsum(signed))
    at_value_end = np.append(np.diff(x_sorted) != 0, True)
    differences = cumulative[at_value_end]
    return float(differences.mean()), float(differences.max())


def balance_statistics(
    x: np.ndarray,
    treated: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    smd_denominator: str = "treated",
) -> dict[str, float]:
    """One covariate's row of ``summary.matchit`` (MatchIt ``bal1var``, standardize = TRUE).

    ``weights`` None: before matching (every patient weighs 1); otherwise the matching weights
    of every analysed patient (0 = unmatched). The SMD denominator is always computed before
    matching, without weights, so the before and after SMDs share it.
    """
    x = np.asarray(x, float)
    treated = np.asarray(treated, bool)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, float)
    binary = _is_binary(x)
    x1, x0, w1, w0 = x[treated], x[~treated], w[treated], w[~treated]
    too_small = np.count_nonzero(w1) < 2 and np.count_nonzero(w0) < 2
    mean_treated = float(np.sum(x1 * w1) / w1.sum()) if w1.sum() > 0 else math.nan
    mean_control = float(np.sum(x0 * w0) / w0.sum()) if w0.sum() > 0 else math.nan
    difference = mean_treated - mean_control
    smd = math.nan
    if abs(difference) > _EPS:
        if not too_small:
            if smd_denominator == "treated":
                sd = math.sqrt(weighted_variance(x1, binary))
            else:
                sd = math.sqrt((weighted_variance(x1, binary) + weighted_variance(x0, binary)) / 2)
            if not math.isfinite(sd) or sd < _EPS:  # MatchIt: avoid dividing by ~0
                sd = _pooled_sd_proportional(x, treated, binary)
            smd = difference / sd
    elif math.isfinite(difference):
        smd = difference
    variance_ratio = ecdf_mean = ecdf_max = math.nan
    if binary:
        ecdf_mean = ecdf_max = abs(difference)
    elif not too_small:
        v1, v0 = weighted_variance(x1, False, w1), weighted_variance(x0, False, w0)
        # As R's division: x/0 = Inf, 0/0 = NaN (a constant arm after matching).
        variance_ratio = v1 / v0 if v0 else (math.inf if v1 else math.nan)
        ecdf_mean, ecdf_max = ecdf_differences(x, treated, w)
    return {
        "mean_treated": mean_treated,
        "mean_control": mean_control,
        "smd": smd,
        "variance_ratio": variance_ratio,
        "ecdf_mean": ecdf_mean,
        "ecdf_max": ecdf_max,
    }


def standardized_difference(
    treated: pd.Series, control: pd.Series, *, smd_denominator: str = "treated"
) -> float:
    """The SMD of two unmatched groups as ``summary.matchit`` computes it (before matching)."""
    x = np.concatenate([treated.to_numpy(float), control.to_numpy(float)])
    arm = np.concatenate([np.ones(len(treated), bool), np.zeros(len(control), bool)])
    return balance_statistics(x, arm, smd_denominator=smd_denominator)["smd"]


def balance_table(
    data: pd.DataFrame,
    treated: np.ndarray,
    columns: Sequence[str],
    weights: np.ndarray,
    *,
    smd_denominator: str,
) -> pd.DataFrame:
    """Before and after rows for every column (the logit first, named ``distance``)."""
    rows = []
    for column in columns:
        x = data[column].to_numpy(float)
        before = balance_statistics(x, treated, smd_denominator=smd_denominator)
        after = balance_statistics(x, treated, weights, smd_denominator=smd_denominator)
        row: dict[str, Any] = {
            "covariate": DISTANCE if column == "logit_ps" else column,
            "kind": "binary" if _is_binary(x) else "continuous",
        }
        row.update({f"{k}_before": v for k, v in before.items()})
        row.update({f"{k}_after": v for k, v in after.items()})
        rows.append(row)
    return pd.DataFrame(rows)


# --- nearest-neighbour matching (nn_matchC_vec) --------------------------------------------


class _Available:
    """Controls of one exact stratum sorted by score, with "nearest available to the left /
    right of position i" in near-constant time (union–find with path halving)."""

    def __init__(self, size: int) -> None:
        self.left = list(range(size))
        self.right = list(range(size + 1))  # position ``size`` = none to the right
        self.size = size

    def nearest_left(self, i: int) -> int:
        """The largest available position ≤ i, or −1."""
        left = self.left
        root = i
        while root >= 0 and left[root] != root:
            root = left[root]
        while i > root:  # path compression
            following = left[i]
            left[i] = root
            i = following
        return root

    def nearest_right(self, i: int) -> int:
        """The smallest available position ≥ i, or ``size``."""
        right = self.right
        root = i
        while root < self.size and right[root] != root:
            root = right[root]
        while i < root:
            following = right[i]
            right[i] = root
            i = following
        return root

    def remove(self, i: int) -> None:
        self.left[i] = i - 1
        self.right[i] = i + 1


def treated_order(logit_treated: np.ndarray, order: str, seed: int | None) -> np.ndarray:
    """Positions (among the treated, in data order) in the order they are matched."""
    if order == "largest":  # R order(decreasing = TRUE): ties stay in data order
        return np.argsort(-logit_treated, kind="stable")
    if order == "smallest":
        return np.argsort(logit_treated, kind="stable")
    if order == "random":
        return np.random.default_rng(seed).permutation(len(logit_treated))
    return np.arange(len(logit_treated))


def nearest_neighbour(
    logit: np.ndarray,
    treated: np.ndarray,
    *,
    options: MatchingOptions,
    caliper: float | None,
    strata: np.ndarray | None = None,
) -> list[list[tuple[int, int, float]]]:
    """Greedy matching as MatchIt 4.5.1 ``nn_matchC_vec``; see the module docstring.

    Returns, for every treated row (in data order), its matches as (control row, round, |Δ|).
    """
    n = len(logit)
    strata = np.zeros(n, dtype=np.int64) if strata is None else strata
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(logit, kind="stable")] = np.arange(n)  # R sort.list: stable
    treated_rows = np.flatnonzero(treated)
    control_rows = np.flatnonzero(~treated)
    sorted_controls: dict[Any, np.ndarray] = {}
    for stratum in np.unique(strata[control_rows]):
        rows = control_rows[strata[control_rows] == stratum]
        sorted_controls[stratum] = rows[np.argsort(rank[rows], kind="stable")]
    available = {s: _Available(len(rows)) for s, rows in sorted_controls.items()}
    # Where each treated patient sits among its stratum's controls in the sort by score.
    split = {}
    for t in treated_rows:
        rows = sorted_controls.get(strata[t])
        if rows is not None:
            split[t] = int(np.searchsorted(rank[rows], rank[t]))
    sequence = treated_rows[treated_order(logit[treated_rows], options.order, options.seed)]
    if options.replace:
        sequence = treated_rows  # MatchIt: m.order = "data" with replacement
    matches: dict[int, list[tuple[int, int, float]]] = {t: [] for t in treated_rows}
    limit = math.inf if caliper is None else caliper
    for round_number in range(1, options.ratio + 1):
        for t in sequence:
            if t not in split:
                continue
            if round_number > 1 and len(matches[t]) < round_number - 1:
                continue  # no match in an earlier round: none now either
            rows, free = sorted_controls[strata[t]], available[strata[t]]
            taken = {c for c, _, _ in matches[t]}
            left = free.nearest_left(split[t] - 1)
            while left >= 0 and rows[left] in taken:
                left = free.nearest_left(left - 1)
            right = free.nearest_right(split[t])
            while right < len(rows) and rows[right] in taken:
                right = free.nearest_right(right + 1)
            d_left = abs(logit[t] - logit[rows[left]]) if left >= 0 else math.inf
            d_right = abs(logit[t] - logit[rows[right]]) if right < len(rows) else math.inf
            if d_left > limit:
                d_left = math.inf
            if d_right > limit:
                d_right = math.inf
            if math.isinf(d_left) and math.isinf(d_right):
                continue
            chosen, distance = (left, d_left) if d_left <= d_right else (right, d_right)
            matches[t].append((int(rows[chosen]), round_number, float(distance)))
            if not options.replace:
                free.remove(chosen)
    return [matches[t] for t in treated_rows]


def matching_weights(n: int, sets: Sequence[tuple[int, Sequence[int]]]) -> np.ndarray:
    """MatchIt ``weights_matrixC``: treated 1, controls Σ 1/kᵢ then scaled to sum to the
    number of matched controls. ``sets``: (treated row, its control rows)."""
    weights = np.zeros(n)
    controls: set[int] = set()
    for t, matched in sets:
        if not matched:
            continue
        for c in matched:
            weights[c] += 1 / len(matched)
            controls.add(c)
        weights[t] = 1.0
    if controls:
        index = np.fromiter(controls, dtype=np.int64)
        weights[index] *= len(controls) / weights[index].sum()
    return weights


def _ess(weights: np.ndarray) -> float:
    return float(weights.sum() ** 2 / np.sum(weights**2)) if np.any(weights > 0) else 0.0


def _shortage_notes(
    treated: np.ndarray, strata: np.ndarray | None, options: MatchingOptions
) -> list[str]:
    """MatchIt's warnings when there are too few controls for every treated patient."""
    if options.replace:
        return []
    groups = (
        [np.ones(len(treated), bool)]
        if strata is None
        else [strata == s for s in np.unique(strata)]
    )
    ratios = [(~treated & g).sum() / (treated & g).sum() for g in groups if (treated & g).any()]
    scope = " in some exact-matching strata" if strata is not None else ""
    if any(r < 1 for r in ratios):
        return [
            f"Fewer control than treated patients{scope}: not all treated patients can be matched."
        ]
    if options.ratio > 1 and any(r < options.ratio for r in ratios):
        return [
            f"Too few controls{scope} for {options.ratio} per treated patient: not all "
            f"treated patients get {options.ratio} matches."
        ]
    return []


def propensity_match(
    df: pd.DataFrame,
    treatment: str,
    covariates: Sequence[str],
    *,
    treated_value: object = 1,
    options: MatchingOptions | None = None,
) -> MatchResult:
    """Estimate the propensity score and match (see the module docstring).

    Rows with a missing treatment, covariate or exact-matching value are left out and counted
    (MatchIt refuses missing values). Never raises for data problems: too few patients per arm
    or a logistic model that cannot be fitted (perfect separation, singular design) give
    ``estimable=False`` with a reason. Raises ``ValueError`` for a column not in ``df``.
    """
    import statsmodels.api as sm

    options = options or MatchingOptions()
    missing = [c for c in (treatment, *covariates, *options.exact) if c not in df.columns]
    if missing:
        raise ValueError(f"propensity matching: column(s) not in the data: {', '.join(missing)}")
    used_columns = list(dict.fromkeys([treatment, *covariates, *options.exact]))
    used = df[df[used_columns].notna().all(axis=1)]
    rows_dropped = len(df) - len(used)
    treated = (used[treatment] == treated_value).to_numpy()
    n_treated, n_control = int(treated.sum()), int((~treated).sum())
    empty_pairs = pd.DataFrame(
        columns=["pair_id", "treated_index", "control_index", "distance", "round"]
    )

    def failure(reason: str) -> MatchResult:
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
            data=used.assign(weight=0.0, pair_id=np.nan),
            pairs=empty_pairs,
            balance=pd.DataFrame(),
            options=options,
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
    if not model.mle_retvals.get("converged", False):
        return failure("propensity model did not converge")
    # Row by row (not a BLAS product, whose blocking can differ in the last bit between
    # identical rows), so patients with the same covariates get exactly the same score.
    logit = (design.to_numpy(float) * model.params.to_numpy(float)).sum(axis=1)
    propensity = 1 / (1 + np.exp(-logit))
    if (propensity < 1e-8).any() or (propensity > 1 - 1e-8).any():
        return failure("perfect or quasi-perfect separation in the propensity model")

    caliper = (
        float(options.caliper_sd * np.std(logit, ddof=1))
        if options.caliper_sd is not None
        else None
    )
    strata = None
    if options.exact:
        strata = used[list(options.exact)].astype(str).agg("|".join, axis=1).to_numpy()
    matches = nearest_neighbour(logit, treated, options=options, caliper=caliper, strata=strata)
    treated_rows = np.flatnonzero(treated)
    weights = matching_weights(
        len(used), [(t, [c for c, _, _ in m]) for t, m in zip(treated_rows, matches, strict=True)]
    )
    index = used.index
    pair_rows = []
    set_id = 0
    pair_ids = np.full(len(used), np.nan)
    for t, found in zip(treated_rows, matches, strict=True):
        if not found:
            continue
        set_id += 1
        pair_ids[t] = set_id
        for c, round_number, distance in found:
            pair_rows.append((set_id, index[t], index[c], distance, round_number))
            pair_ids[c] = set_id
    pairs = pd.DataFrame(pair_rows, columns=list(empty_pairs.columns))
    if pairs["control_index"].duplicated().any():
        pair_ids[:] = np.nan  # a reused control belongs to several sets: no single pair id
    data = used.assign(propensity=propensity, logit_ps=logit, weight=weights, pair_id=pair_ids)
    balance_columns = ["logit_ps", *covariates, *[v for v in options.exact if v not in covariates]]
    balance = balance_table(
        data, treated, balance_columns, weights, smd_denominator=options.smd_denominator
    )
    matched_control = int(np.count_nonzero(weights[~treated]))
    notes = _shortage_notes(treated, strata, options)
    if strata is not None:
        lonely = sorted(set(strata[treated]) - set(strata[~treated]))
        if lonely:
            notes.append(
                f"{int(np.isin(strata[treated], lonely).sum())} treated patient(s) have no control "
                f"with the same {', '.join(options.exact)}."
            )
    reason = None
    if set_id == 0:
        reason = (
            "no treated patient had a control within the caliper"
            + (" and the exact-matching stratum" if options.exact else "")
            if caliper is not None
            else "no treated patient had a control in its exact-matching stratum"
        )
    return MatchResult(
        estimable=True,
        reason=reason,
        n_treated=n_treated,
        n_control=n_control,
        n_pairs=set_id,
        unmatched_treated=n_treated - set_id,
        unmatched_control=n_control - matched_control,
        rows_dropped=rows_dropped,
        caliper=caliper,
        data=data,
        pairs=pairs,
        balance=balance,
        coefficients=model.params,
        options=options,
        matched_control=matched_control,
        ess_treated=_ess(weights[treated]),
        ess_control=_ess(weights[~treated]),
        notes=tuple(notes),
    )
