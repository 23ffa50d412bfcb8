"""Report B: propensity-score matching with its balance tables and love plot (seed 000). The
TACE resistance rate after N cycles in the matched cohort is ``sections.resistance``.

The match itself is ``analytics.stats.matching.propensity_match`` (R MatchIt's nearest-neighbour
method on the logit of the propensity score, with the run's order, ratio, replacement, caliper,
exact variables and SMD denominator), computed once per report by the context so every
matched-cohort section uses the same pairs. The balance tables are MatchIt's ``summary()``.
"""

from __future__ import annotations

import pandas as pd

from analytics.reports import cells
from analytics.reports.context import ReportContext
from analytics.reports.figures import BALANCE_THRESHOLD, love_figure
from analytics.reports.model import Section, Table
from analytics.reports.sections.common import covariate_label, unavailable
from analytics.stats.formatting import format_stat
from analytics.stats.matching import DISTANCE, MatchResult

MATCHING_KEY = "matching"
MATCHING_TITLE = "Propensity-score matching"
DENOMINATOR_WORDS = {
    "treated": "the treated arm's SD before matching (R MatchIt, ATT)",
    "pooled": "the pooled SD √((s₁² + s₀²)/2) before matching",
}


def build_matching(ctx: ReportContext) -> Section:
    covariates = ctx.matching_covariates()
    missing = [c for c in ctx.options.matching_covariates if c not in covariates]
    notes = [f"Covariates not in the dataset, left out: {', '.join(missing)}."] if missing else []
    problem = ctx.matching_problem()
    if problem:
        return unavailable(MATCHING_KEY, MATCHING_TITLE, f"matching not possible: {problem}", notes)
    result = ctx.match()
    options = result.options
    notes.append(
        "Propensity score: logistic regression of the treatment arm on "
        + ", ".join(covariate_label(ctx, c) for c in covariates)
        + f"; {options.describe()}."
    )
    notes.extend(result.notes)
    balance = balance_frame(ctx, result)
    unbalanced = balance.loc[balance["_after"].abs() >= BALANCE_THRESHOLD, "Covariate"].tolist()
    if unbalanced:
        notes.append(f"|SMD| ≥ {BALANCE_THRESHOLD} after matching: {', '.join(unbalanced)}.")
    if not result.unit_weights:
        notes.append(
            "The matched patients carry different matching weights (MatchIt's: a treated "
            "patient's controls share its weight of 1); the balance after matching is weighted."
        )
    love = pd.DataFrame(
        {
            "label": balance["Covariate"],
            "smd_before": balance["_before"],
            "smd_after": balance["_after"],
        }
    )
    denominator = DENOMINATOR_WORDS[options.smd_denominator]
    return Section(
        MATCHING_KEY,
        MATCHING_TITLE,
        tables=[
            Table("matching_summary", "Patients matched", summary_frame(ctx, result)),
            Table(
                "matching_balance",
                f"Covariate balance before and after matching: means and standardized mean "
                f"differences (SMD denominator: {options.smd_denominator} SD)",
                balance.drop(columns=["_before", "_after"]),
                [
                    f"SMD: difference in means (treatment − control) divided by {denominator}, "
                    "the same denominator before and after matching; for a 0/1 covariate the "
                    "SD is √(p(1 − p)). |SMD| < 0.1 is conventionally taken as balanced. After "
                    "matching, means use MatchIt's matching weights.",
                ],
            ),
            Table(
                "matching_distribution",
                "Covariate balance before and after matching: variance ratios and empirical "
                "CDF differences",
                distribution_frame(ctx, result),
                [
                    "Variance ratio: variance in the treatment arm / in the control arm "
                    "(continuous covariates). eCDF mean and max: mean and largest absolute "
                    "difference between the arms' empirical cumulative distribution functions "
                    "(for a 0/1 covariate, the difference in proportions). As R MatchIt "
                    "summary().",
                ],
            ),
        ],
        figures=[love_figure("matching_love_plot", "Covariate balance (love plot)", love)],
        notes=notes,
    )


def _label(ctx: ReportContext, covariate: str) -> str:
    return "Propensity score (logit)" if covariate == DISTANCE else covariate_label(ctx, covariate)


def summary_frame(ctx: ReportContext, result: MatchResult) -> pd.DataFrame:
    """Patients per arm as MatchIt's ``summary()$nn``, then the match's overall figures."""
    caliper = "none" if result.caliper is None else f"{format_stat(result.caliper)} (logit scale)"
    rows = [
        ("Patients with complete covariates", str(result.n_control), str(result.n_treated)),
        ("Matched", str(result.matched_control), str(result.n_pairs)),
        (
            "Matched, effective sample size",
            format_stat(result.ess_control, 2),
            format_stat(result.ess_treated, 2),
        ),
        ("Unmatched", str(result.unmatched_control), str(result.unmatched_treated)),
    ]
    frame = pd.DataFrame(rows, columns=["", ctx.control_arm, ctx.treatment_arm])
    options = result.options
    sets = "Matched pairs" if options.ratio == 1 and result.unit_weights else "Matched sets"
    overall = pd.DataFrame(
        [
            (sets, str(result.n_pairs), str(result.n_pairs)),
            ("Left out for missing covariates (both arms)", str(result.rows_dropped), ""),
            ("Caliper", caliper, ""),
            ("Controls per treated patient", f"{options.ratio}", ""),
            ("With replacement", "yes" if options.replace else "no", ""),
            ("Matching order", _order_text(result), ""),
            ("Exact matching on", ", ".join(options.exact) or "none", ""),
        ],
        columns=frame.columns,
    )
    return pd.concat([frame, overall], ignore_index=True)


def _order_text(result: MatchResult) -> str:
    options = result.options
    if options.replace:
        return "does not matter with replacement"
    return options.order + (f" (seed {options.seed})" if options.seed is not None else "")


def balance_frame(ctx: ReportContext, result: MatchResult) -> pd.DataFrame:
    """Means per arm and SMD before and after; ``_before``/``_after`` keep the raw SMDs."""
    b = result.balance
    return pd.DataFrame(
        {
            "Covariate": [_label(ctx, c) for c in b["covariate"]],
            f"{ctx.treatment_arm}, before": b["mean_treated_before"].map(cells.statistic),
            f"{ctx.control_arm}, before": b["mean_control_before"].map(cells.statistic),
            "SMD before": b["smd_before"].map(cells.statistic),
            f"{ctx.treatment_arm}, after": b["mean_treated_after"].map(cells.statistic),
            f"{ctx.control_arm}, after": b["mean_control_after"].map(cells.statistic),
            "SMD after": b["smd_after"].map(cells.statistic),
            "_before": b["smd_before"].astype(float),
            "_after": b["smd_after"].astype(float),
        }
    )


def _ratio(value: float, kind: str) -> str:
    return "" if kind == "binary" else cells.statistic(value)


def distribution_frame(ctx: ReportContext, result: MatchResult) -> pd.DataFrame:
    b = result.balance
    frame = {"Covariate": [_label(ctx, c) for c in b["covariate"]]}
    for when in ("before", "after"):
        frame[f"Variance ratio, {when}"] = [
            _ratio(v, k) for v, k in zip(b[f"variance_ratio_{when}"], b["kind"], strict=True)
        ]
        frame[f"eCDF mean, {when}"] = b[f"ecdf_mean_{when}"].map(cells.statistic).tolist()
        frame[f"eCDF max, {when}"] = b[f"ecdf_max_{when}"].map(cells.statistic).tolist()
    return pd.DataFrame(frame)
