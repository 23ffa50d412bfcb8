"""Univariable and multivariable Cox models for OS and PFS, PH tests and forest plots.

As seed 002 (and most HCC cohort papers) report them: a univariable model for the arm and for
every candidate covariate, and a multivariable model of the arm with the covariates the run
selects — all candidates (seed 002's fixed list, the default) or those with a univariable
P below a threshold (``cox_selection = "univariable_p"``, ``cox_p_threshold``, default 0.1),
both recorded on the run. Covariates are coded by the registry (``analytics.covariates``);
the coding is printed beside each hazard ratio because a hazard ratio means nothing without
it. Models are ``analytics.stats.cox.fit_cox`` (R ``coxph``, Efron ties) on complete cases;
where the likelihood is monotone the model is Firth's penalised one, marked † in the table,
and the section carries a warning.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analytics import covariates as registry
from analytics.reports import cells
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
from analytics.stats.firth import FIRTH_METHOD
from analytics.stats.formatting import format_estimate_ci, format_p, format_stat

KEY = "cox"
TITLE = "Univariable and multivariable Cox regression for OS and PFS"
FIRTH_MARK = "†"
PH_FOOTNOTE = (
    'Proportional-hazards score test of R survival ≥ 3.0 cox.zph (transform = "km"): one '
    "test per covariate (a categorical covariate on k − 1 df) and a global test; P < 0.05 "
    "suggests the hazard ratio changes over time."
)
NOT_SELECTED = "not selected"


@dataclass(frozen=True)
class _Models:
    univariable: dict[str, CoxResult]  # term → its univariable model
    multivariable: CoxResult
    selected: list[str]  # covariate terms in the multivariable model (the arm always is)
    term_p: dict[str, float | None]  # the univariable P the selection used


def build(ctx: ReportContext) -> Section:
    reason = ctx.empty_arm_reason()
    if reason:
        return unavailable(KEY, TITLE, f"no Cox model comparing the arms: {reason}")
    known = [c for c in ctx.options.covariates if c in registry.COVARIATES and c != TREATMENT]
    design = registry.design(ctx.frame, known)
    section = Section(KEY, TITLE)
    unknown = [c for c in ctx.options.covariates if c not in registry.COVARIATES]
    if design.missing or unknown:
        left_out = ", ".join([*unknown, *design.missing])
        section.notes.append(f"Covariates not in the dataset, left out: {left_out}.")
    base = ctx.frame.drop(columns=design.columns, errors="ignore")
    frame = pd.concat([base, design.frame], axis=1)
    problems = []
    for endpoint in ENDPOINTS:
        problem = _endpoint(section, ctx, frame, endpoint, design.terms)
        if problem:
            problems.append(problem)
    if len(problems) == len(ENDPOINTS):
        return unavailable(KEY, TITLE, "; ".join(problems), section.notes)
    section.notes.extend(f"Not analysed: {p}." for p in problems)
    section.warnings.extend(f"not analysed: {p}" for p in problems)
    return section


def _endpoint(
    section: Section,
    ctx: ReportContext,
    frame: pd.DataFrame,
    endpoint: str,
    terms: dict[str, list[str]],
) -> str | None:
    label, duration, event = ENDPOINTS[endpoint]
    if duration not in frame.columns or event not in frame.columns:
        return f"{label.lower()}: not in the dataset"
    models = fit_models(ctx, frame, duration, event, terms)
    result = models.multivariable
    if not result.estimable:
        return f"{label.lower()} multivariable Cox model not estimable ({result.reason})"
    if TREATMENT not in set(result.coefficients["covariate"]):
        return f"{label.lower()}: the arm does not vary among patients with complete covariates"
    named = [("multivariable model", result)] + [
        (f"univariable model of {_term_label(ctx, name)}", model)
        for name, model in models.univariable.items()
    ]
    for name, model in named:
        warning = _warning(ctx, model)
        if warning:
            section.warnings.append(f"{label}, {name}: {warning}")
            section.notes.append(f"{label}, {name}: {warning}.")
    section.tables.append(
        Table(
            f"{endpoint}_cox",
            f"{label}: univariable and multivariable Cox regression",
            coefficients_frame(ctx, models, terms),
            model_footnotes(ctx, models),
        )
    )
    if not result.ph_test.empty:
        section.tables.append(
            Table(
                f"{endpoint}_cox_ph",
                f"{label}: proportional-hazards test (multivariable model)",
                ph_frame(ctx, result),
                [PH_FOOTNOTE],
            )
        )
    section.figures.append(
        forest_figure(
            f"{endpoint}_forest",
            f"{label}: multivariable hazard ratios (95% CI)",
            forest_rows(ctx, result),
        )
    )
    return None


def fit_models(
    ctx: ReportContext,
    frame: pd.DataFrame,
    duration: str,
    event: str,
    terms: dict[str, list[str]],
) -> _Models:
    """Univariable models of the arm and every covariate, then the multivariable model."""
    all_terms = {TREATMENT: [TREATMENT], **terms}
    univariable = {
        name: fit_cox(frame, duration, event, columns, terms={name: columns}, summaries=False)
        for name, columns in all_terms.items()
    }
    term_p = {name: _term_p(model, name) for name, model in univariable.items()}
    if ctx.options.cox_selection == "univariable_p":
        threshold = ctx.options.cox_p_threshold
        selected = [n for n in terms if term_p[n] is not None and term_p[n] < threshold]
    else:
        selected = list(terms)
    columns = [TREATMENT, *(c for name in selected for c in terms[name])]
    multivariable = fit_cox(
        frame, duration, event, columns, terms={name: terms[name] for name in selected}
    )
    return _Models(univariable, multivariable, selected, term_p)


def _warning(ctx: ReportContext, model: CoxResult) -> str | None:
    """What the reader must be told about one model, with covariates by their labels."""
    if model.estimable and model.firth:
        named = ", ".join(covariate_label(ctx, c) for c in model.separation)
        return (
            f"monotone likelihood in {named} (no finite maximum-likelihood estimate); "
            f"Firth-penalised Cox model reported instead ({FIRTH_MARK})"
        )
    if not model.estimable:
        return f"not estimable ({model.reason})"
    return None


def _term_p(model: CoxResult, term: str) -> float | None:
    """The univariable P of a covariate: its Wald P (as printed), or for a categorical one
    the likelihood-ratio test of the model on k − 1 df."""
    if not model.estimable or model.coefficients.empty:
        return None
    if len(model.coefficients) == 1:
        return float(model.coefficients["p"].iloc[0])
    return model.lr_p


def _estimate(result: CoxResult | None, column: str) -> tuple[str, str]:
    if result is None:
        return NOT_SELECTED, ""
    if not result.estimable:
        return "not estimable", ""
    rows = result.coefficients.set_index("covariate")
    if column not in rows.index:
        return "left out (constant)", ""
    row = rows.loc[column]
    hr = cells.estimate_ci(
        row["hr"], row["hr_lower"], row["hr_upper"], names=("HR", "95% CI lower", "95% CI upper")
    )
    if result.firth:
        hr = cells.Cell(f"{hr} {FIRTH_MARK}", hr.parts)
    return hr, cells.p_value(row["p"])


def coefficients_frame(
    ctx: ReportContext, models: _Models, terms: dict[str, list[str]]
) -> pd.DataFrame:
    """One row per design column: coding, univariable and multivariable HR (95% CI) and P."""
    rows = []
    all_terms = {TREATMENT: [TREATMENT], **terms}
    for name, columns in all_terms.items():
        in_model = name == TREATMENT or name in models.selected
        for column in columns:
            uni, uni_p = _estimate(models.univariable[name], column)
            multi, multi_p = _estimate(models.multivariable if in_model else None, column)
            rows.append(
                {
                    "Covariate": covariate_label(ctx, column),
                    "Coding": covariate_coding(ctx, column),
                    "Univariable HR (95% CI)": uni,
                    "Univariable P": uni_p,
                    "Multivariable HR (95% CI)": multi,
                    "Multivariable P": multi_p,
                }
            )
    return pd.DataFrame(rows, columns=COLUMNS)


COLUMNS = [
    "Covariate",
    "Coding",
    "Univariable HR (95% CI)",
    "Univariable P",
    "Multivariable HR (95% CI)",
    "Multivariable P",
]


def model_footnotes(ctx: ReportContext, models: _Models) -> list[str]:
    result = models.multivariable
    notes = [
        f"Multivariable model: n = {result.n}, events = {result.events}; "
        f"{result.rows_dropped} patient(s) with a missing value left out (complete cases, "
        "as R na.omit). Univariable models use every patient with the covariate.",
        f"Efron ties (R coxph default); Wald 95% CI and P (except models marked {FIRTH_MARK}).",
        _selection_note(ctx, models),
    ]
    if result.lr_statistic is not None:
        notes.append(
            f"Multivariable {'penalised ' if result.firth else ''}likelihood-ratio test "
            f"χ² = {format_stat(result.lr_statistic)}, "
            f"df = {result.lr_df}, {p_phrase(format_p(result.lr_p))}; "
            f"concordance = {format_stat(result.concordance)}."
        )
    fallback = [m for m in [result, *models.univariable.values()] if m.estimable and m.firth]
    if fallback:
        columns = dict.fromkeys(c for m in fallback for c in m.separation)
        named = ", ".join(covariate_label(ctx, c) for c in columns)
        notes.append(
            f"{FIRTH_MARK} Monotone likelihood in {named} (the maximum-likelihood estimate "
            f"does not exist): {FIRTH_METHOD}."
        )
    notes += [
        f"{covariate_label(ctx, d.covariate)} left out of the multivariable model: {d.reason}."
        for d in result.dropped_covariates
    ]
    return notes


def _selection_note(ctx: ReportContext, models: _Models) -> str:
    if ctx.options.cox_selection == "univariable_p":
        threshold = f"{ctx.options.cox_p_threshold:g}"
        chosen = ", ".join(covariate_label(ctx, n) for n in models.selected) or "none"
        return (
            f"Multivariable model: the arm and the covariates with univariable P < {threshold} "
            f"(a categorical covariate by its likelihood-ratio test): {chosen}."
        )
    return "Multivariable model: the arm and every listed covariate (fixed list)."


def ph_frame(ctx: ReportContext, result: CoxResult) -> pd.DataFrame:
    rows = [
        {
            "Covariate": "Global"
            if row["term"] == "GLOBAL"
            else _term_label(ctx, str(row["term"])),
            "χ²": cells.statistic(row["chisq"]),
            "df": int(row["df"]),
            "P": cells.p_value(row["p"]),
        }
        for _, row in result.ph_test.iterrows()
    ]
    return pd.DataFrame(rows, columns=["Covariate", "χ²", "df", "P"])


def _term_label(ctx: ReportContext, term: str) -> str:
    covariate = registry.COVARIATES.get(term)
    return covariate.label if covariate else covariate_label(ctx, term)


def forest_rows(ctx: ReportContext, result: CoxResult) -> pd.DataFrame:
    coefficients = result.coefficients
    mark = f" {FIRTH_MARK}" if result.firth else ""
    return pd.DataFrame(
        {
            "label": [covariate_label(ctx, c) + mark for c in coefficients["covariate"]],
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
