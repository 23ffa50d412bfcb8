"""The /analytics/ pages: who sees what, the new-run form, progress, errors and downloads."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from analytics.choices import RunStatus
from analytics.models import AnalysisRun, RunOutput
from analytics.services import run_execute
from tests.analytics.test_run_helpers import queue_run, seed_arms, world

__all__ = ["world"]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def with_pdf(run: AnalysisRun) -> RunOutput:
    output = RunOutput(run=run, kind=RunOutput.Kind.PDF, name=f"run-{run.pk}-report.pdf")
    output.file.save(output.name, ContentFile(b"%PDF-1.7 report"), save=False)
    output.size_bytes = 15
    output.save()
    AnalysisRun.objects.filter(pk=run.pk).update(status=RunStatus.SUCCEEDED, progress_pct=100)
    return output


def download_url(output: RunOutput) -> str:
    return reverse("analytics:output_download", args=[output.run_id, output.pk, output.name])


def test_the_pages_need_a_login(client, world):
    response = client.get(reverse("analytics:run_list"))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_a_user_without_analysis_rights_is_refused(client, world):
    client.force_login(world.nt_data_manager)

    assert client.get(reverse("analytics:run_list")).status_code == 403
    assert client.get(reverse("analytics:run_new")).status_code == 403


def test_the_run_list_shows_only_runs_within_the_users_sites(client, world):
    queue_run(world.investigator, world.nt_cohort, title="Nantong run")
    queue_run(world.investigator, world.sh_cohort, title="Shanghai run")
    client.force_login(world.nt_investigator)

    page = client.get(reverse("analytics:run_list")).content.decode()

    assert "Nantong run" in page
    assert "Shanghai run" not in page


def test_the_form_offers_only_cohorts_the_user_may_analyse(client, world):
    seed_arms()
    client.force_login(world.nt_investigator)

    page = client.get(reverse("analytics:run_new")).content.decode()

    assert "Nantong only" in page
    assert "Shanghai only" not in page
    assert "Both sites" not in page


def test_posting_the_form_queues_a_run_and_opens_its_page(client, world):
    control, treatment = seed_arms()
    client.force_login(world.nt_investigator)

    response = client.post(
        reverse("analytics:run_new"),
        {
            "template": "report_a",
            "cohort": world.nt_cohort.pk,
            "control_arm": control.pk,
            "treatment_arm": treatment.pk,
            "covariates": ["age", "male"],
            "caliper_sd": "0.2",
            "resistance_cycles": "3",
        },
    )

    run = AnalysisRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("analytics:run_detail", args=[run.pk])
    assert run.created_by == world.nt_investigator
    assert [c["name"] for c in run.parameters["covariates"]] == ["age", "male"]


def test_the_form_refuses_a_custom_report_without_sections(client, world):
    control, treatment = seed_arms()
    client.force_login(world.nt_investigator)

    response = client.post(
        reverse("analytics:run_new"),
        {
            "template": "custom",
            "cohort": world.nt_cohort.pk,
            "control_arm": control.pk,
            "treatment_arm": treatment.pk,
            "caliper_sd": "0.2",
            "resistance_cycles": "3",
        },
    )

    assert response.status_code == 200
    assert "A custom report needs at least one section." in response.content.decode()
    assert not AnalysisRun.objects.exists()


def test_a_queued_run_page_polls_its_progress(client, world):
    run = queue_run(world.nt_investigator, world.nt_cohort)
    AnalysisRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, progress_pct=42, progress_message="Cox models"
    )
    client.force_login(world.nt_investigator)

    page = client.get(reverse("analytics:run_detail", args=[run.pk])).content.decode()
    progress = client.get(reverse("analytics:run_progress", args=[run.pk])).json()

    assert reverse("analytics:run_progress", args=[run.pk]) in page
    assert "setTimeout(poll, 2000)" in page
    assert progress["status"] == "running"
    assert progress["progress_pct"] == 42
    assert progress["progress_message"] == "Cox models"
    assert progress["finished"] is False


def test_a_crashed_run_shows_its_error_on_the_run_page(client, world, monkeypatch):
    def broken(**kwargs):
        raise ValueError("no patient has an index date")

    monkeypatch.setattr("analytics.selectors.build_analysis_dataset", broken)
    run = queue_run(world.nt_investigator, world.nt_cohort)
    run_execute(run.pk)
    client.force_login(world.nt_investigator)

    page = client.get(reverse("analytics:run_detail", args=[run.pk])).content.decode()
    progress = client.get(reverse("analytics:run_progress", args=[run.pk])).json()

    assert "The run failed" in page
    assert "ValueError: no patient has an index date" in page
    assert progress["status"] == "failed"
    assert progress["error"].startswith("ValueError: no patient has an index date")


def test_a_run_page_lists_its_files_and_they_download(client, world, media):
    run = queue_run(world.nt_investigator, world.nt_cohort)
    pdf = with_pdf(run)
    client.force_login(world.nt_investigator)

    page = client.get(reverse("analytics:run_detail", args=[run.pk])).content.decode()
    response = client.get(download_url(pdf) + "?download=1")

    assert download_url(pdf) in page
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.7 report"
    assert "attachment" in response["Content-Disposition"]


def test_a_user_of_another_site_gets_404_for_the_run_and_its_files(client, world, media):
    run = queue_run(world.nt_investigator, world.nt_cohort)
    pdf = with_pdf(run)
    client.force_login(world.sh_investigator)

    assert client.get(reverse("analytics:run_detail", args=[run.pk])).status_code == 404
    assert client.get(reverse("analytics:run_progress", args=[run.pk])).status_code == 404
    assert client.get(download_url(pdf)).status_code == 404


def test_a_site_user_cannot_download_a_run_spanning_two_sites(client, world, media):
    run = queue_run(world.investigator, world.both_cohort)
    pdf = with_pdf(run)
    client.force_login(world.nt_investigator)

    assert client.get(download_url(pdf)).status_code == 404


def test_running_again_from_the_page_makes_a_new_run(client, world):
    run = queue_run(world.nt_investigator, world.nt_cohort)
    client.force_login(world.nt_investigator)

    response = client.post(reverse("analytics:run_rerun", args=[run.pk]))

    new = AnalysisRun.objects.exclude(pk=run.pk).get()
    assert response["Location"] == reverse("analytics:run_detail", args=[new.pk])
    assert new.parameters == run.parameters


def test_the_definitions_page_lists_cohorts_and_arms(client, world):
    seed_arms()
    client.force_login(world.nt_investigator)

    page = client.get(reverse("analytics:definitions")).content.decode()

    assert "Nantong only" in page
    assert "Shanghai only" not in page
    assert "Local + systemic therapy" in page


def test_the_form_knows_each_reports_reference_arms(client, world):
    control, treatment = seed_arms()
    client.force_login(world.nt_investigator)

    response = client.get(reverse("analytics:run_new"))

    assert response.context["form"].default_arms["report_a"] == [control.pk, treatment.pk]
    assert 'id="default-arms"' in response.content.decode()


def test_a_run_with_warnings_lists_them_on_its_page_and_in_its_progress(client, world):
    run = queue_run(world.nt_investigator, world.nt_cohort)
    warning = "Cox regression: Overall survival multivariable model: monotone likelihood"
    AnalysisRun.objects.filter(pk=run.pk).update(
        status=RunStatus.SUCCEEDED_WITH_WARNINGS, progress_pct=100, warnings=[warning]
    )
    client.force_login(world.nt_investigator)

    page = client.get(reverse("analytics:run_detail", args=[run.pk])).content.decode()
    progress = client.get(reverse("analytics:run_progress", args=[run.pk])).json()

    assert "Succeeded with warnings" in page
    assert "Not computed as planned" in page
    assert warning in page
    assert progress["finished"] is True
    assert progress["warnings"] == [warning]
