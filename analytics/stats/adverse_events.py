"""Adverse events by CTCAE term (seed 002 Table 3): any grade and grade ≥ 3 per arm.

A patient counts once per term, at the worst grade recorded for that term; the denominator is
every patient of the arm (the safety population), not only patients with an event. Incidence
is compared with Pearson χ² without continuity correction (seed 002 Table 3 footnote b and
spec/ANALYSIS.md), with Fisher's exact P alongside where an expected count is < 5 (2×2); a
term with no events in either arm is not testable (the seed prints "-" for grade ≥ 3).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from analytics.stats.categorical import ChiSquareResult, compare_proportions

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
        """Seed 002 Table 3 as numbers: one row per term ("Any adverse event" first), and for
        each severity ("any grade", "grade ≥ 3") the count and percentage per arm, Pearson χ²
        (no continuity correction), its P, Fisher's exact P where an expected count is < 5
        (2×2; else NaN) and why the test is not estimable (e.g. no event in either arm)."""
        rows = []
        for ae in (self.overall, *self.terms):
            row: dict[str, object] = {"term": ae.term}
            for severity, counts, test in (
                ("any grade", ae.any_grade, ae.any_grade_test),
                ("grade ≥ 3", ae.grade_3_plus, ae.grade_3_plus_test),
            ):
                for arm in self.arms:
                    total = self.totals[arm]
                    row[f"{severity} {arm} n"] = counts[arm]
                    row[f"{severity} {arm} %"] = 100.0 * counts[arm] / total if total else None
                row[f"{severity} chi_square"] = test.statistic
                row[f"{severity} p"] = test.p_value
                row[f"{severity} fisher_p"] = test.fisher_p
                row[f"{severity} reason"] = test.reason
            rows.append(row)
        return pd.DataFrame(rows)


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
