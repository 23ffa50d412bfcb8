"""Issue 17 item 6: the sweeps mark a job whose worker is gone as failed, at its hard limit.

No worker here (see test_worker_lost.py for the real killed worker): the sweep is given the
time explicitly, so the test states the rule, not a duration.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from analytics.choices import RunStatus
from analytics.models import AnalysisRun
from analytics.services import WORKER_LOST as RUN_WORKER_LOST
from analytics.services import runs_sweep
from registry.imports.services import WORKER_LOST, import_job_run, import_jobs_sweep
from registry.models import ImportJob
from tests.analytics.test_run_helpers import make_cohort, queue_run, seed_arms
from tests.registry.factories import make_data_manager, make_site, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def job():
    site = make_site("NT")
    return ImportJob.objects.create(
        site=site, created_by=make_data_manager(site), original_filename="x.csv"
    )


def test_a_running_import_is_left_alone_until_its_hard_limit(job, settings):
    start = timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(status="running", started_at=start)
    limit = dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)

    assert import_jobs_sweep(now=start + limit) == 0
    assert import_jobs_sweep(now=start + limit + dt.timedelta(seconds=1)) == 1

    job.refresh_from_db()
    assert (job.status, job.error_message.startswith(WORKER_LOST)) == ("failed", True)


def test_a_job_no_worker_started_is_given_up_after_the_queued_limit(job, settings):
    settings.REGISTRY_JOB_QUEUED_LIMIT = 3600
    created = job.created_at

    assert import_jobs_sweep(now=created + dt.timedelta(seconds=3600)) == 0
    assert import_jobs_sweep(now=created + dt.timedelta(seconds=3601)) == 1
    job.refresh_from_db()
    assert job.status == "failed"


def test_a_redelivered_task_does_not_run_an_ended_job_again(job):
    ImportJob.objects.filter(pk=job.pk).update(status="failed", error_message=WORKER_LOST)

    assert import_job_run(job_id=job.pk).status == "failed"


def test_the_job_page_sweeps_its_job(client, job, settings):
    settings.CELERY_TASK_TIME_LIMIT = 60
    ImportJob.objects.filter(pk=job.pk).update(
        status="running", started_at=timezone.now() - dt.timedelta(seconds=61)
    )
    client.force_login(job.created_by)

    page = client.get(f"/imports/jobs/{job.pk}/").content.decode()

    assert "worker lost" in page


def test_a_running_analysis_run_is_marked_failed_after_its_hard_limit(settings):
    seed_arms()
    investigator = make_user("inv", "registry_investigator")
    run = queue_run(investigator, make_cohort("all"))
    start = timezone.now()
    AnalysisRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, started_at=start)
    limit = dt.timedelta(seconds=settings.ANALYSIS_RUN_HARD_TIME_LIMIT)

    assert runs_sweep(now=start + limit) == 0
    assert runs_sweep(now=start + limit + dt.timedelta(seconds=1)) == 1

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.error.startswith(RUN_WORKER_LOST)
