"""Helpers shared by the section builders: unavailable sections, arm columns, labels."""

from __future__ import annotations

import pandas as pd

from analytics.reports.context import ReportContext
from analytics.reports.model import Section

ENDPOINTS: dict[str, tuple[str, str, str]] = {
    # key: (label, duration column, event column)
    "os": ("Overall survival", "os_months", "os_event"),
    "pfs": ("Progression-free survival", "pfs_months", "pfs_event"),
}
# The keys of ``endpoint_exclusions`` used by the dataset selector.
EXCLUSION_KEYS = {
    "os": "overall survival",
    "pfs": "progression-free survival",
    "response": "tumour response",
}


def unavailable(key: str, title: str, reason: str, notes: list[str] | None = None) -> Section:
    """A section the data cannot support: the reason is shown instead of tables."""
    text = reason[:1].upper() + reason[1:]
    return Section(key=key, title=title, notes=list(notes or []), unavailable=text)


def missing_columns(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    return [c for c in columns if c not in frame.columns]


def exclusion_notes(ctx: ReportContext, endpoint: str) -> list[str]:
    """ "Left out of <endpoint>: reason (n)" from the selector's endpoint exclusions."""
    reasons = ctx.endpoint_exclusions.get(EXCLUSION_KEYS.get(endpoint, endpoint)) or {}
    if not reasons:
        return []
    parts = "; ".join(f"{reason} ({count})" for reason, count in reasons.items())
    label = EXCLUSION_KEYS.get(endpoint, endpoint)
    return [f"Patients without {label} data: {parts}."]


def rename_arms(frame: pd.DataFrame, ctx: ReportContext, data: pd.DataFrame) -> pd.DataFrame:
    """Replace arm-name columns by "arm (n = N)" headers counted in ``data``."""
    return frame.rename(columns={arm: ctx.arm_header(arm, data) for arm in ctx.arms})


def p_phrase(text: str) -> str:
    """ "P = 0.036" or "P < 0.001" from a formatted p."""
    return f"P {text}" if text.startswith("<") else f"P = {text}"


def covariate_label(ctx: ReportContext, name: str) -> str:
    from analytics.reports.context import COVARIATE_LABELS, TREATMENT

    if name == TREATMENT:
        return f"{ctx.treatment_arm} (vs {ctx.control_arm})"
    return COVARIATE_LABELS.get(name, name)


def covariate_coding(ctx: ReportContext, name: str) -> str:
    """The coding printed next to a covariate: the run's own record first (provenance)."""
    from analytics.reports.context import COVARIATE_CODING, TREATMENT

    if name == TREATMENT:
        return f"{ctx.treatment_arm} = 1, {ctx.control_arm} = 0"
    for item in ctx.provenance.get("covariates") or []:
        if isinstance(item, dict) and item.get("name") == name and item.get("coding"):
            return str(item["coding"])
    return COVARIATE_CODING.get(name, "as stored in the dataset")
