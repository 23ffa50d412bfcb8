"""Section 2 of Report A: baseline characteristics by arm, every row of seed 002 Table 1.

Methods (Shapiro–Wilk, t or Mann–Whitney Z, Pearson χ² with Fisher where sparse) are those of
``analytics.stats.table1`` (``compare_continuous``/``compare_categorical``, the functions its
``table_one`` calls); this module chooses the rows and lays them out as the seed does: one row
per yes/no characteristic (its "yes" count), a header row and one indented row per category
otherwise.
"""

from __future__ import annotations

import pandas as pd

from analytics.reports import cells
from analytics.reports.context import ReportContext
from analytics.reports.model import Section, Table
from analytics.reports.sections.common import unavailable
from analytics.stats.table1 import (
    FOOTNOTES,
    VariableSpec,
    compare_categorical,
    compare_continuous,
)

KEY = "baseline"
TITLE = "Baseline characteristics (Table 1)"
YES, NO = "Yes", "No"

# Seed 002 Table 1, in its order; the column each row is computed from.
ROWS: tuple[VariableSpec, ...] = (
    VariableSpec("age", "Age (years)", "continuous"),
    VariableSpec(
        "sex", "Gender", "categorical", ("male", "female"), {"male": "Male", "female": "Female"}
    ),
    VariableSpec("albumin_g_l", "Albumin (g/L)", "continuous"),
    VariableSpec("total_bilirubin_umol_l", "Total bilirubin (µmol/L)", "continuous"),
    VariableSpec("albi_score", "ALBI score", "continuous"),
    VariableSpec("child_pugh_class", "Child-Pugh grade", "categorical", ("A", "B", "C")),
    VariableSpec("tumour_count", "Number of tumours", "categorical", ("Single", "Multiple")),
    VariableSpec("max_diameter_cm", "Maximum tumour diameter (cm)", "continuous"),
    VariableSpec("bclc_stage", "BCLC stage", "categorical", ("0", "A", "B", "C", "D")),
    VariableSpec("afp_ng_ml", "AFP (ng/mL)", "continuous"),
    VariableSpec("chronic_hepatitis", "History of chronic hepatitis", "categorical", (YES, NO)),
    VariableSpec("arteriovenous_fistula", "Arteriovenous fistula", "categorical", (YES, NO)),
    VariableSpec(
        "extrahepatic_blood_supply", "Extrahepatic blood supply", "categorical", (YES, NO)
    ),
)
COLUMNS = ("Test", "t/χ²/Z", "P", "Fisher's exact P", "Footnote")
YES_NO_COLUMNS = ("chronic_hepatitis", "arteriovenous_fistula", "extrahepatic_blood_supply")


def bclc_source(ctx: ReportContext) -> str:
    """The cohort's BCLC source ("used" or "derived"), as the selector codes ``bclc_c``."""
    cohort = ctx.provenance.get("cohort")
    source = cohort.get("bclc_source") if isinstance(cohort, dict) else None
    return "derived" if source == "derived" else "used"


def _baseline_data(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Categorical codes as the labels the table prints (0/1 flags → Yes/No)."""
    data = frame.copy()
    if source == "derived" and "bclc_stage_derived" in data.columns:
        # The cohort stages patients by the derived BCLC stage: show the same one.
        data["bclc_stage"] = data["bclc_stage_derived"]
    for column in YES_NO_COLUMNS:
        if column in data.columns:
            data[column] = data[column].map({1.0: YES, 0.0: NO})
    if "tumour_multiple" in data.columns:
        data["tumour_count"] = data["tumour_multiple"].map({1.0: "Multiple", 0.0: "Single"})
    return data


def _observed_levels(spec: VariableSpec, data: pd.DataFrame) -> VariableSpec:
    """Keep only the levels some patient has (no "Child-Pugh C: 0 (0.00)" rows), but always
    both answers of a yes/no row, in the canonical order."""
    if spec.kind != "categorical" or spec.levels is None or spec.column in YES_NO_COLUMNS:
        return spec
    present = set(data[spec.column].dropna().unique())
    levels = tuple(level for level in spec.levels if level in present) or spec.levels
    return VariableSpec(
        spec.column, spec.label, spec.kind, levels, spec.level_labels, spec.decimals
    )


def build(ctx: ReportContext) -> Section:
    reason = ctx.empty_arm_reason()
    if reason:
        return unavailable(KEY, TITLE, f"baseline characteristics cannot be compared: {reason}")
    source = bclc_source(ctx)
    data = _baseline_data(ctx.frame, source)
    specs = [_observed_levels(spec, data) for spec in ROWS if spec.column in data.columns]
    absent = [spec.label for spec in ROWS if spec.column not in data.columns]
    if not specs:
        return unavailable(KEY, TITLE, "the dataset has none of the Table 1 characteristics")
    rows: list[dict[str, object]] = []
    footnote_keys: set[str] = {"a", "b"}
    reasons: list[tuple[str, str]] = []
    for spec in specs:
        spec_rows, footnote, why = _rows(spec, data, ctx)
        rows += spec_rows
        footnote_keys.update(footnote.split(","))
        if why:
            reasons.append((spec.label, why))
    frame = pd.DataFrame(rows, columns=["Characteristic", *ctx.arms, *COLUMNS])
    frame = frame.rename(columns={arm: ctx.arm_header(arm) for arm in ctx.arms})
    footnotes = [f"{k}. {FOOTNOTES[k]}" for k in sorted(footnote_keys)]
    notes = [f"Not in the dataset, so not shown: {', '.join(absent)}."] if absent else []
    notes += [f"{label}: test not estimable ({why})." for label, why in reasons]
    notes.append(
        "BCLC stage: the stage derived from the CRF (Reig 2022)."
        if source == "derived"
        else "BCLC stage: the stage used for treatment (a recorded override, else derived)."
    )
    table = Table("baseline_table1", "Baseline characteristics by arm", frame, footnotes)
    return Section(KEY, TITLE, tables=[table], notes=notes)


def _rows(
    spec: VariableSpec, data: pd.DataFrame, ctx: ReportContext
) -> tuple[list[dict[str, object]], str, str | None]:
    """Seed 002's layout of one characteristic: a continuous variable on one row with its
    summary per arm; a yes/no one on one row with its "yes" count; any other categorical
    variable as a header row with the test, then one indented row per category."""
    arms = list(ctx.arms)
    if spec.kind == "continuous":
        cont = compare_continuous(
            data, spec.column, "arm", group_order=arms, decimals=spec.decimals
        )
        row = _header(spec.label, cont.statistic_kind, cont.statistic, cont.p_value, None)
        row["Footnote"] = cont.footnote
        for arm, group in zip(arms, cont.groups, strict=True):
            row[arm] = (
                cells.mean_sd(group.mean, group.sd, spec.decimals)
                if cont.normal
                else cells.median_iqr(group.median, group.q1, group.q3, spec.decimals)
            )
        return [row], cont.footnote, cont.reason
    cat = compare_categorical(data, spec.column, "arm", levels=spec.levels, group_order=arms)
    chi = cat.chi_square
    header = _header(spec.label, "χ²", chi.statistic, chi.p_value, chi.fisher_p)
    header["Footnote"] = cat.footnote
    totals = cat.counts.sum(axis=0)
    labels = spec.level_labels or {}
    level_rows = []
    for level in cat.counts.index:
        counts = {
            arm: cells.count_pct(int(cat.counts.loc[level, arm]), int(totals[arm])) for arm in arms
        }
        if spec.column in YES_NO_COLUMNS:
            if level == YES:
                header.update(counts)
            continue
        level_rows.append(
            {"Characteristic": cells.SUB_ROW + labels.get(level, str(level)), **counts}
        )
    if spec.column not in YES_NO_COLUMNS:
        header.update(dict.fromkeys(arms, ""))
    return [header, *level_rows], cat.footnote, chi.reason


def _header(
    label: str, kind: str, statistic: float | None, p: float | None, fisher_p: float | None
) -> dict[str, object]:
    return {
        "Characteristic": label,
        "Test": kind,
        "t/χ²/Z": cells.statistic(statistic),
        "P": cells.p_value(p),
        "Fisher's exact P": cells.p_value(fisher_p) if fisher_p is not None else "",
    }
