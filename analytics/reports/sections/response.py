"""Best overall response (seed 002 Table 2) and adverse events by CTCAE term (Table 3)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.reports import cells
from analytics.reports.context import ReportContext
from analytics.reports.dictionary import ae_term_codes, ae_term_label
from analytics.reports.model import Section, Table
from analytics.reports.sections.common import exclusion_notes, unavailable
from analytics.stats.adverse_events import ANY_EVENT, adverse_event_table
from analytics.stats.categorical import ChiSquareResult, compare_proportions
from analytics.stats.response import RESPONSE_CATEGORIES, BestResponseTable, best_response_table

RESPONSE_KEY = "response"
RESPONSE_TITLE = "Best overall response (mRECIST), ORR and DCR"
AE_KEY = "adverse_events"
AE_TITLE = "Adverse events by CTCAE v5.0 term"
RESPONSE_FOOTNOTES = [
    "Values are n (%) of all patients of the arm; NE: no evaluable response assessment.",
    "ORR = CR + PR; DCR = CR + PR + SD. Pearson χ² without continuity correction.",
]
AE_FOOTNOTES = [
    "Patients with the event, n (%) of all patients of the arm (the safety population); each "
    "patient counts once per term, at the worst grade recorded.",
    "Pearson χ² without continuity correction (as seed 002 Table 3). Fisher's exact P "
    "(two-sided) is given where an expected count is < 5, when the χ² approximation is "
    "doubtful; '-' where no patient had the event.",
]


def _fisher(test: ChiSquareResult) -> str:
    return cells.p_value(test.fisher_p) if test.fisher_p is not None else ""


def build_response(ctx: ReportContext) -> Section:
    reason = ctx.empty_arm_reason()
    if reason:
        return unavailable(RESPONSE_KEY, RESPONSE_TITLE, f"responses cannot be compared: {reason}")
    if "best_response" not in ctx.frame.columns:
        return unavailable(RESPONSE_KEY, RESPONSE_TITLE, "the dataset has no best-response column")
    if not ctx.frame["best_response"].isin(RESPONSE_CATEGORIES).any():
        return unavailable(
            RESPONSE_KEY, RESPONSE_TITLE, "no patient has an evaluable response assessment"
        )
    table = best_response_table(ctx.frame, "best_response", "arm", group_order=list(ctx.arms))
    frame = response_frame(ctx, table)
    notes = exclusion_notes(ctx, "response")
    for rate in (table.orr, table.dcr):
        if not rate.chi_square.estimable:
            notes.append(f"{rate.name}: χ² not estimable ({rate.chi_square.reason}).")
    return Section(
        RESPONSE_KEY,
        RESPONSE_TITLE,
        tables=[
            Table("best_response", "Best overall response by arm", frame, list(RESPONSE_FOOTNOTES))
        ],
        notes=notes,
    )


def response_frame(ctx: ReportContext, table: BestResponseTable) -> pd.DataFrame:
    """Seed 002 Table 2: CR, PR, SD, PD (NE if any) n (%) per arm, then ORR and DCR with χ²."""
    rows: list[dict[str, object]] = []
    for category in table.counts.index:
        row: dict[str, object] = {"Response": category}
        row.update(
            {
                arm: cells.count_pct(int(table.counts.loc[category, arm]), table.totals[arm])
                for arm in table.arms
            }
        )
        row.update({"χ²": "", "P": "", "Fisher's exact P": ""})
        rows.append(row)
    for rate in (table.orr, table.dcr):
        row = {"Response": rate.name}
        row.update({arm: cells.count_pct(rate.events[arm], rate.totals[arm]) for arm in table.arms})
        row.update(
            {
                "χ²": cells.statistic(rate.chi_square.statistic),
                "P": cells.p_value(rate.chi_square.p_value),
                "Fisher's exact P": _fisher(rate.chi_square),
            }
        )
        rows.append(row)
    frame = pd.DataFrame(rows, columns=["Response", *table.arms, "χ²", "P", "Fisher's exact P"])
    return frame.rename(columns={arm: ctx.arm_header(arm) for arm in table.arms})


def adverse_events_long(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per patient and term with the worst grade, from ``ae_<term>``/``ae_<term>_grade``.

    A patient flagged for a term without a recorded grade still counts for "any grade".
    """
    parts = []
    for code in ae_term_codes(frame.columns):
        grade = pd.to_numeric(frame[f"ae_{code}_grade"], errors="coerce")
        flag = pd.to_numeric(frame.get(f"ae_{code}", grade.notna()), errors="coerce").fillna(0)
        has = grade.notna() | (flag > 0)
        parts.append(
            pd.DataFrame(
                {"patient_id": frame.loc[has, "patient_id"], "term": code, "grade": grade[has]}
            )
        )
    if not parts:
        return pd.DataFrame({"patient_id": [], "term": [], "grade": []})
    return pd.concat(parts, ignore_index=True)


def build_adverse_events(ctx: ReportContext) -> Section:
    reason = ctx.empty_arm_reason()
    if reason:
        return unavailable(AE_KEY, AE_TITLE, f"adverse events cannot be compared: {reason}")
    frame = ctx.frame
    codes = ae_term_codes(frame.columns)
    if not codes and "ae_any" not in frame.columns:
        return unavailable(AE_KEY, AE_TITLE, "the dataset has no adverse-event columns")
    arms = list(ctx.arms)
    stats_table = adverse_event_table(
        frame[["patient_id", "arm"]],
        adverse_events_long(frame),
        group="arm",
        terms=codes,
        group_order=arms,
    )
    rows = [_row(ctx, ANY_EVENT, *_overall(ctx, stats_table))]
    rows += [
        _row(
            ctx,
            ae_term_label(ae.term),
            (ae.any_grade, ae.any_grade_test),
            (ae.grade_3_plus, ae.grade_3_plus_test),
        )
        for ae in stats_table.terms
    ]
    table = pd.DataFrame(rows)
    notes = (
        [] if codes else ["No per-term adverse-event data: only the overall incidence is shown."]
    )
    return Section(
        AE_KEY,
        AE_TITLE,
        tables=[
            Table(
                "adverse_events",
                "Adverse events by arm (CTCAE v5.0)",
                table,
                list(AE_FOOTNOTES),
                groups=((ANY_GRADE, 5), (GRADE_3, 5)),
            )
        ],
        notes=notes,
    )


ANY_GRADE, GRADE_3 = "Any grade", "Grade ≥ 3"
Counts = tuple[dict, ChiSquareResult]


def _overall(ctx: ReportContext, stats_table) -> tuple[Counts, Counts]:
    """Overall incidence from the dataset's patient-level flags (``ae_any``/``ae_grade3plus``),
    which count every recorded event; from the term rows when the flags are absent."""
    arms = list(ctx.arms)
    result = []
    for column, fallback in (
        ("ae_any", stats_table.overall.any_grade),
        ("ae_grade3plus", stats_table.overall.grade_3_plus),
    ):
        if column in ctx.frame.columns:
            flags = ctx.frame[column].fillna(0).to_numpy(float) > 0
            counts = {
                arm: int(np.sum(flags & (ctx.frame["arm"] == arm).to_numpy())) for arm in arms
            }
        else:
            counts = dict(fallback)
        test = compare_proportions([counts[a] for a in arms], [stats_table.totals[a] for a in arms])
        result.append((counts, test))
    return result[0], result[1]


def _row(ctx: ReportContext, term: str, any_grade: Counts, grade_3: Counts) -> dict[str, object]:
    """One term: per severity, n (%) per arm, χ², P and Fisher's exact P (expected < 5)."""
    sizes = ctx.arm_sizes()
    row: dict[str, object] = {"Adverse event": term}
    for group, (counts, test) in ((ANY_GRADE, any_grade), (GRADE_3, grade_3)):
        row.update(
            {
                f"{group}: {ctx.arm_header(arm)}": cells.count_pct(int(counts[arm]), sizes[arm])
                for arm in ctx.arms
            }
        )
        row[f"{group}: χ²"] = cells.statistic(test.statistic)
        row[f"{group}: P"] = cells.p_value(test.p_value)
        row[f"{group}: Fisher's exact P"] = _fisher(test)
    return row
