"""Two or more groups compared on OS and PFS: the section of a run over a grouping definition.

Computed on every analysed patient of every group (not only two arms, as the seed reports'
sections): per endpoint, Kaplan–Meier medians by group with the log-rank test on k − 1 df,
every pair's log-rank P with Holm's adjustment, and univariable and multivariable Cox
models of the grouping (k − 1 indicators against the reference group, which the run may
leave out of the multivariable model) and the run's covariates — ``analytics.comparisons``,
pinned to R survival. ``analytics.services`` appends it to the report of such a run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from analytics import covariates as registry
from analytics.comparisons import GROUP_TERM, compare_survival, cox_models
from analytics.reports.figures import kaplan_meier_figure, risk_times
from analytics.reports.model import Section, Table
from analytics.reports.sections.common import ENDPOINTS, p_phrase, unavailable
from analytics.reports.sections.survival import at_risk_frame
from analytics.stats.formatting import format_estimate_ci, format_p, format_stat
from analytics.stats.survival import kaplan_meier_by_group, numbers_at_risk

KEY = "groups"
RISK_TABLE_STEP_MONTHS = 6.0
TITLE = "Survival by group (two or more groups)"


def build_groups_section(
    frame: pd.DataFrame,
    groups: Sequence[str],
    reference: str,
    options: Mapping[str, Any],
) -> Section:
    data = frame[frame["arm"].isin(groups)].copy()
    counts = data["arm"].value_counts()
    empty = [g for g in groups if int(counts.get(g, 0)) == 0]
    if empty:
        return unavailable(KEY, TITLE, f"no patient in group(s) {', '.join(empty)}")
    order = [reference, *(g for g in groups if g != reference)]
    covariates = [registry.get(name) for name in options.get("covariates") or []]
    include_group = options.get("cox_include_grouping", True)
    section = Section(KEY, TITLE)
    for endpoint, (label, duration, event) in ENDPOINTS.items():
        if duration not in data.columns:
            continue
        for column in (duration, event):
            data[column] = pd.to_numeric(data[column], errors="coerce").astype(float)
        _survival(section, data, endpoint, label, duration, event, order)
        _cox(section, data, endpoint, label, duration, event, order, covariates, include_group)
    section.notes.append(
        f"Groups: {', '.join(order)}; reference: {reference}. Pairwise log-rank P adjusted by "
        "Holm's method for the number of pairs."
    )
    return section


def _survival(section, data, endpoint, label, duration, event, order) -> None:
    comparison = compare_survival(data, duration, event, "arm", order)
    km = kaplan_meier_by_group(data, duration, event, "arm", group_order=order)
    test = comparison.overall
    rows = []
    for number, curve in enumerate(km.curves):
        rows.append(
            {
                "Group": str(curve.group),
                "Patients": curve.n,
                "Events": curve.events,
                "Median, months (95% CI)": format_estimate_ci(
                    curve.median, curve.median_lower, curve.median_upper
                ),
                "Log-rank χ²": format_stat(test.statistic) if number == 0 else "",
                "df": str(test.df) if number == 0 and test.df is not None else "",
                "P": format_p(test.p_value) if number == 0 else "",
            }
        )
    section.tables.append(
        Table(
            f"{endpoint}_group_medians",
            f"{label}: median by group and log-rank test (k − 1 df)",
            pd.DataFrame(rows),
            ["Kaplan–Meier; log-rank test of all groups as R survdiff (rho = 0)."],
        )
    )
    pairs = comparison.pairwise
    section.tables.append(
        Table(
            f"{endpoint}_group_pairs",
            f"{label}: pairwise log-rank tests",
            pd.DataFrame(
                {
                    "Groups": [f"{a} vs {b}" for a, b in zip(pairs["group_a"], pairs["group_b"], strict=True)],
                    "Log-rank χ²": [format_stat(s) for s in pairs["statistic"]],
                    "P": [format_p(p) for p in pairs["p"]],
                    "P (Holm)": [format_p(p) for p in pairs["p_adjusted"]],
                }
            ),
            [f"P (Holm): {comparison.adjustment}."],
        )
    )  # fmt: skip
    usable = data.dropna(subset=[duration, event])
    times = risk_times(float(usable[duration].max()), RISK_TABLE_STEP_MONTHS)
    at_risk = numbers_at_risk(usable, duration, "arm", times, group_order=order)
    section.figures.append(
        kaplan_meier_figure(f"{endpoint}_group_km", f"{label} by group", km, at_risk)
    )
    section.tables.append(
        Table(f"{endpoint}_group_at_risk", f"{label}: numbers at risk", at_risk_frame(at_risk))
    )


def _cox(section, data, endpoint, label, duration, event, order, covariates, include) -> None:
    models = cox_models(
        data,
        duration,
        event,
        covariates,
        group="arm",
        groups=order,
        reference=order[0],
    )
    if not include:
        models = cox_models(data, duration, event, covariates)
        grouping_models = cox_models(data, duration, event, [], group="arm", groups=order)
        models.univariable[GROUP_TERM] = grouping_models.univariable[GROUP_TERM]
        models.labels.update(grouping_models.labels)
    multivariable = models.multivariable
    rows = []
    terms = [GROUP_TERM, *(t for t in models.univariable if t != GROUP_TERM)]
    for univariable in (models.univariable[t] for t in terms if t in models.univariable):
        uni = univariable.coefficients.set_index("covariate") if univariable.estimable else None
        multi = (
            multivariable.coefficients.set_index("covariate")
            if multivariable is not None and multivariable.estimable
            else None
        )
        columns = list(uni.index) if uni is not None else []
        for column in columns:
            u = uni.loc[column]
            row = {
                "Term": models.labels.get(column, column).replace("Group: ", "Group "),
                "Univariable HR (95% CI)": format_estimate_ci(u["hr"], u["hr_lower"], u["hr_upper"]),
                "Univariable P": format_p(u["p"]),
                "Multivariable HR (95% CI)": "not in the model",
                "Multivariable P": "",
            }  # fmt: skip
            if multi is not None and column in multi.index:
                m = multi.loc[column]
                row["Multivariable HR (95% CI)"] = format_estimate_ci(
                    m["hr"], m["hr_lower"], m["hr_upper"]
                )
                row["Multivariable P"] = format_p(m["p"])
            rows.append(row)
    notes = []
    if multivariable is not None and multivariable.estimable:
        notes.append(
            f"Multivariable model: n = {multivariable.n}, events = {multivariable.events}; "
            f"likelihood-ratio χ² = {format_stat(multivariable.lr_statistic)}, "
            f"df = {multivariable.lr_df}, {p_phrase(format_p(multivariable.lr_p))}."
        )
    if not include:
        notes.append("The grouping is left out of the multivariable model (run option).")
    section.tables.append(
        Table(
            f"{endpoint}_group_cox", f"{label}: Cox regression by group", pd.DataFrame(rows), notes
        )
    )
