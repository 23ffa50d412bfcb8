"""Compute a report from the analysis dataset: ``build_report``.

Pure pandas in, a :class:`~analytics.reports.model.Report` out; nothing here touches Django,
so a report can be rebuilt and tested from a dataset file alone. Every section is computed
on its own: data that cannot support a section (an empty arm, no events, a constant
covariate, too few patients to match) gives that section an explanation instead of tables,
and the rest of the report is still produced.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from analytics.reports.context import ReportContext, ReportOptions, prepare_frame
from analytics.reports.model import Report, Section
from analytics.reports.sections import BUILDERS
from analytics.reports.sections.common import covariate_coding, covariate_label, unavailable
from analytics.stats import METHODS_VERSION

logger = logging.getLogger(__name__)

Progress = Callable[[int, str], None]

TEMPLATES: dict[str, tuple[str, tuple[str, ...]]] = {
    "report_a": (
        "Local + systemic therapy vs systemic therapy alone after TACE refractoriness",
        ("patient_flow", "baseline", "survival", "cox", "response", "adverse_events"),
    ),
    "report_b": (
        "TACE + PD-(L)1 inhibitor + molecular targeted therapy vs TACE alone (propensity-matched)",
        ("patient_flow", "matching", "resistance", "survival"),
    ),
    "custom": ("Custom analysis", ()),
}
# With matching in the report, outcomes are compared in the matched cohort (seed 000).
MATCHED_OUTCOME_SECTIONS = frozenset({"survival", "resistance"})
# Exceptions that must stop the run rather than become an "unavailable" section: a worker's
# time limit (Celery raises these by name; importing Celery here would tie the pure layer
# to it) and running out of memory.
FATAL_EXCEPTION_NAMES = frozenset({"SoftTimeLimitExceeded", "TimeLimitExceeded"})

METHODS: dict[str, str] = {
    "general": "Percentages are given to 2 decimals, test statistics to 3 and P to 3 "
    "(P < 0.001 shown as '< 0.001'). All tests are two-sided; P < 0.05 is considered "
    f"significant. Statistics methods version {METHODS_VERSION}.",
    "baseline": "Continuous variables: Shapiro–Wilk per arm; mean ± SD and Student's t-test if "
    "both arms are normal (P ≥ 0.05), otherwise median (Q1, Q3) with SPSS quartiles and the "
    "Mann–Whitney U test (Z). Categorical variables: n (%) and Pearson χ² without continuity "
    "correction, with Fisher's exact P for 2×2 tables with an expected count < 5.",
    "survival": "Kaplan–Meier estimates with Greenwood variance; medians with 95% CI from the "
    "log-transformed pointwise interval (R survfit); log-rank test as R survdiff; numbers at "
    "risk at fixed times.",
    "cox": "Multivariable Cox proportional-hazards models (Efron ties, R coxph default) with "
    "the arm and the listed covariates on complete cases; HR with Wald 95% CI, "
    "likelihood-ratio test, concordance; proportional hazards checked with scaled Schoenfeld "
    "residuals (R cox.zph, survival 2.x).",
    "response": "Best overall response by mRECIST; ORR = CR + PR and DCR = CR + PR + SD over all "
    "patients of the arm, compared with Pearson χ² without continuity correction.",
    "adverse_events": "Adverse events graded by CTCAE v5.0, counted once per patient and term at "
    "the worst grade; any grade and grade ≥ 3 compared with Pearson χ².",
    "matching": "Propensity score from a logistic model of the arm on the chosen baseline "
    "covariates; 1:1 greedy nearest-neighbour matching on the logit of the score without "
    "replacement, {caliper}; balance by standardized mean differences before and after "
    "matching.",
    "resistance": "TACE resistance after N = {cycles} TACE cycles: progression on imaging "
    "(mRECIST PD or a new intrahepatic lesion) after TACE session {cycles}, evaluated at "
    "analysis time with this N by the registry's rule set 'progression_after_n_cycles' on data "
    "dated by the cut-off; rates per arm compared with Pearson χ² without continuity "
    "correction.",
    "matched_outcomes": "Outcomes are compared in the matched cohort; the Cox model of the arm "
    "uses a robust (sandwich) variance clustered on the matched pair.",
}


def build_report(
    template: str,
    frame: pd.DataFrame,
    *,
    flow: Sequence[Mapping[str, Any]],
    endpoint_exclusions: Mapping[str, Mapping[str, int]],
    provenance: Mapping[str, Any],
    control_arm: str,
    treatment_arm: str,
    options: Mapping[str, Any] | None = None,
    sections: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> Report:
    """Compute every section of ``template`` ("report_a", "report_b" or "custom").

    ``sections`` picks the sections of a custom report (and may narrow a named template);
    ``progress(pct, message)`` is called as sections complete. Raises ``ValueError`` only for
    a programming error (unknown template, no sections, the same arm twice, an option of the
    wrong type); data problems
    give unavailable sections.
    """
    if template not in TEMPLATES:
        raise ValueError(f"unknown report template {template!r}; known: {', '.join(TEMPLATES)}")
    if control_arm == treatment_arm:
        raise ValueError("the control and treatment arms must differ")
    default_title, default_keys = TEMPLATES[template]
    keys = list(dict.fromkeys(sections or default_keys))
    if not keys:
        raise ValueError("a custom report needs at least one section")
    report_progress = _safe_progress(progress)
    report_progress(0, "Preparing the analysis dataset")
    ctx = _context(
        frame, control_arm, treatment_arm, flow, endpoint_exclusions, provenance, options
    )
    ctx.use_matched_cohort = "matching" in keys
    built = []
    for number, key in enumerate(keys):
        report_progress(int(100 * number / len(keys)), f"Computing: {_title(key)}")
        built.append(_build_section(key, ctx))
        report_progress(int(100 * (number + 1) / len(keys)), f"Done: {built[-1].title}")
    return Report(
        title=str(provenance.get("title") or default_title),
        provenance=dict(provenance),
        sections=built,
        template=template,
        methods=methods_text(keys, ctx),
        flow=[dict(step) for step in flow],
        endpoint_exclusions={k: dict(v) for k, v in endpoint_exclusions.items()},
    )


def _context(
    frame: pd.DataFrame,
    control_arm: str,
    treatment_arm: str,
    flow: Sequence[Mapping[str, Any]],
    endpoint_exclusions: Mapping[str, Mapping[str, int]],
    provenance: Mapping[str, Any],
    options: Mapping[str, Any] | None,
) -> ReportContext:
    data, other = prepare_frame(frame, control_arm, treatment_arm)
    return ReportContext(
        frame=data,
        control_arm=control_arm,
        treatment_arm=treatment_arm,
        options=ReportOptions.from_dict(options),
        flow=[dict(step) for step in flow],
        endpoint_exclusions={k: dict(v) for k, v in endpoint_exclusions.items()},
        provenance=dict(provenance),
        other_arm_rows=other,
    )


def _title(key: str) -> str:
    return BUILDERS[key][0] if key in BUILDERS else key


def _build_section(key: str, ctx: ReportContext) -> Section:
    if key not in BUILDERS:
        return unavailable(key, key, f"unknown section '{key}'; known: {', '.join(BUILDERS)}")
    title, builder = BUILDERS[key]
    try:
        return builder(ctx)
    except Exception as exc:
        if isinstance(exc, MemoryError) or type(exc).__name__ in FATAL_EXCEPTION_NAMES:
            raise
        # A bug or an input no builder foresaw: keep the rest of the report, say what failed.
        logger.exception("report section %s failed", key)
        return unavailable(
            key, title, f"this section could not be computed ({type(exc).__name__}: {exc})"
        )


def _safe_progress(progress: Progress | None) -> Progress:
    def report(pct: int, message: str) -> None:
        if progress is not None:
            progress(max(0, min(100, pct)), message)

    return report


def _caliper_text(ctx: ReportContext) -> str:
    caliper = ctx.options.caliper_sd
    return "no caliper" if caliper is None else f"caliper {caliper:g} SD of the logit"


def methods_text(keys: Sequence[str], ctx: ReportContext) -> list[str]:
    """The methods paragraph, one sentence group per kind of analysis in the report."""
    text = [METHODS["general"]]
    seen = set(keys)
    for key in (
        "baseline",
        "matching",
        "survival",
        "cox",
        "response",
        "adverse_events",
        "resistance",
    ):
        if key in seen:
            text.append(
                METHODS[key].format(
                    caliper=_caliper_text(ctx), cycles=ctx.options.resistance_cycles
                )
            )
    if ctx.use_matched_cohort and seen & MATCHED_OUTCOME_SECTIONS:
        text.append(METHODS["matched_outcomes"])
    if "cox" in seen:
        coding = "; ".join(
            f"{covariate_label(ctx, c)}: {covariate_coding(ctx, c)}" for c in ctx.options.covariates
        )
        text.append(f"Cox covariates and their coding: {coding}.")
    return text
