"""Section 2 of Report A: baseline characteristics by arm, every row of seed 002 Table 1.

Methods (Shapiro–Wilk, t or Mann–Whitney Z, Pearson χ² with Fisher where sparse) are those of
``analytics.stats.table1``; this module chooses the rows and lays them out as the seed does:
one row per yes/no characteristic (its "yes" count), one row per level otherwise.
"""

from __future__ import annotations

import pandas as pd

from analytics.reports.context import ReportContext
from analytics.reports.model import Section, Table
from analytics.reports.sections.common import unavailable
from analytics.stats.table1 import FOOTNOTES, VariableSpec, table_one

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
COLUMNS = ("Characteristic", "Category", "Test", "t/χ²/Z", "P", "Fisher's exact P", "Footnote")
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
    raw = table_one(data, "arm", specs, group_order=list(ctx.arms))
    frame, footnote_keys, reasons = _layout(raw, ctx)
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


def _layout(
    raw: pd.DataFrame, ctx: ReportContext
) -> tuple[pd.DataFrame, set[str], list[tuple[str, str]]]:
    """Seed 002's layout: characteristic, category, n (%) or summary per arm, t/χ²/Z, P."""
    arms = list(ctx.arms)
    rows: list[dict[str, object]] = []
    footnotes: set[str] = {"a", "b"}
    reasons: list[tuple[str, str]] = []
    for _, row in raw.iterrows():
        header = pd.isna(row["level"]) or row["level"] is None
        if header:
            footnotes.update(str(row["footnote"]).split(","))
            if isinstance(row["reason"], str) and row["reason"]:
                reasons.append((str(row["label"]), row["reason"]))
            rows.append(_header_row(row, arms))
        elif row["variable"] in YES_NO_COLUMNS:
            # A yes/no characteristic prints on one row, with the "yes" count (seed 002).
            if row["level"] == YES:
                rows[-1].update({arm: row[arm] for arm in arms})
        else:
            level_row = dict.fromkeys(COLUMNS, "")
            level_row.update({"Category": row["level"], **{arm: row[arm] for arm in arms}})
            rows.append(level_row)
    frame = pd.DataFrame(rows, columns=["Characteristic", "Category", *arms, *COLUMNS[2:]])
    frame = frame.rename(columns={arm: ctx.arm_header(arm) for arm in arms})
    return frame, footnotes, reasons


def _header_row(row: pd.Series, arms: list[str]) -> dict[str, object]:
    out: dict[str, object] = {"Characteristic": row["label"], "Category": ""}
    out.update({arm: "" if pd.isna(row[arm]) else row[arm] for arm in arms})
    out["Test"] = row["statistic_kind"]
    out["t/χ²/Z"] = row["statistic_text"]
    out["P"] = row["p_text"]
    out["Fisher's exact P"] = row["fisher_p_text"] or ""
    out["Footnote"] = row["footnote"]
    return out
