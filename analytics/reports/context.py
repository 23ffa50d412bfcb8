"""What every section of a report works from: the analysed frame, the two arms and options.

The frame is prepared once (identifying columns dropped, types made numeric, a 0/1
``treatment`` indicator added) and shared by all sections. The propensity-score match is
computed at most once per report and reused by the sections that analyse the matched cohort
(Report B: resistance and survival), so they all describe the same pairs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analytics import covariates
from analytics.covariates import SEED002_COVARIATES
from analytics.stats.matching import (
    MatchingOptions,
    MatchResult,
    propensity_match,
)
from registry.endpoints import DEFAULT_RESISTANCE_CYCLES

TREATMENT = "treatment"  # 1 = treatment arm, 0 = control arm: the Cox and PS-model indicator
PAIR = "pair_id"
IDENTIFYING_COLUMNS = ("site_patient_ref",)

NUMERIC_COLUMNS = (
    "age",
    "ecog_ps",
    "albi_score",
    "child_pugh_score",
    "albumin_g_l",
    "total_bilirubin_umol_l",
    "afp_ng_ml",
    "tumour_number",
    "max_diameter_cm",
    "tace_sessions",
    "os_months",
    "os_event",
    "pfs_months",
    "pfs_event",
    "ae_any",
    "ae_grade3plus",
    *(c.name for c in covariates.derived_covariates()),
)
FLAG_COLUMNS = (
    "chronic_hepatitis",
    "hbv",
    "hcv",
    "up_to_seven_within",
    "objective_response",
    "disease_control",
    "macrovascular_invasion",
    "extrahepatic_spread",
    "arteriovenous_fistula",
    "extrahepatic_blood_supply",
)
DEFAULT_CALIPER_SD = 0.2
# A run's option keys for R MatchIt's matching choices → MatchingOptions fields.
MATCHING_KEYS = {
    "matching_order": "order",
    "matching_ratio": "ratio",
    "matching_replace": "replace",
    "matching_exact": "exact",
    "matching_seed": "seed",
    "smd_denominator": "smd_denominator",
}
DEFAULT_RISK_TABLE_STEP = 6.0  # months between the numbers-at-risk columns
# Multivariable Cox covariates: all candidates (seed 002's fixed list) or those with a
# univariable P below the threshold.
COX_SELECTIONS = ("all", "univariable_p")
DEFAULT_COX_SELECTION = "all"
DEFAULT_COX_P_THRESHOLD = 0.1


@dataclass(frozen=True)
class ReportOptions:
    """Options of a run. ``covariates`` are the Cox covariates; matching uses
    ``matching_covariates`` (by default the same list). ``caliper_sd`` None disables it."""

    covariates: tuple[str, ...] = SEED002_COVARIATES
    matching_covariates: tuple[str, ...] = SEED002_COVARIATES
    caliper_sd: float | None = DEFAULT_CALIPER_SD
    resistance_cycles: int = DEFAULT_RESISTANCE_CYCLES
    risk_table_step: float = DEFAULT_RISK_TABLE_STEP
    matching: MatchingOptions = field(default_factory=MatchingOptions)
    cox_selection: str = DEFAULT_COX_SELECTION
    cox_p_threshold: float = DEFAULT_COX_P_THRESHOLD

    @classmethod
    def from_dict(cls, options: Mapping[str, Any] | None) -> ReportOptions:
        """Read the options a run stores (``covariates``, ``caliper_sd``, ``resistance_cycles``)
        and the aliases ``matching_covariates``/``caliper``; missing keys take the defaults."""
        options = dict(options or {})
        covariates = tuple(options.get("covariates") or SEED002_COVARIATES)
        matching = tuple(options.get("matching_covariates") or covariates)
        caliper = options.get("caliper_sd", options.get("caliper", DEFAULT_CALIPER_SD))
        caliper = None if caliper is None else float(caliper)
        # The run's flat option keys (analytics.services.MATCHING_OPTION_FIELDS).
        matching_options = MatchingOptions.from_dict(
            {
                "caliper_sd": caliper,
                **{
                    field: options[key]
                    for key, field in MATCHING_KEYS.items()
                    if options.get(key) is not None
                },
            }
        )
        return cls(
            covariates=covariates,
            matching_covariates=matching,
            caliper_sd=caliper,
            matching=matching_options,
            resistance_cycles=int(options.get("resistance_cycles", DEFAULT_RESISTANCE_CYCLES)),
            risk_table_step=float(options.get("risk_table_step", DEFAULT_RISK_TABLE_STEP)),
            cox_selection=str(options.get("cox_selection") or DEFAULT_COX_SELECTION),
            cox_p_threshold=float(options.get("cox_p_threshold", DEFAULT_COX_P_THRESHOLD)),
        )


@dataclass
class ReportContext:
    frame: pd.DataFrame
    control_arm: str
    treatment_arm: str
    options: ReportOptions = field(default_factory=ReportOptions)
    flow: list[dict[str, Any]] = field(default_factory=list)
    endpoint_exclusions: dict[str, dict[str, int]] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    # Report B analyses outcomes in the matched cohort; Report A in every analysed patient.
    use_matched_cohort: bool = False
    other_arm_rows: int = 0
    _match: MatchResult | None = field(default=None, repr=False)

    @property
    def arms(self) -> tuple[str, str]:
        """Control first, as the seeds' tables put the reference arm first."""
        return (self.control_arm, self.treatment_arm)

    def arm_sizes(self, frame: pd.DataFrame | None = None) -> dict[str, int]:
        data = self.frame if frame is None else frame
        return {arm: int((data["arm"] == arm).sum()) for arm in self.arms}

    def arm_header(self, arm: str, frame: pd.DataFrame | None = None) -> str:
        """Column header as in seed 002: the arm's name with its size."""
        return f"{arm} (n = {self.arm_sizes(frame)[arm]})"

    def empty_arm_reason(self, frame: pd.DataFrame | None = None) -> str | None:
        """Why two arms cannot be compared in ``frame`` (None when both have patients)."""
        empty = [arm for arm, n in self.arm_sizes(frame).items() if n == 0]
        if not empty:
            return None
        names = " and ".join(f"'{arm}'" for arm in empty)
        if len(empty) > 1:
            return f"the arms {names} have no patients"
        return f"the arm {names} has no patients"

    def matching_covariates(self) -> list[str]:
        """The propensity model's columns: each registry covariate's design columns (the
        indicators of a categorical one are added to the frame once)."""
        design = covariates.design(self.frame, self.options.matching_covariates)
        for column in design.columns:
            if column not in self.frame.columns:
                self.frame[column] = design.frame[column]
        return design.columns

    def match(self) -> MatchResult:
        """The 1:1 propensity-score match of the treatment arm to the control arm (cached)."""
        if self._match is None:
            self._match = propensity_match(
                self.frame,
                TREATMENT,
                self.matching_covariates(),
                treated_value=1,
                options=self.options.matching,
            )
        return self._match

    def matching_problem(self) -> str | None:
        """Why no matched cohort can be formed (None when it can). Shared by the matching
        section and the matched-cohort outcome sections so they never disagree."""
        reason = self.empty_arm_reason()
        if reason:
            return reason
        covariates = self.matching_covariates()
        if not covariates:
            return "none of the matching covariates is in the dataset"
        absent = [v for v in self.options.matching.exact if v not in self.frame.columns]
        if absent:
            return f"the exact-matching variable(s) {', '.join(absent)} are not in the dataset"
        result = self.match()
        problems = [] if result.estimable else [str(result.reason)]
        constant = [c for c in covariates if self.frame[c].nunique(dropna=True) < 2]
        if constant:
            # Collinear with the intercept: the model as chosen cannot be fitted, whatever
            # the optimiser manages to return.
            problems.append(
                "the propensity model cannot include covariate(s) with a single value in "
                f"the analysed patients: {', '.join(constant)}"
            )
        if not problems and result.n_pairs == 0:
            problems.append(result.reason or "no pairs were formed")
        return "; ".join(problems) or None

    def outcome_frame(self) -> tuple[pd.DataFrame | None, str | None]:
        """The patients whose outcomes are compared: the matched cohort in Report B.

        Returns (frame, None) or (None, reason) when the matched cohort cannot be formed.
        """
        if not self.use_matched_cohort:
            return self.frame, None
        problem = self.matching_problem()
        if problem:
            return None, f"no matched cohort ({problem})"
        result = self.match()
        if not result.unit_weights:
            # k:1 with unequal sets or reused controls: MatchIt's weights differ between
            # patients, and the outcome sections count every patient once.
            return None, (
                "the match gives the matched patients different weights (controls reused "
                "with replacement, or treated patients with fewer than k controls); outcomes "
                "in such a cohort need weighted analyses, which this report does not compute"
            )
        return result.matched(), None


def prepare_frame(
    frame: pd.DataFrame, control_arm: str, treatment_arm: str
) -> tuple[pd.DataFrame, int]:
    """The analysed patients of the two arms, with numeric types and the treatment indicator.

    Returns the frame and the number of rows dropped because their arm is neither of the two.
    Covariates missing from the dataset are derived from their source column, with the
    coding of the selector, so a report also works on a dataset exported before they existed.
    """
    data = frame.drop(columns=[c for c in IDENTIFYING_COLUMNS if c in frame.columns]).copy()
    if "arm" not in data.columns:
        data["arm"] = pd.Series(np.nan, index=data.index, dtype=object)
    in_arms = data["arm"].isin([control_arm, treatment_arm])
    other = int((~in_arms).sum())
    data = data.loc[in_arms].reset_index(drop=True)
    data = _derive_missing_covariates(data)
    for column in NUMERIC_COLUMNS:
        if column in data.columns:
            data[column] = pd.to_numeric(data[column], errors="coerce").astype(float)
    for column in FLAG_COLUMNS:
        if column in data.columns:
            data[column] = data[column].map(_flag).astype(float)
    data[TREATMENT] = (data["arm"] == treatment_arm).astype(int)
    if "patient_id" not in data.columns:
        data["patient_id"] = np.arange(1, len(data) + 1)
    return data, other


def _derive_missing_covariates(data: pd.DataFrame) -> pd.DataFrame:
    """Coded covariates missing from the dataset (one exported before they existed) are
    derived from their source column by the registry, the coding the selector uses."""
    return covariates.derive_columns(data, only_missing=True)


def _flag(value: object) -> float:
    """1.0 / 0.0 for a yes/no value (bool, 0/1, "yes"/"no"), NaN when unknown."""
    if value is None or value is pd.NA or value is pd.NaT:
        return np.nan
    if isinstance(value, float) and np.isnan(value):
        return np.nan
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("", "unknown"):
            return np.nan
        return 0.0 if text in ("0", "0.0", "false", "no", "n", "none") else 1.0
    return float(bool(value))
