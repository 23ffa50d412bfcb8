"""`manage.py seed_demo_runs`: the demo opens on a finished Report A and a finished Report B."""

from __future__ import annotations

import io

from django.core.management import call_command

from analytics.choices import RunStatus
from analytics.models import AnalysisRun, ArmDefinition
from registry.demo import generate_patients
from registry.demo_seed000 import generate_tace_patients
from registry.management.commands.seed_demo import SITES
from tests.analytics.test_run_helpers import seed_arms, world
from tests.registry.factories import make_site

__all__ = ["world"]


def seed_000_arms() -> None:
    """Report B's arms; created again because transactional tests flush migration data."""
    for name, rule in (("TACE alone", "tace_alone"), ("TACE + PD-(L)1 + MTT", "tace_pd1_mtt")):
        ArmDefinition.objects.get_or_create(
            name=name, version=1, defaults={"rule": rule, "window_days": 90}
        )


def test_the_demo_command_computes_report_a_and_b_on_their_sites_and_keeps_them(
    world, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    seed_arms()
    seed_000_arms()
    generate_patients(site=world.nt, count=5, seed=4)
    generate_patients(site=world.sh, count=5, seed=4)
    # Hangzhou exactly as `seed_demo` fills it: fewer patients would not support the 8-covariate
    # propensity model (12 treated patients do not converge), and the demo's own numbers are
    # the ones a newcomer sees.
    code, name, _, count, _ = next(s for s in SITES if s[4] == "seed000")
    hangzhou = make_site(code, name)
    generate_tace_patients(site=hangzhou, count=count, seed=0)

    call_command("seed_demo_runs", "--user", "investigator", stdout=io.StringIO())
    out = io.StringIO()
    call_command("seed_demo_runs", "--user", "investigator", stdout=out)

    runs = {run.template: run for run in AnalysisRun.objects.all()}
    assert sorted(runs) == ["report_a", "report_b"]
    for run in runs.values():
        assert run.finished, run.error
        assert run.status != RunStatus.FAILED, run.error
        assert run.outputs.filter(kind="pdf").exists()
        assert f"run #{run.pk} exists" in out.getvalue()
    # Ten patients cannot support every model of Report A: the run finishes, and says what it
    # could not do.
    report_a = runs["report_a"]
    assert report_a.status == RunStatus.SUCCEEDED_WITH_WARNINGS, report_a.error
    assert any("Cox regression" in warning for warning in report_a.warnings)
    # Each report sees only its own sites' patients: seed-002 patients had TACE too, and
    # seed-000 patients start systemic therapy right after TACE.
    assert set(report_a.parameters["cohort"]["site_ids"]) == {world.nt.pk, world.sh.pk}
    assert runs["report_b"].parameters["cohort"]["site_ids"] == [hangzhou.pk]
    sections = {s["key"]: s for s in runs["report_b"].result["sections"]}
    assert [key for key in ("matching", "resistance", "survival") if key in sections] == [
        "matching",
        "resistance",
        "survival",
    ]
    assert all(sections[key].get("available", True) for key in sections), sections
