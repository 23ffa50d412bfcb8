"""Issue 17 item 6: every job ends, even when its whole worker process is killed mid-job.

A real Celery worker (a separate OS process group, Redis broker) starts a background import and
is killed with SIGKILL while the job is running. The job must not stay "running" past its hard
time limit: the sweep marks it "Failed — worker lost" (nothing was written: the import is one
transaction). When Redis hands the unacknowledged task to the next worker (after the visibility
timeout, which the settings derive from the hard limits), that worker finds the job ended and
does not run it again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery.result import AsyncResult
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.imports.services import WORKER_LOST, import_jobs_sweep, job_task_id
from registry.imports.synthetic import as_workbook, synthetic_rows
from registry.models import ImportJob, Patient
from tests.conftest import ROOT, database_url_for_test_db
from tests.registry.factories import make_data_manager, make_site

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(
        not settings.CELERY_BROKER_URL.startswith("redis://"),
        reason="needs the Redis broker (CELERY_BROKER_URL=redis://...), as in CI",
    ),
]


def start_worker(log_path: Path, **env) -> subprocess.Popen:
    """A worker in its own process group, so that the whole worker can be killed at once."""
    log = log_path.open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url_for_test_db(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "PYTHONUNBUFFERED": "1",
            **env,
        },
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_until(lambda: "ready." in log_path.read_text(), process, log_path)
    return process


def wait_until(condition, process, log_path: Path, limit_seconds: float = 300) -> None:
    """Poll; the limit only stops a hung test, it times nothing."""
    deadline = time.monotonic() + limit_seconds
    while time.monotonic() < deadline:
        if condition():
            return
        if process is not None and process.poll() is not None:
            raise AssertionError(f"worker exited:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.05)
    raise AssertionError(f"condition not met:\n{log_path.read_text()[-3000:]}")


def kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def test_a_job_whose_worker_is_killed_ends_failed_and_is_not_run_again(
    transactional_db, ctcae_terms_loaded, shared_media, client, tmp_path, settings
):
    settings.REGISTRY_IMPORT_SYNC_MAX_ROWS = 10  # a background job
    site = make_site("NT")
    manager = make_data_manager(site)
    client.force_login(manager)
    first = start_worker(tmp_path / "worker-1.log")
    try:
        upload = SimpleUploadedFile("registry.xlsx", as_workbook(synthetic_rows(1500)))
        client.post("/imports/", {"site": site.pk, "files": [upload], "dry_run": ""})
        job = ImportJob.objects.get()
        wait_until(
            lambda: ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.RUNNING,
            first,
            tmp_path / "worker-1.log",
        )
        kill_group(first)  # the whole worker, mid-job: it never reports
    finally:
        if first.poll() is None:
            kill_group(first)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.RUNNING
    assert import_jobs_sweep() == 0  # within its hard limit it may still be running

    past_limit = job.started_at + dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 1)
    assert import_jobs_sweep(now=past_limit) == 1

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert job.error_message.startswith(WORKER_LOST)
    assert Patient.objects.count() == 0
    page = client.get(f"/imports/jobs/{job.pk}/").content.decode()
    assert "worker lost" in page

    # The next worker gets the unacknowledged task back (a 2-second visibility timeout here)
    # and leaves the ended job alone.
    short = {
        "CELERY_TASK_TIME_LIMIT": "1",
        "ANALYSIS_RUN_HARD_TIME_LIMIT": "1",
        "CELERY_VISIBILITY_MARGIN": "1",
    }
    second = start_worker(tmp_path / "worker-2.log", **short)
    try:
        result = AsyncResult(job_task_id(job.pk))
        wait_until(lambda: result.state == "SUCCESS", second, tmp_path / "worker-2.log")
        assert result.result == ImportJob.Status.FAILED
    finally:
        kill_group(second)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert Patient.objects.count() == 0


def test_the_visibility_timeout_is_the_longest_hard_limit_plus_a_margin():
    longest = max(settings.CELERY_TASK_TIME_LIMIT, settings.ANALYSIS_RUN_HARD_TIME_LIMIT)
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS

    assert options["visibility_timeout"] == longest + settings.CELERY_VISIBILITY_MARGIN
    assert settings.CELERY_VISIBILITY_MARGIN > 0
