"""Report B: propensity-score matching with its balance table and love plot (seed 000). The
TACE resistance rate after N cycles in the matched cohort is ``sections.resistance``.

The match itself is ``analytics.stats.matching.propensity_match`` (logistic PS, 1:1 nearest
neighbour on the logit without replacement, caliper 0.2 SD by default), computed once per
report by the context so every matched-cohort section uses the same pairs.
"""

from __future__ import annotations

import pandas as pd

from analytics.reports.context import ReportContext
from analytics.reports.figures import BALANCE_THRESHOLD, love_figure
from analytics.reports.model import Section, Table
from analytics.reports.sections.common import covariate_label, unavailable
from analytics.stats.formatting import format_stat
from analytics.stats.matching import MatchResult

MATCHING_KEY = "matching"
MATCHING_TITLE = "Propensity-score matching"


def build_matching(ctx: ReportContext) -> Section:
    covariates = ctx.matching_covariates()
    missing = [c for c in ctx.options.matching_covariates if c not in covariates]
    notes = [f"Covariates not in the dataset, left out: {', '.join(missing)}."] if missing else []
    problem = ctx.matching_problem()
    if problem:
        return unavailable(MATCHING_KEY, MATCHING_TITLE, f"matching not possible: {problem}", notes)
    result = ctx.match()
    notes.append(
        "Propensity score: logistic regression of the treatment arm on "
        + ", ".join(covariate_label(ctx, c) for c in covariates)
        + "; 1:1 nearest neighbour on the logit of the score, without replacement"
        + (
            f", caliper {ctx.options.caliper_sd:g} SD of the logit."
            if ctx.options.caliper_sd
            else ", no caliper."
        )
    )
    balance = balance_frame(ctx, result)
    unbalanced = balance.loc[balance["_after"].abs() >= BALANCE_THRESHOLD, "Covariate"].tolist()
    if unbalanced:
        notes.append(f"|SMD| ≥ {BALANCE_THRESHOLD} after matching: {', '.join(unbalanced)}.")
    love = pd.DataFrame(
        {
            "label": balance["Covariate"],
            "smd_before": balance["_before"],
            "smd_after": balance["_after"],
        }
    )
    return Section(
        MATCHING_KEY,
        MATCHING_TITLE,
        tables=[
            Table("matching_summary", "Patients matched", summary_frame(ctx, result)),
            Table(
                "matching_balance",
                "Covariate balance before and after matching",
                balance.drop(columns=["_before", "_after"]),
                [
                    "SMD: standardized mean difference (treatment − control); binary covariates "
                    "use the difference in proportions (Austin 2009). |SMD| < 0.1 is "
                    "conventionally taken as balanced."
                ],
            ),
        ],
        figures=[love_figure("matching_love_plot", "Covariate balance (love plot)", love)],
        notes=notes,
    )


def summary_frame(ctx: ReportContext, result: MatchResult) -> pd.DataFrame:
    caliper = "none" if result.caliper is None else f"{format_stat(result.caliper)} (logit scale)"
    rows = [
        ("Patients with complete covariates", str(result.n_control), str(result.n_treated)),
        ("Matched pairs", str(result.n_pairs), str(result.n_pairs)),
        ("Unmatched", str(result.unmatched_control), str(result.unmatched_treated)),
    ]
    frame = pd.DataFrame(rows, columns=["", ctx.control_arm, ctx.treatment_arm])
    overall = pd.DataFrame(
        [
            ("Left out for missing covariates (both arms)", str(result.rows_dropped), ""),
            ("Caliper", caliper, ""),
        ],
        columns=frame.columns,
    )
    return pd.concat([frame, overall], ignore_index=True)


def balance_frame(ctx: ReportContext, result: MatchResult) -> pd.DataFrame:
    """Means per arm and SMD before and after; ``_before``/``_after`` keep the raw SMDs."""
    b = result.balance
    return pd.DataFrame(
        {
            "Covariate": [covariate_label(ctx, c) for c in b["covariate"]],
            f"{ctx.treatment_arm}, before": b["mean_treated_before"].map(format_stat),
            f"{ctx.control_arm}, before": b["mean_control_before"].map(format_stat),
            "SMD before": b["smd_before"].map(format_stat),
            f"{ctx.treatment_arm}, after": b["mean_treated_after"].map(format_stat),
            f"{ctx.control_arm}, after": b["mean_control_after"].map(format_stat),
            "SMD after": b["smd_after"].map(format_stat),
            "_before": b["smd_before"].astype(float),
            "_after": b["smd_after"].astype(float),
        }
    )
