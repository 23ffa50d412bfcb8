"""Reports built once per test session: building and rendering take seconds (figures, PDF)."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics.reports import Report, build_report
from tests.analytics.reports.cohort import (
    CONTROL,
    TREATMENT,
    flow_for,
    provenance_for,
    synthetic_cohort,
)

EXCLUSIONS = {"overall survival": {"no contact after the index date": 2}}


def make_report(
    template: str, frame: pd.DataFrame, *, sections=None, options=None, progress=None
) -> Report:
    return build_report(
        template,
        frame,
        flow=flow_for(frame),
        endpoint_exclusions=EXCLUSIONS,
        provenance=provenance_for(frame),
        control_arm=CONTROL,
        treatment_arm=TREATMENT,
        options=options or {},
        sections=sections,
        progress=progress,
    )


@pytest.fixture(scope="session")
def cohort() -> pd.DataFrame:
    return synthetic_cohort()


@pytest.fixture(scope="session")
def progress_calls() -> list[tuple[int, str]]:
    return []


@pytest.fixture(scope="session")
def report_a(cohort, progress_calls) -> Report:
    return make_report(
        "report_a", cohort, progress=lambda pct, message: progress_calls.append((pct, message))
    )


@pytest.fixture(scope="session")
def report_b(cohort) -> Report:
    return make_report("report_b", cohort)


@pytest.fixture(scope="session")
def pdf_a(report_a) -> bytes:
    from analytics.reports.render import render_pdf

    return render_pdf(report_a)
