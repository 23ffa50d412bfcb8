"""Kaplan–Meier OS and PFS by arm: medians with 95% CI, log-rank, numbers at risk, figures.

Report A compares every analysed patient (seed 002 §4.2–4.3); Report B compares the
propensity-matched cohort (seed 000) and adds a Cox model of the arm with robust variance
clustered on the matched pair (R ``coxph(..., cluster = pair)``).
"""

from __future__ import annotations

import pandas as pd

from analytics.reports import cells
from analytics.reports.context import PAIR, TREATMENT, ReportContext
from analytics.reports.figures import kaplan_meier_figure, risk_times
from analytics.reports.model import Section, Table
from analytics.reports.sections.common import (
    ENDPOINTS,
    covariate_label,
    exclusion_notes,
    p_phrase,
    unavailable,
)
from analytics.stats.cox import fit_cox
from analytics.stats.formatting import format_p, format_stat
from analytics.stats.survival import (
    KaplanMeierResult,
    LogRankResult,
    kaplan_meier_by_group,
    logrank,
    numbers_at_risk,
)

KEY = "survival"
TITLE = "Overall and progression-free survival (Kaplan–Meier)"
MATCHED_TITLE = "Overall and progression-free survival in the matched cohort"
MEDIAN_FOOTNOTES = [
    "Kaplan–Meier estimates; 95% CI of the median from the log-transformed pointwise CI "
    "(R survfit default). NR: not reached.",
    "Log-rank test as R survdiff (rho = 0).",
]


def build(ctx: ReportContext) -> Section:
    title = MATCHED_TITLE if ctx.use_matched_cohort else TITLE
    data, reason = ctx.outcome_frame()
    if data is None:
        return unavailable(KEY, title, f"survival cannot be compared: {reason}")
    reason = ctx.empty_arm_reason(data)
    if reason:
        return unavailable(KEY, title, f"survival cannot be compared between arms: {reason}")
    section = Section(KEY, title)
    if ctx.use_matched_cohort:
        section.notes.append(
            f"Matched cohort: {len(data) // 2} pairs ({len(data)} patients) from the "
            "propensity-score matching section."
        )
    problems = [p for p in (_endpoint(section, ctx, data, e) for e in ENDPOINTS) if p]
    if len(problems) == len(ENDPOINTS):
        return unavailable(KEY, title, "; ".join(problems), section.notes)
    section.notes.extend(f"Not analysed: {p}." for p in problems)
    return section


def _endpoint(
    section: Section, ctx: ReportContext, data: pd.DataFrame, endpoint: str
) -> str | None:
    """Add one endpoint's tables and figure to ``section``; return why it cannot be, if so."""
    label, duration, event = ENDPOINTS[endpoint]
    if duration not in data.columns or event not in data.columns:
        return f"{label.lower()} is not in the dataset"
    usable = data.dropna(subset=[duration, event])
    empty = [arm for arm, n in ctx.arm_sizes(usable).items() if n == 0]
    if empty:
        return f"no patient of '{empty[0]}' has {label.lower()} data"
    if usable[event].sum() == 0:
        return f"no {label.lower()} events in either arm, so no curve falls and no test is possible"
    km = kaplan_meier_by_group(usable, duration, event, "arm", group_order=list(ctx.arms))
    test = logrank(usable, duration, event, "arm", group_order=list(ctx.arms))
    times = risk_times(float(usable[duration].max()), ctx.options.risk_table_step)
    at_risk = numbers_at_risk(usable, duration, "arm", times, group_order=list(ctx.arms))
    section.tables.append(
        Table(
            f"{endpoint}_medians",
            f"{label}: median and log-rank test",
            medians_frame(km, test),
            list(MEDIAN_FOOTNOTES),
        )
    )
    section.tables.append(
        Table(
            f"{endpoint}_at_risk",
            f"{label}: numbers at risk",
            at_risk_frame(at_risk),
            ["Patients still followed (time ≥ t) at each time, months."],
            # Drawn under the Kaplan–Meier curve; a table of its own only in XLSX/CSV.
            in_document=False,
        )
    )
    annotation = None
    if test.estimable:
        annotation = (
            f"Log-rank χ² = {format_stat(test.statistic)}, {p_phrase(format_p(test.p_value))}"
        )
    else:
        section.notes.append(f"{label}: log-rank test not estimable ({test.reason}).")
    section.figures.append(
        kaplan_meier_figure(
            f"{endpoint}_km",
            f"{label} by arm" + (" (matched cohort)" if ctx.use_matched_cohort else ""),
            km,
            at_risk,
            ylabel=f"{label} probability",
            annotation=annotation,
        )
    )
    section.notes.extend(exclusion_notes(ctx, endpoint))
    if ctx.use_matched_cohort:
        _matched_cox(section, ctx, usable, endpoint)
    return None


def medians_frame(km: KaplanMeierResult, test: LogRankResult) -> pd.DataFrame:
    """One row per arm: patients, events, median (95% CI); the log-rank test on the first."""
    rows = []
    for number, curve in enumerate(km.curves):
        first = number == 0
        rows.append(
            {
                "Arm": str(curve.group),
                "Patients": curve.n,
                "Events": curve.events,
                "Median, months (95% CI)": cells.estimate_ci(
                    curve.median,
                    curve.median_lower,
                    curve.median_upper,
                    names=("median", "95% CI lower", "95% CI upper"),
                ),
                "Log-rank χ²": cells.statistic(test.statistic) if first else "",
                "df": cells.number(test.df) if first and test.df is not None else "",
                "P": cells.p_value(test.p_value) if first else "",
            }
        )
    return pd.DataFrame(rows)


def at_risk_frame(at_risk: pd.DataFrame) -> pd.DataFrame:
    frame = at_risk.copy()
    frame.columns = [f"{t:g}" for t in frame.columns]
    frame.insert(0, "Arm", [str(a) for a in frame.index])
    return frame.reset_index(drop=True)


def _matched_cox(section: Section, ctx: ReportContext, data: pd.DataFrame, endpoint: str) -> None:
    """Hazard ratio of the arm in the matched cohort, robust SE clustered on the pair."""
    label, duration, event = ENDPOINTS[endpoint]
    result = fit_cox(data, duration, event, [TREATMENT], cluster_col=PAIR)
    if not result.estimable or result.coefficients.empty:
        section.notes.append(
            f"{label}: Cox model in the matched cohort not estimable ({result.reason})."
        )
        return
    row = result.coefficients.iloc[0]
    frame = pd.DataFrame(
        [
            {
                "Comparison": covariate_label(ctx, TREATMENT),
                "HR (95% CI)": cells.estimate_ci(
                    row["hr"], row["hr_lower"], row["hr_upper"], names=("HR", "lower", "upper")
                ),
                "Robust SE": cells.statistic(row["se"]),
                "z": cells.statistic(row["z"]),
                "P": cells.p_value(row["p"]),
                "Patients": result.n,
                "Events": result.events,
            }
        ]
    )
    section.tables.append(
        Table(
            f"{endpoint}_matched_cox",
            f"{label}: Cox model in the matched cohort",
            frame,
            [
                "Cox proportional hazards (Efron ties) with robust (sandwich) variance clustered "
                "on the matched pair, as R coxph(..., cluster = pair)."
            ],
        )
    )
