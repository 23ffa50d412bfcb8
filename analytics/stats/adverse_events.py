"""Adverse events by CTCAE term (seed 002 Table 3): any grade and grade ≥ 3 per arm.

A patient counts once per term, at the worst grade recorded for that term; the denominator is
every patient of the arm (the safety population), not only patients with an event. Incidence
is compared with Pearson χ² without continuity correction (seed 002 Table 3 footnote b); a term
with no events in either arm is not testable and prints "-", as the seed does for grade ≥ 3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from analytics.stats.categorical import ChiSquareResult, compare_proportions
from analytics.stats.formatting import format_count_pct, format_p

SEVERE_GRADE = 3
ANY_EVENT = "Any adverse event"


@dataclass(frozen=True)
class AdverseEventRow:
    term: str
    any_grade: dict[object, int]
    grade_3_plus: dict[object, int]
    any_grade_test: ChiSquareResult = field(repr=False)
    grade_3_plus_test: ChiSquareResult = field(repr=False)


@dataclass(frozen=True)
class AdverseEventTable:
    arms: tuple[object, ...]
    totals: dict[object, int]
    overall: AdverseEventRow
    terms: tuple[AdverseEventRow, ...]

    def to_frame(self) -> pd.DataFrame:
        """One row per term and severity ("any grade", "grade ≥ 3"): n (%) per arm, χ² P,
        Fisher P where an expected count is < 5 (2×2)."""
        rows = []
        for ae in (self.overall, *self.terms):
            for severity, counts, test in (
                ("any grade", ae.any_grade, ae.any_grade_test),
                ("grade ≥ 3", ae.grade_3_plus, ae.grade_3_plus_test),
            ):
                row: dict[str, object] = {"term": ae.term, "severity": severity}
                row.update(
                    {arm: format_count_pct(counts[arm], self.totals[arm]) for arm in self.arms}
                )
                row["chi_square"] = test.statistic
                row["p_value"] = test.p_value
                row["p"] = format_p(test.p_value)
                row["fisher_p"] = format_p(test.fisher_p) if test.fisher_p is not None else ""
                row["reason"] = test.reason
                rows.append(row)
        columns = [
            "term",
            "severity",
            *self.arms,
            "chi_square",
            "p_value",
            "p",
            "fisher_p",
            "reason",
        ]
        return pd.DataFrame(rows, columns=columns)


def adverse_event_table(
    patients: pd.DataFrame,
    events: pd.DataFrame,
    *,
    group: str,
    patient_id: str = "patient_id",
    term: str = "term",
    grade: str = "grade",
    terms: Sequence[str] | None = None,
    group_order: Sequence[object] | None = None,
) -> AdverseEventTable:
    """Build Table 3 from one row per patient (``patient_id``, ``group``) and one row per
    adverse event (``patient_id``, ``term``, CTCAE ``grade``).

    ``terms`` fixes which terms are shown and in which order (a term with no events still
    gets a row); by default every term in ``events`` in alphabetical order. Events of patients
    not in ``patients`` are ignored, since they are outside the analysed cohort.
    """
    arms = (
        tuple(group_order)
        if group_order is not None
        else tuple(sorted(patients[group].dropna().unique()))
    )
    cohort = patients[patients[group].isin(arms)][[patient_id, group]]
    totals = {arm: int((cohort[group] == arm).sum()) for arm in arms}
    in_cohort = events.merge(cohort, on=patient_id, how="inner")
    worst = in_cohort.groupby([patient_id, term], as_index=False).agg(worst_grade=(grade, "max"))
    worst = worst.merge(cohort, on=patient_id)
    any_worst = (
        in_cohort.groupby(patient_id, as_index=False)
        .agg(worst_grade=(grade, "max"))
        .merge(cohort, on=patient_id)
    )
    overall = _row(ANY_EVENT, any_worst, group, arms, totals)
    shown = list(terms) if terms is not None else sorted(worst[term].unique())
    rows = tuple(_row(name, worst[worst[term] == name], group, arms, totals) for name in shown)
    return AdverseEventTable(arms=arms, totals=totals, overall=overall, terms=rows)


def _row(
    name: str, worst: pd.DataFrame, group: str, arms: Sequence[object], totals: dict[object, int]
) -> AdverseEventRow:
    any_grade = {arm: int((worst[group] == arm).sum()) for arm in arms}
    severe = {
        arm: int(((worst[group] == arm) & (worst["worst_grade"] >= SEVERE_GRADE)).sum())
        for arm in arms
    }
    denominators = [totals[arm] for arm in arms]
    return AdverseEventRow(
        term=name,
        any_grade=any_grade,
        grade_3_plus=severe,
        any_grade_test=compare_proportions([any_grade[a] for a in arms], denominators),
        grade_3_plus_test=compare_proportions([severe[a] for a in arms], denominators),
    )
