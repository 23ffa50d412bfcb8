"""Multivariable Cox models for OS and PFS with seed 002's covariates, PH test, forest plot.

The model is ``coxph(Surv(time, event) ~ treatment + covariates)`` (Efron ties) on complete
cases, fitted by ``analytics.stats.cox.fit_cox``; the coding of every covariate is printed
next to it because a hazard ratio means nothing without it.
"""

from __future__ import annotations

import pandas as pd

from analytics.reports.context import TREATMENT, ReportContext
from analytics.reports.figures import forest_figure
from analytics.reports.model import Section, Table
from analytics.reports.sections.common import (
    ENDPOINTS,
    covariate_coding,
    covariate_label,
    p_phrase,
    unavailable,
)
from analytics.stats.cox import CoxResult, fit_cox
from analytics.stats.formatting import format_estimate_ci, format_p, format_stat

KEY = "cox"
TITLE = "Multivariable Cox regression for OS and PFS"
PH_FOOTNOTE = (
    "Proportional-hazards test on scaled Schoenfeld residuals against 1 − KM(t) "
    "(R cox.zph, survival 2.x); P < 0.05 suggests the hazard ratio changes over time."
)


def build(ctx: ReportContext) -> Section:
    reason = ctx.empty_arm_reason()
    if reason:
        return unavailable(KEY, TITLE, f"no Cox model comparing the arms: {reason}")
    covariates = [c for c in ctx.options.covariates if c in ctx.frame.columns and c != TREATMENT]
    missing = [c for c in ctx.options.covariates if c not in ctx.frame.columns]
    section = Section(KEY, TITLE)
    if missing:
        section.notes.append(f"Covariates not in the dataset, left out: {', '.join(missing)}.")
    problems = []
    for endpoint in ENDPOINTS:
        problem = _model(section, ctx, endpoint, [TREATMENT, *covariates])
        if problem:
            problems.append(problem)
    if len(problems) == len(ENDPOINTS):
        return unavailable(KEY, TITLE, "; ".join(problems), section.notes)
    section.notes.extend(f"Not analysed: {p}." for p in problems)
    return section


def _model(
    section: Section, ctx: ReportContext, endpoint: str, covariates: list[str]
) -> str | None:
    label, duration, event = ENDPOINTS[endpoint]
    if duration not in ctx.frame.columns or event not in ctx.frame.columns:
        return f"{label.lower()}: not in the dataset"
    result = fit_cox(ctx.frame, duration, event, covariates)
    if not result.estimable:
        return f"{label.lower()} Cox model not estimable ({result.reason})"
    if TREATMENT not in set(result.coefficients["covariate"]):
        return f"{label.lower()}: the arm does not vary among patients with complete covariates"
    section.tables.append(
        Table(
            f"{endpoint}_cox",
            f"{label}: multivariable Cox model",
            coefficients_frame(ctx, result),
            model_footnotes(result),
        )
    )
    section.tables.append(
        Table(
            f"{endpoint}_cox_ph",
            f"{label}: proportional-hazards test",
            ph_frame(ctx, result),
            [PH_FOOTNOTE],
        )
    )
    section.figures.append(
        forest_figure(
            f"{endpoint}_forest", f"{label}: hazard ratios (95% CI)", forest_rows(ctx, result)
        )
    )
    return None


def coefficients_frame(ctx: ReportContext, result: CoxResult) -> pd.DataFrame:
    rows = [
        {
            "Covariate": covariate_label(ctx, row["covariate"]),
            "Coding": covariate_coding(ctx, row["covariate"]),
            "HR (95% CI)": format_estimate_ci(row["hr"], row["hr_lower"], row["hr_upper"]),
            "z": format_stat(row["z"]),
            "P": format_p(row["p"]),
        }
        for _, row in result.coefficients.iterrows()
    ]
    return pd.DataFrame(rows, columns=["Covariate", "Coding", "HR (95% CI)", "z", "P"])


def model_footnotes(result: CoxResult) -> list[str]:
    notes = [
        f"n = {result.n}, events = {result.events}; {result.rows_dropped} patient(s) with a "
        "missing value left out (complete cases, as R na.omit).",
        "Efron ties (R coxph default); Wald 95% CI and P.",
        f"Likelihood-ratio test χ² = {format_stat(result.lr_statistic)}, df = {result.lr_df}, "
        f"{p_phrase(format_p(result.lr_p))}; concordance = {format_stat(result.concordance)}.",
    ]
    notes += [
        f"{d.covariate} left out of the model: {d.reason}." for d in result.dropped_covariates
    ]
    return notes


def ph_frame(ctx: ReportContext, result: CoxResult) -> pd.DataFrame:
    rows = [
        {
            "Covariate": "Global"
            if row["covariate"] == "GLOBAL"
            else covariate_label(ctx, row["covariate"]),
            "χ²": format_stat(row["chisq"]),
            "df": int(row["df"]),
            "P": format_p(row["p"]),
        }
        for _, row in result.ph_test.iterrows()
    ]
    return pd.DataFrame(rows, columns=["Covariate", "χ²", "df", "P"])


def forest_rows(ctx: ReportContext, result: CoxResult) -> pd.DataFrame:
    coefficients = result.coefficients
    return pd.DataFrame(
        {
            "label": [covariate_label(ctx, c) for c in coefficients["covariate"]],
            "hr": coefficients["hr"].to_numpy(float),
            "lower": coefficients["hr_lower"].to_numpy(float),
            "upper": coefficients["hr_upper"].to_numpy(float),
            "text": [
                f"{format_estimate_ci(h, lo, up)}; {p_phrase(format_p(p))}"
                for h, lo, up, p in zip(
                    coefficients["hr"],
                    coefficients["hr_lower"],
                    coefficients["hr_upper"],
                    coefficients["p"],
                    strict=True,
                )
            ],
        }
    )
