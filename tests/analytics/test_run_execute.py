"""run_execute in-process: what a run stores, how it fails, and that it is not computed twice.

The report engine is replaced by a stand-in here so these tests pin the run machinery alone;
tests/analytics/test_run_worker.py runs the real engine in a real worker.
"""

from __future__ import annotations

import sys
import types

import pandas as pd
import pytest

from analytics.choices import RunStatus
from analytics.models import AnalysisRun, RunOutput
from analytics.services import run_execute
from registry.demo import generate_patients
from tests.analytics.test_run_helpers import queue_run, world

__all__ = ["world"]


class StandInEngine:
    """Records its calls and returns small, recognisable outputs."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.progress_seen: list[tuple[int, str]] = []
        self.warnings: list[str] = []

    def module(self) -> types.ModuleType:
        package = types.ModuleType("analytics.reports")
        render = types.ModuleType("analytics.reports.render")
        package.build_report = self.build_report
        package.render = render
        render.render_html = lambda report: "<html><body><h1>Report</h1></body></html>"
        render.render_pdf = lambda report: b"%PDF-1.4 stand-in"
        render.render_xlsx = lambda report: b"PK stand-in workbook"
        render.render_csvs = lambda report: {"table1_baseline.csv": b"a,b\n1,2\n"}
        render.figure_files = lambda report: {"km_os.png": b"\x89PNG", "km_os.svg": b"<svg/>"}
        render.default_dictionary = lambda frame: pd.DataFrame({"variable": list(frame.columns)})
        render.dataset_files = lambda frame, dictionary: {
            "dataset.csv": frame.to_csv(index=False).encode(),
            "dataset_dictionary.csv": dictionary.to_csv(index=False).encode(),
            "dataset.sav": b"$FL2",
            "dataset.dta": b"<stata_dta>",
        }
        return package

    def build_report(self, template, frame, **kwargs):
        run = AnalysisRun.objects.get(status=RunStatus.RUNNING)
        kwargs["progress"](50, "Kaplan–Meier curves")
        run.refresh_from_db()
        self.progress_seen.append((run.progress_pct, run.progress_message))
        self.calls.append({"template": template, "frame": frame, **kwargs})
        return types.SimpleNamespace(
            as_dict=lambda: {"sections": [{"key": "survival"}]},
            warnings=lambda: list(self.warnings),
        )


@pytest.fixture
def engine(monkeypatch, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    stand_in = StandInEngine()
    package = stand_in.module()
    monkeypatch.setitem(sys.modules, "analytics.reports", package)
    monkeypatch.setitem(sys.modules, "analytics.reports.render", package.render)
    return stand_in


@pytest.fixture
def patients(world):
    return generate_patients(site=world.nt, count=4, seed=7)


def test_a_run_stores_every_output_with_its_hash(world, engine, patients):
    run = queue_run(world.investigator, world.nt_cohort)

    assert run_execute(run.pk) == RunStatus.SUCCEEDED

    run.refresh_from_db()
    kinds = sorted(run.outputs.values_list("kind", flat=True))
    assert kinds == sorted(["html", "pdf", "xlsx", "csv", "png", "svg", "dataset_csv", "dictionary", "sav", "dta"])  # fmt: skip
    pdf = run.outputs.get(kind=RunOutput.Kind.PDF)
    assert pdf.name == f"run-{run.pk}-report.pdf"
    assert pdf.file.read() == b"%PDF-1.4 stand-in"
    assert pdf.size_bytes == len(b"%PDF-1.4 stand-in")
    assert len(pdf.sha256) == 64


def test_a_run_with_a_section_not_computed_succeeds_with_warnings(world, engine, patients):
    """The outputs exist, but the reader must be told what is missing: status and list."""
    engine.warnings = ["Cox regression: not computed — too few events (2) for 9 covariates"]
    run = queue_run(world.investigator, world.nt_cohort)

    assert run_execute(run.pk) == RunStatus.SUCCEEDED_WITH_WARNINGS

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED_WITH_WARNINGS
    assert run.get_status_display() == "Succeeded with warnings"
    assert run.warnings == engine.warnings
    assert run.finished
    # a redelivered task does not compute it again
    assert run_execute(run.pk) == RunStatus.SUCCEEDED_WITH_WARNINGS
    assert len(engine.calls) == 1


def test_a_finished_run_records_provenance_and_the_dataset_hash(world, engine, patients):
    run = queue_run(world.investigator, world.nt_cohort)

    run_execute(run.pk)

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert run.warnings == []
    assert run.progress_pct == 100
    assert run.finished_at is not None
    assert len(run.dataset_sha256) == 64
    provenance = run.provenance
    assert provenance["dataset_sha256"] == run.dataset_sha256
    assert provenance["registry_version"] == "0.1.0"
    assert provenance["cutoff_date"] == "2024-12-31"
    assert provenance["cohort"]["name"] == "Nantong only"
    assert {"pandas", "numpy", "lifelines", "weasyprint"} <= set(provenance["package_versions"])
    assert provenance["package_versions"]["pandas"] == pd.__version__
    assert provenance["patient_flow"][0]["n"] == 4
    assert run.result == {"sections": [{"key": "survival"}]}


def test_the_engine_gets_the_frozen_options_and_reports_progress_to_the_run(
    world, engine, patients
):
    run = queue_run(world.investigator, world.nt_cohort, options={"caliper_sd": 0.15})

    run_execute(run.pk)

    call = engine.calls[0]
    assert call["template"] == "report_a"
    assert call["options"]["caliper_sd"] == 0.15
    assert call["control_arm"] == "Systemic therapy alone"
    assert call["sections"] == run.sections
    assert engine.progress_seen == [(47, "Kaplan–Meier curves")]


def test_the_analysis_dataset_holds_no_site_patient_reference(world, engine, patients):
    run = queue_run(world.investigator, world.nt_cohort)

    run_execute(run.pk)

    frame = engine.calls[0]["frame"]
    assert "site_patient_ref" not in frame.columns
    references = {p.site_patient_ref for p in patients}
    dataset_csv = run.outputs.get(kind=RunOutput.Kind.DATASET_CSV).file.read().decode()
    assert not any(reference in dataset_csv for reference in references)


def test_a_crash_marks_the_run_failed_with_the_error_and_traceback(world, engine, monkeypatch):
    def broken(**kwargs):
        raise ValueError("cohort filter refers to a missing column")

    monkeypatch.setattr("analytics.selectors.build_analysis_dataset", broken)
    run = queue_run(world.investigator, world.nt_cohort)

    assert run_execute(run.pk) == RunStatus.FAILED

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.error.startswith("ValueError: cohort filter refers to a missing column")
    assert "Traceback" in run.error
    assert run.finished_at is not None
    assert not run.outputs.exists()


def test_a_redelivered_task_does_not_recompute_a_finished_run(world, engine, patients):
    run = queue_run(world.investigator, world.nt_cohort)
    run_execute(run.pk)
    finished_at = AnalysisRun.objects.get(pk=run.pk).finished_at

    assert run_execute(run.pk) == RunStatus.SUCCEEDED

    assert len(engine.calls) == 1
    assert AnalysisRun.objects.get(pk=run.pk).finished_at == finished_at


def test_a_run_whose_worker_died_starts_again_from_scratch(world, engine, patients):
    run = queue_run(world.investigator, world.nt_cohort)
    AnalysisRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, progress_pct=60, provenance={"attempts": 1}
    )
    RunOutput.objects.create(run=run, kind="pdf", name="half-written.pdf", file="runs/x.pdf")

    assert run_execute(run.pk) == RunStatus.SUCCEEDED

    run.refresh_from_db()
    assert not run.outputs.filter(name="half-written.pdf").exists()
    assert run.outputs.filter(kind=RunOutput.Kind.PDF).count() == 1
    assert run.provenance["attempts"] == 2


def test_a_run_fails_if_its_author_lost_the_rights_before_it_ran(world, engine, patients):
    run = queue_run(world.nt_investigator, world.nt_cohort)
    world.nt_investigator.memberships.all().delete()

    assert run_execute(run.pk) == RunStatus.FAILED

    run.refresh_from_db()
    assert "no longer holds analysis rights" in run.error
    assert engine.calls == []


def test_a_run_whose_worker_died_twice_is_failed_not_retried(world, engine, patients):
    run = queue_run(world.investigator, world.nt_cohort)
    AnalysisRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING,
        progress_message="Rendering the PDF report",
        provenance={"attempts": 2},
    )

    assert run_execute(run.pk) == RunStatus.FAILED

    run.refresh_from_db()
    assert "stopped 2 times without finishing" in run.error
    assert "Rendering the PDF report" in run.error
    assert engine.calls == []


def test_a_finished_run_records_how_long_each_phase_took(world, engine, patients):
    run = queue_run(world.investigator, world.nt_cohort)

    run_execute(run.pk)

    run.refresh_from_db()
    timings = run.provenance["timings"]
    assert {"dataset_s", "statistics_s", "rendering_s", "render PDF report_s"} <= set(timings)
    assert all(value >= 0 for value in timings.values())
