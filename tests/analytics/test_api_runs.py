"""/api/v1/analytics/: runs, their progress and files, under the same rules as the pages."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from rest_framework.test import APIClient

from analytics.choices import RunStatus
from analytics.models import AnalysisRun, RunOutput
from tests.analytics.test_run_helpers import queue_run, seed_arms, world

__all__ = ["world"]

RUNS = "/api/v1/analytics/runs/"


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def finished_nt_run(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    run = queue_run(world.nt_investigator, world.nt_cohort, title="Nantong report A")
    output = RunOutput(run=run, kind=RunOutput.Kind.XLSX, name=f"run-{run.pk}-tables.xlsx")
    output.file.save(output.name, ContentFile(b"PK workbook"), save=False)
    output.save()
    AnalysisRun.objects.filter(pk=run.pk).update(
        status=RunStatus.SUCCEEDED, progress_pct=100, progress_message="Finished"
    )
    return run


def test_an_investigator_starts_a_run_through_the_api(api, world):
    control, treatment = seed_arms()
    api.force_authenticate(world.nt_investigator)

    response = api.post(
        RUNS,
        {
            "template": "report_a",
            "cohort": world.nt_cohort.pk,
            "control_arm": control.pk,
            "treatment_arm": treatment.pk,
            "caliper_sd": 0.25,
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    run = AnalysisRun.objects.get(pk=response.json()["id"])
    assert response.json()["status"] == "queued"
    assert run.parameters["matching"]["caliper_sd"] == 0.25


def test_the_api_refuses_a_run_over_another_sites_patients(api, world):
    control, treatment = seed_arms()
    api.force_authenticate(world.nt_investigator)

    response = api.post(
        RUNS,
        {
            "template": "report_a",
            "cohort": world.sh_cohort.pk,
            "control_arm": control.pk,
            "treatment_arm": treatment.pk,
        },
        format="json",
    )

    assert response.status_code == 403
    assert not AnalysisRun.objects.exists()


def test_the_api_reports_the_services_validation_errors(api, world):
    control, _ = seed_arms()
    api.force_authenticate(world.nt_investigator)

    response = api.post(
        RUNS,
        {
            "template": "report_a",
            "cohort": world.nt_cohort.pk,
            "control_arm": control.pk,
            "treatment_arm": control.pk,
        },
        format="json",
    )

    assert response.status_code == 400
    assert "treatment_arm" in response.json()


def test_status_and_progress_are_readable(api, world, finished_nt_run):
    api.force_authenticate(world.nt_investigator)

    body = api.get(f"{RUNS}{finished_nt_run.pk}/").json()

    assert body["status"] == "succeeded"
    assert body["progress_pct"] == 100
    assert body["parameters"]["cutoff_date"] == "2024-12-31"


def test_outputs_are_listed_with_download_urls_that_work(api, world, finished_nt_run):
    api.force_authenticate(world.nt_investigator)

    outputs = api.get(f"{RUNS}{finished_nt_run.pk}/outputs/").json()
    download = api.get(outputs[0]["download_url"])

    assert [o["kind"] for o in outputs] == ["xlsx"]
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"PK workbook"


def test_a_user_of_another_site_neither_lists_nor_reads_nor_downloads(api, world, finished_nt_run):
    output = finished_nt_run.outputs.get()
    api.force_authenticate(world.sh_investigator)

    listed = api.get(RUNS).json()
    detail = api.get(f"{RUNS}{finished_nt_run.pk}/")
    download = api.get(f"{RUNS}{finished_nt_run.pk}/outputs/{output.pk}/download/")

    assert listed["results"] == []
    assert detail.status_code == 404
    assert download.status_code == 404


def test_a_user_without_analysis_rights_is_refused(api, world):
    api.force_authenticate(world.nt_data_manager)

    assert api.get(RUNS).status_code == 403


def test_cohorts_and_arms_are_listed(api, world):
    seed_arms()
    api.force_authenticate(world.nt_investigator)

    cohorts = api.get("/api/v1/analytics/cohorts/").json()
    arms = api.get("/api/v1/analytics/arms/").json()

    assert [c["name"] for c in cohorts["results"]] == ["Nantong only"]
    assert {"Systemic therapy alone", "Local + systemic therapy"} <= {
        a["name"] for a in arms["results"]
    }


def test_rerun_through_the_api_makes_a_new_run(api, world, finished_nt_run):
    api.force_authenticate(world.nt_investigator)

    response = api.post(f"{RUNS}{finished_nt_run.pk}/rerun/")

    assert response.status_code == 201
    assert response.json()["id"] != finished_nt_run.pk
    assert response.json()["status"] == "queued"


def test_the_api_lists_a_runs_warnings(api, world, finished_nt_run):
    warning = "Univariable and multivariable Cox regression: not computed — no events"
    AnalysisRun.objects.filter(pk=finished_nt_run.pk).update(
        status=RunStatus.SUCCEEDED_WITH_WARNINGS, warnings=[warning]
    )
    api.force_authenticate(world.nt_investigator)

    body = api.get(f"{RUNS}{finished_nt_run.pk}/").json()

    assert body["status"] == "warnings"
    assert body["warnings"] == [warning]


def test_the_api_records_the_cox_selection_option(api, world):
    control, treatment = seed_arms()
    api.force_authenticate(world.nt_investigator)
    response = api.post(
        RUNS,
        {
            "template": "report_a",
            "cohort": world.nt_cohort.pk,
            "control_arm": control.pk,
            "treatment_arm": treatment.pk,
            "cox_selection": "univariable_p",
            "cox_p_threshold": 0.05,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    run = AnalysisRun.objects.get(pk=response.json()["id"])
    assert run.parameters["options"]["cox_selection"] == "univariable_p"
    assert run.parameters["cox_models"]["p_threshold"] == 0.05
