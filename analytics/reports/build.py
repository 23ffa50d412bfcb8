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
from analytics.reports.datasets import deidentified
from analytics.reports.dictionary import default_dictionary
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
    "baseline": "Continuous variables were tested for normality with the Shapiro–Wilk test in "
    "each arm; when both arms were normal (P ≥ 0.05) they are given as mean ± SD and compared "
    "with Student's t-test, otherwise as median (Q1, Q3; SPSS quartile definition) and "
    "compared with the Mann–Whitney U test (Z). Categorical variables are given as n (%) and "
    "compared with Pearson's χ² test without continuity correction; where an expected count "
    "was < 5, Fisher's exact P is also given for 2×2 tables.",
    "survival": "Survival was estimated with the Kaplan–Meier method (Greenwood variance); "
    "the 95% CI of the median is the log-transformed pointwise interval (R survfit default) "
    "and arms were compared with the log-rank test (R survdiff). Numbers at risk are shown "
    "every {risk_step:g} months or a multiple of it.",
    "cox": "Hazard ratios were estimated with Cox proportional-hazards models (Efron ties, as "
    "R coxph) on complete cases: a univariable model for the arm and for each candidate "
    "covariate, and a multivariable model with the arm and the selected covariates; HRs are "
    "given with Wald 95% CIs and P, with the likelihood-ratio test and concordance of each "
    "model. Proportional hazards were checked for each term and globally with the score test "
    'of R survival\'s cox.zph (survival ≥ 3.0, transform = "km"). Where the likelihood was '
    "monotone (separation), Firth's penalised Cox model (Heinze & Schemper 2001; R coxphf) is "
    "reported instead, with profile-likelihood CIs and penalised likelihood-ratio P, and "
    "marked as such.",
    "response": "Tumour response was assessed with mRECIST; the best overall response is "
    "reported, with objective response rate (ORR = CR + PR) and disease control rate "
    "(DCR = CR + PR + SD) over all patients of the arm, compared with Pearson's χ² test "
    "without continuity correction.",
    "adverse_events": "Adverse events were graded with CTCAE v5.0 and counted once per patient "
    "and term at the worst grade; the incidence of any grade and of grade ≥ 3 was compared "
    "with Pearson's χ² test without continuity correction, with Fisher's exact P reported "
    "where an expected count was < 5.",
    "matching": "A propensity score was estimated with a logistic model of the arm on the "
    "chosen baseline covariates; {matching}. Matching followed R MatchIt's nearest-neighbour "
    "method, and balance before and after matching its summary(): means, standardized mean "
    "differences, variance ratios and empirical-CDF mean and maximum differences, after "
    "matching with MatchIt's matching weights.",
    "resistance": "TACE resistance after N = {cycles} TACE cycles (progression on imaging, "
    "mRECIST PD or a new intrahepatic lesion, after TACE session {cycles}) was evaluated at "
    "analysis time with this N by the registry's rule set 'progression_after_n_cycles' on data "
    "dated by the cut-off, and rates per arm were compared with Pearson's χ² test without "
    "correction.",
    "matched_outcomes": "Outcomes were compared in the matched cohort; the Cox model of the "
    "arm uses a robust (sandwich) variance clustered on the matched pair.",
}
# The order of the methods paragraphs: the order in which a manuscript's methods read.
ORDER = ("baseline", "matching", "survival", "cox", "response", "adverse_events", "resistance")
SIGNIFICANCE = (
    "All tests were two-sided and P < 0.05 was considered statistically significant. "
    "Percentages are given to 2 decimals, test statistics to 3 and P to 3 decimals (values "
    "below 0.001 as P < 0.001)."
)
# Packages named in the software sentence, with what they computed.
SOFTWARE: tuple[tuple[str, str, str], ...] = (
    ("pandas", "pandas", ""),
    ("numpy", "NumPy", ""),
    ("scipy", "SciPy", "χ², Fisher's exact, Shapiro–Wilk, t and Mann–Whitney tests"),
    ("lifelines", "lifelines", "Kaplan–Meier, log-rank and Cox models"),
    ("statsmodels", "statsmodels", "logistic propensity model"),
    ("matplotlib", "matplotlib", "figures"),
)


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
        study=study_lines(ctx),
        dictionary=default_dictionary(deidentified(frame)),
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
        # A bug or an input no builder foresaw: keep the rest of the report and say that the
        # section failed. The exception text goes to the log, not into a manuscript.
        logger.exception("report section %s failed", key)
        return unavailable(
            key,
            title,
            "this section could not be computed because of an unexpected error in the report "
            "code; the worker log of this run holds the details",
        )


def _safe_progress(progress: Progress | None) -> Progress:
    def report(pct: int, message: str) -> None:
        if progress is not None:
            progress(max(0, min(100, pct)), message)

    return report


def _caliper_text(ctx: ReportContext) -> str:
    caliper = ctx.options.caliper_sd
    return (
        "without a caliper" if caliper is None else f"with a caliper of {caliper:g} SD of the logit"
    )


def _name(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(value.get("name") or "")
    return "" if value is None else str(value)


def _arm_text(definition: Any, name: str, n: int) -> str:
    rule = definition.get("rule_text") if isinstance(definition, Mapping) else None
    text = f"{name} (n = {n})"
    return f"{text}: {rule}" if rule and rule != name else text


def _cohort_text(cohort: Any) -> str:
    """The cohort's name and its criteria in words (from the run's recorded definition)."""
    if not isinstance(cohort, Mapping):
        return _name(cohort)
    criteria = []
    for key, label in (
        ("sites", "sites"),
        ("bclc_stages", "BCLC stages"),
        ("child_pugh_classes", "Child-Pugh classes"),
    ):
        value = cohort.get(key)
        if value not in (None, "", [], "any"):
            criteria.append(
                f"{label}: {', '.join(map(str, value)) if isinstance(value, list) else value}"
            )
    window = cohort.get("index_date_window")
    if isinstance(window, list | tuple) and any(window):
        start, end = (w or "…" for w in window)
        criteria.append(f"index date {start} to {end}")
    if cohort.get("refractoriness_rule_set"):
        required = "required" if cohort.get("require_refractory") else "reported"
        criteria.append(
            f"TACE refractoriness ({cohort['refractoriness_rule_set']} rule set) {required}"
        )
    if cohort.get("exclude_ineligible"):
        criteria.append("patients flagged ineligible excluded")
    name = str(cohort.get("name") or "")
    description = str(cohort.get("description") or "")
    text = f"{name} — {description}" if description else name
    return f"{text} ({'; '.join(criteria)})" if criteria else text


def study_lines(ctx: ReportContext) -> list[tuple[str, str]]:
    """What a reader needs before the first table: cohort, arms with their sizes, cut-off."""
    sizes = ctx.arm_sizes()
    provenance = ctx.provenance
    lines = [("Cohort", _cohort_text(provenance.get("cohort")))]
    lines.append(
        (
            "Control arm",
            _arm_text(provenance.get("control_arm"), ctx.control_arm, sizes[ctx.control_arm]),
        )
    )
    lines.append(
        (
            "Treatment arm",
            _arm_text(provenance.get("treatment_arm"), ctx.treatment_arm, sizes[ctx.treatment_arm]),
        )
    )
    if provenance.get("cutoff_date"):
        lines.append(("Data cut-off", str(provenance["cutoff_date"])))
    return [(label, text) for label, text in lines if text]


def _data_paragraph(ctx: ReportContext) -> str:
    provenance = ctx.provenance
    sentences = []
    version = provenance.get("registry_version")
    cutoff = provenance.get("cutoff_date")
    source = "Data were extracted from the HCC registry"
    if version:
        source += f" (version {version})"
    if cutoff:
        source += f" with a data cut-off of {cutoff}"
    sentences.append(source + ".")
    cohort = provenance.get("cohort")
    if cohort:
        sentences.append(f"The cohort was defined as: {_cohort_text(cohort)}.")
    arms = []
    for key, name in (("control_arm", ctx.control_arm), ("treatment_arm", ctx.treatment_arm)):
        definition = provenance.get(key)
        definition = definition if isinstance(definition, Mapping) else {}
        rule, window = definition.get("rule_text"), definition.get("window_days")
        detail = [str(rule)] if rule and rule != name else []
        if isinstance(window, int) and window > 0:
            detail.append(f"{window}-day treatment window")
        arms.append(f"'{name}'" + (f" ({'; '.join(detail)})" if detail else ""))
    rule_sets = provenance.get("rule_sets")
    version = rule_sets.get("arms") if isinstance(rule_sets, Mapping) else None
    sentences.append(
        f"Patients were assigned to the arms {arms[0]} and {arms[1]} from their recorded "
        "treatments by the registry's arm definitions"
        + (f" (arm rules {version})." if version else ".")
    )
    endpoints = provenance.get("endpoints")
    if isinstance(endpoints, Mapping):
        for text in endpoints.values():
            text = str(text)
            sentences.append(text[:1].upper() + text[1:] + ".")
    return " ".join(sentences)


def _software_sentence(ctx: ReportContext) -> str:
    versions = ctx.provenance.get("package_versions")
    versions = versions if isinstance(versions, Mapping) else {}
    parts = []
    for key, label, purpose in SOFTWARE:
        if versions.get(key):
            parts.append(f"{label} {versions[key]}" + (f" ({purpose})" if purpose else ""))
    python = f"Python {versions['python']}" if versions.get("python") else "Python"
    listed = ", ".join(parts[:-1]) + f" and {parts[-1]}" if len(parts) > 1 else "".join(parts)
    used = f" with {listed}" if listed else ""
    return (
        "Analyses were performed with the registry's statistics code (methods version "
        f"{METHODS_VERSION}, its results tested against R) in {python}{used}."
    )


def methods_text(keys: Sequence[str], ctx: ReportContext) -> list[str]:
    """The methods as paragraphs an investigator can paste: data, one paragraph per kind of
    analysis in the report, then significance and software.

    Written from the run's own record (cut-off, cohort, arms, endpoints, options, package
    versions), so it describes this run and no other.
    """
    seen = set(keys)
    statistics = []
    for key in ORDER:
        if key in seen:
            statistics.append(
                METHODS[key].format(
                    caliper=_caliper_text(ctx),
                    matching=ctx.options.matching.describe(),
                    risk_step=ctx.options.risk_table_step,
                    cycles=ctx.options.resistance_cycles,
                )
            )
    if ctx.use_matched_cohort and seen & MATCHED_OUTCOME_SECTIONS:
        statistics.append(METHODS["matched_outcomes"])
    if "cox" in seen:
        coding = "; ".join(
            f"{covariate_label(ctx, c)} ({covariate_coding(ctx, c)})"
            for c in ctx.options.covariates
        )
        position = [k for k in ORDER if k in seen].index("cox")
        statistics[position] += f" Cox models were adjusted for: {coding}."
    closing = f"{SIGNIFICANCE} {_software_sentence(ctx)}"
    return [_data_paragraph(ctx), *statistics, closing]
