"""Helpers shared by the section builders: unavailable sections, endpoints, labels."""

from __future__ import annotations

from analytics import covariates
from analytics.reports.context import TREATMENT, ReportContext
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


def exclusion_notes(ctx: ReportContext, endpoint: str) -> list[str]:
    """Notes naming who was left out of an endpoint, from the selector's exclusions."""
    reasons = ctx.endpoint_exclusions.get(EXCLUSION_KEYS.get(endpoint, endpoint)) or {}
    if not reasons:
        return []
    parts = "; ".join(f"{reason} ({count})" for reason, count in reasons.items())
    label = EXCLUSION_KEYS.get(endpoint, endpoint)
    return [f"Patients without {label} data: {parts}."]


def p_phrase(text: str) -> str:
    """A formatted p as a phrase: "P = 0.036" or "P < 0.001"."""
    return f"P {text}" if text.startswith("<") else f"P = {text}"


def covariate_label(ctx: ReportContext, name: str) -> str:
    """The printed name of a model covariate; the arm indicator is named after the arms."""
    if name == TREATMENT:
        return f"{ctx.treatment_arm} (vs {ctx.control_arm})"
    return covariates.column_label(name)


def covariate_coding(ctx: ReportContext, name: str) -> str:
    """The coding printed next to a covariate (or design column), from the registry."""
    if name == TREATMENT:
        return f"{ctx.treatment_arm} = 1, {ctx.control_arm} = 0"
    covariate = covariates.for_column(name)
    return covariate.coding_text if covariate else "as stored in the dataset"
