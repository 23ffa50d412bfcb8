"""Section 1 of both reports: patient flow from registered patients to the analysed arms."""

from __future__ import annotations

from typing import Any

import pandas as pd

from analytics.reports.cells import SUB_ROW
from analytics.reports.context import ReportContext
from analytics.reports.model import Section, Table
from analytics.reports.sections.common import unavailable

KEY = "patient_flow"
TITLE = "Patient flow"
ANALYSED = "Analysed"


def flow_frame(flow: list[dict[str, Any]], arms: tuple[str, str]) -> pd.DataFrame:
    """A CONSORT-style list: each step with its n (and n per arm where known), preceded by
    one indented row per exclusion reason that led to it, so every count is its own number."""
    rows: list[dict[str, object]] = []
    for step in flow:
        for reason, count in (step.get("excluded") or {}).items():
            rows.append({"Step": f"{SUB_ROW}Excluded: {reason}", "n": int(count)})
        by_arm = step.get("by_arm") or {}
        row: dict[str, object] = {"Step": str(step.get("step", "")), "n": int(step.get("n") or 0)}
        row.update({arm: int(by_arm[arm]) if arm in by_arm else "" for arm in arms})
        rows.append(row)
    frame = pd.DataFrame(rows, columns=["Step", "n", *arms])
    return frame.fillna("")


def build(ctx: ReportContext) -> Section:
    if not ctx.flow and ctx.frame.empty:
        return unavailable(KEY, TITLE, "no patient flow was recorded and no patient was analysed")
    sizes = ctx.arm_sizes()
    steps = [
        *ctx.flow,
        {"step": ANALYSED, "n": sum(sizes.values()), "excluded": {}, "by_arm": sizes},
    ]
    frame = flow_frame(steps, ctx.arms)
    notes = []
    if ctx.other_arm_rows:
        notes.append(
            f"{ctx.other_arm_rows} row(s) of the dataset belonged to neither compared arm and "
            "were not analysed."
        )
    exclusions = [
        {"Endpoint": endpoint, "Reason": reason, "n": int(count)}
        for endpoint, reasons in ctx.endpoint_exclusions.items()
        for reason, count in reasons.items()
    ]
    tables = [Table("patient_flow", "Patient flow", frame)]
    if exclusions:
        tables.append(
            Table(
                "endpoint_exclusions",
                "Patients without data for an endpoint",
                pd.DataFrame(exclusions, columns=["Endpoint", "Reason", "n"]),
                ["These patients are analysed but left out of the endpoint named."],
            )
        )
    return Section(KEY, TITLE, tables=tables, notes=notes)
