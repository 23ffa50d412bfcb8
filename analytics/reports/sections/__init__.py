"""Section builders: each takes the report context and returns one ``Section``.

A builder reports data problems as an unavailable section with the reason; ``build_report``
also catches anything unexpected so one section can never take the whole report down.
"""

from __future__ import annotations

from collections.abc import Callable

from analytics.reports.context import ReportContext
from analytics.reports.model import Section
from analytics.reports.sections import (
    baseline,
    cox,
    flow,
    matching,
    resistance,
    response,
    subgroups,
    survival,
)

SectionBuilder = Callable[[ReportContext], Section]

# key → (title used when the builder fails unexpectedly, builder). The keys are the section
# codes of ``analytics.services.REPORT_SECTIONS``.
BUILDERS: dict[str, tuple[str, SectionBuilder]] = {
    flow.KEY: (flow.TITLE, flow.build),
    baseline.KEY: (baseline.TITLE, baseline.build),
    matching.MATCHING_KEY: (matching.MATCHING_TITLE, matching.build_matching),
    resistance.KEY: (resistance.TITLE, resistance.build),
    survival.KEY: (survival.TITLE, survival.build),
    cox.KEY: (cox.TITLE, cox.build),
    response.RESPONSE_KEY: (response.RESPONSE_TITLE, response.build_response),
    response.AE_KEY: (response.AE_TITLE, response.build_adverse_events),
    subgroups.KEY: (subgroups.TITLE, subgroups.build),
}
