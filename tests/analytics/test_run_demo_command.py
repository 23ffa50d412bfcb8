"""`manage.py seed_demo_runs`: the demo opens on a finished Report A run."""

from __future__ import annotations

import io

from django.core.management import call_command

from analytics.choices import RunStatus
from analytics.models import AnalysisRun
from registry.demo import generate_patients
from tests.analytics.test_run_helpers import seed_arms, world

__all__ = ["world"]


def test_the_demo_command_computes_one_report_a_run_and_keeps_it(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    seed_arms()
    generate_patients(site=world.nt, count=5, seed=4)
    generate_patients(site=world.sh, count=5, seed=4)

    call_command("seed_demo_runs", "--user", "investigator", stdout=io.StringIO())
    out = io.StringIO()
    call_command("seed_demo_runs", "--user", "investigator", stdout=out)

    run = AnalysisRun.objects.get()
    # Ten patients cannot support every model: the run finishes, and says what it could not do.
    assert run.status == RunStatus.SUCCEEDED_WITH_WARNINGS, run.error
    assert any("Cox regression" in warning for warning in run.warnings)
    assert run.template == "report_a"
    assert run.outputs.filter(kind="pdf").exists()
    assert f"run #{run.pk} exists" in out.getvalue()
