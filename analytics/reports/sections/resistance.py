"""Report B: TACE resistance after N cycles compared between arms (seed 000: 7/72 vs 28/72).

Which patient is resistant is not decided here: the analysis dataset evaluates the registry's
rule set "progression_after_n_cycles" (``registry.derivations.refractoriness``) with the run's
N at the data cut-off (``analytics.selectors._resistance_status``). This section counts the
statuses, in the matched cohort when the report matches, and compares the rates with Pearson χ²
without continuity correction (``analytics.stats.resistance``). The N is printed in the title,
the table heading and the notes, so a reader never has to guess which N a rate belongs to.
"""

from __future__ import annotations

import pandas as pd

from analytics.reports import cells
from analytics.reports.context import ReportContext
from analytics.reports.model import Section, Table
from analytics.reports.sections.common import unavailable
from analytics.stats.resistance import compare_resistance

KEY = "resistance"
TITLE = "TACE resistance after N cycles"
RESISTANCE_COLUMN = "refractory_progression_after_n_cycles"
RESISTANT, NOT_RESISTANT = "refractory", "not_refractory"


def cycles_phrase(cycles: int) -> str:
    return f"{cycles} cycle" if cycles == 1 else f"{cycles} cycles"


def resistance_title(ctx: ReportContext) -> str:
    return f"TACE resistance after {cycles_phrase(ctx.options.resistance_cycles)}"


def row_label(ctx: ReportContext) -> str:
    return f"Resistant after {cycles_phrase(ctx.options.resistance_cycles)}"


def build(ctx: ReportContext) -> Section:
    title = resistance_title(ctx)
    cycles = ctx.options.resistance_cycles
    if RESISTANCE_COLUMN not in ctx.frame.columns:
        return unavailable(KEY, title, f"the dataset has no '{RESISTANCE_COLUMN}' column")
    data, reason = ctx.outcome_frame()
    if data is None:
        return unavailable(KEY, title, f"resistance cannot be compared: {reason}")
    status = data[RESISTANCE_COLUMN].map({RESISTANT: True, NOT_RESISTANT: False})
    data = data.assign(_resistant=status.astype(object).where(status.notna(), None))
    assessed = data[data["_resistant"].notna()]
    empty = [arm for arm, n in ctx.arm_sizes(assessed).items() if n == 0]
    if empty:
        return unavailable(
            KEY,
            title,
            f"no patient of '{empty[0]}' has an assessable resistance status after "
            f"{cycles_phrase(cycles)}",
        )
    comparison = compare_resistance(data, "_resistant", "arm", group_order=list(ctx.arms))
    rate = comparison.rate
    row: dict[str, object] = {"": row_label(ctx)}
    row.update(
        {
            ctx.arm_header(a, assessed): cells.count_pct(rate.events[a], rate.totals[a])
            for a in ctx.arms
        }
    )
    row.update(
        {
            "χ²": cells.statistic(rate.chi_square.statistic),
            "P": cells.p_value(rate.chi_square.p_value),
            "Fisher's exact P": cells.p_value(rate.chi_square.fisher_p)
            if rate.chi_square.fisher_p is not None
            else "",
        }
    )
    not_assessed = {"": "Not assessable (left out)"}
    not_assessed.update(
        {ctx.arm_header(a, assessed): str(comparison.not_assessed[a]) for a in ctx.arms}
    )
    frame = pd.DataFrame([row, not_assessed]).fillna("")
    notes = [
        f"Resistant: progression (mRECIST PD or a new intrahepatic lesion) on imaging after TACE "
        f"session {cycles} (N = {cycles}, the run's option), evaluated at analysis time by the "
        "registry's 'progression_after_n_cycles' rule set on the sessions and scans dated by "
        "the data cut-off. A patient with fewer than N sessions is not resistant; "
        "indeterminate status (no imaging after session N) or no TACE at all is left out.",
    ]
    if ctx.use_matched_cohort:
        notes.append("Compared in the propensity-matched cohort.")
    if not rate.chi_square.estimable:
        notes.append(f"χ² not estimable ({rate.chi_square.reason}).")
    footnotes = [
        f"n (%) of patients with an assessable status after {cycles_phrase(cycles)}; Pearson χ² "
        "without continuity correction."
    ]
    return Section(KEY, title, tables=[Table("resistance", title, frame, footnotes)], notes=notes)
