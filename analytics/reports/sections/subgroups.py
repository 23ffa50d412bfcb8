"""Landmark and subgroup analyses of the two compared groups, for OS and PFS.

Chosen per run (``parameters["analyses"]``, frozen into the report's provenance):
``landmark_months`` — the comparison among the patients still followed at that time, time
counted from it; ``subgroup_variables`` — the hazard ratio of the compared group within each
level of each variable (from the variable dictionary), with the group × variable interaction
P, as a table and a forest plot. The statistics are ``analytics.subgroups`` (pinned to R
survival); this module only lays them out.
"""

from __future__ import annotations

import pandas as pd

from analytics.reports.context import ReportContext
from analytics.reports.figures import forest_figure
from analytics.reports.model import Section, Table
from analytics.reports.sections.common import ENDPOINTS, p_phrase, unavailable
from analytics.stats.formatting import format_estimate_ci, format_p, format_stat
from analytics.subgroups import COMPARED, landmark, subgroup_forest_rows, subgroups
from analytics.variables import get as variable

KEY = "subgroups"
TITLE = "Landmark and subgroup analyses"


def build(ctx: ReportContext) -> Section:
    analyses = dict(ctx.provenance.get("analyses") or {})
    at = analyses.get("landmark_months")
    variables = list(analyses.get("subgroup_variables") or [])
    if at is None and not variables:
        return unavailable(KEY, TITLE, "no landmark time and no subgroup variable were chosen")
    reason = ctx.empty_arm_reason()
    if reason:
        return unavailable(KEY, TITLE, f"the groups cannot be compared: {reason}")
    section = Section(KEY, TITLE)
    reference, compared = ctx.control_arm, ctx.treatment_arm
    for endpoint, (label, duration, event) in ENDPOINTS.items():
        if duration not in ctx.frame.columns:
            continue
        if at is not None:
            section.tables.append(_landmark_table(ctx, endpoint, label, duration, event, at))
        if variables:
            _subgroups(section, ctx, endpoint, label, duration, event, variables)
    section.notes.append(
        f"Hazard ratios of {compared} vs {reference} (reference); Cox models as R coxph "
        "(Efron ties), Wald 95% CI."
    )
    return section


def _landmark_table(ctx, endpoint, label, duration, event, at) -> Table:
    result = landmark(
        ctx.frame, duration, event, "arm", ctx.control_arm, ctx.treatment_arm, float(at)
    )
    coefficients = result.cox.coefficients.set_index("covariate")
    if result.cox.estimable and COMPARED in coefficients.index:
        row = coefficients.loc[COMPARED]
        hr = format_estimate_ci(row["hr"], row["hr_lower"], row["hr_upper"])
        hr_p = format_p(row["p"])
    else:
        hr, hr_p = f"not estimable ({result.cox.reason})", ""
    frame = pd.DataFrame(
        [
            {
                "Landmark (months)": f"{float(at):g}",
                "Patients followed beyond it": result.n,
                "Left out (event or censored by then)": result.excluded,
                "Log-rank χ²": format_stat(result.logrank.statistic),
                "Log-rank P": format_p(result.logrank.p_value),
                "HR (95% CI)": hr,
                "P": hr_p,
            }
        ]
    )
    return Table(
        f"{endpoint}_landmark",
        f"{label}: landmark analysis at {float(at):g} months",
        frame,
        [
            "Patients with an event or censored at or before the landmark are left out; time "
            "is counted from the landmark (Anderson, Cain & Gelber 1983).",
        ],
    )


def _subgroups(section, ctx, endpoint, label, duration, event, variables) -> None:
    levels = {}
    labels = {}
    for name in variables:
        var = variable(name)
        found = var.levels_in(ctx.frame) or tuple(sorted(set(ctx.frame[name].dropna().astype(str))))
        levels[name] = list(found)
        labels[name] = var.label
    analysis = subgroups(
        ctx.frame, duration, event, "arm", ctx.control_arm, ctx.treatment_arm, levels
    )
    rows = []
    for row in analysis.rows:
        if row.n == 0:
            continue
        coefficients = row.cox.coefficients
        estimable = row.cox.estimable and len(coefficients)
        rows.append(
            {
                "Subgroup": f"{labels[row.variable]}: {row.level}",
                "Patients": row.n,
                "Events": row.events,
                "HR (95% CI)": format_estimate_ci(
                    coefficients["hr"].iloc[0],
                    coefficients["hr_lower"].iloc[0],
                    coefficients["hr_upper"].iloc[0],
                )
                if estimable
                else f"not estimable ({row.cox.reason})",
                "Interaction P": format_p(analysis.interaction_p[row.variable])
                if analysis.interaction_p[row.variable] is not None
                else "",
            }
        )
    section.tables.append(
        Table(
            f"{endpoint}_subgroups",
            f"{label}: hazard ratio by subgroup",
            pd.DataFrame(rows),
            [
                "Interaction P: likelihood-ratio test of group × subgroup variable on "
                "(levels − 1) df, R anova(coxph(~ group + v), coxph(~ group * v)).",
            ],
        )
    )
    forest = subgroup_forest_rows(analysis, labels)
    forest = forest[[r.n > 0 for r in analysis.rows]].reset_index(drop=True)
    section.figures.append(
        forest_figure(f"{endpoint}_subgroup_forest", f"{label}: hazard ratio by subgroup", forest)
    )
    if any(p is not None and p < 0.05 for p in analysis.interaction_p.values()):
        section.notes.append(
            f"{label}: {p_phrase('< 0.05')} for an interaction — the effect may differ "
            "between subgroups."
        )
