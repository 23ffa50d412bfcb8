"""A run whose data cannot support a section still finishes ("Succeeded with warnings",
listing them), and the section says why.

Demo patients start systemic therapy months after their first TACE, so none qualifies for
Report B's "TACE + PD-(L)1 + MTT within 90 days" arm: matching, resistance and survival have
an empty arm to compare.
"""

from __future__ import annotations

import pytest

from analytics.choices import ReportTemplate, RunStatus
from analytics.models import ArmDefinition, RunOutput
from analytics.services import run_execute
from registry.demo import generate_patients
from tests.analytics.test_run_helpers import queue_run, world

__all__ = ["world"]


@pytest.fixture
def report_b_arms(db):
    control, _ = ArmDefinition.objects.get_or_create(
        name="TACE alone", version=1, defaults={"rule": "tace_alone", "window_days": 90}
    )
    treatment, _ = ArmDefinition.objects.get_or_create(
        name="TACE + PD-(L)1 + MTT", version=1, defaults={"rule": "tace_pd1_mtt", "window_days": 90}
    )
    return control, treatment


def test_sections_without_data_explain_themselves_and_the_run_succeeds_with_warnings(
    world, report_b_arms, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    generate_patients(site=world.nt, count=6, seed=3)
    control, treatment = report_b_arms
    run = queue_run(
        world.investigator,
        world.nt_cohort,
        template=ReportTemplate.REPORT_B,
        control_arm=control,
        treatment_arm=treatment,
    )

    # Every output is produced, but sections were not computed: the run says so (issue 13).
    assert run_execute(run.pk) == RunStatus.SUCCEEDED_WITH_WARNINGS, run.error

    run.refresh_from_db()
    assert any(w.startswith("Propensity") or "matching" in w.lower() for w in run.warnings)
    sections = {s["key"]: s for s in run.result["sections"]}
    assert not sections["matching"]["available"]
    explanation = sections["matching"]["unavailable"]
    assert "TACE + PD-(L)1 + MTT" in explanation
    html = run.outputs.get(kind=RunOutput.Kind.HTML).file.read().decode()
    assert explanation.split(":")[0] in html
    assert run.outputs.filter(kind=RunOutput.Kind.PDF).exists()
