"""Import jobs: store the upload, run it now or queue it, record the outcome.

A file of up to ``REGISTRY_IMPORT_SYNC_MAX_ROWS`` rows (setting or environment variable, default
2,000) is imported inside the request; a larger one becomes a Celery job that reports progress.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import zipfile

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    connection,
    models,
    transaction,
)
from django.utils import timezone

from registry.access import Action, can, can_see_identifiers
from registry.imports.importer import import_sheets
from registry.imports.limits import upload_size_error
from registry.imports.parsing import ImportFileError, read_upload
from registry.imports.sections import PATIENT_REF
from registry.models import ImportJob, Site

logger = logging.getLogger(__name__)


def sync_max_rows() -> int:
    configured = getattr(settings, "REGISTRY_IMPORT_SYNC_MAX_ROWS", None)
    if configured is None:
        configured = os.environ.get("REGISTRY_IMPORT_SYNC_MAX_ROWS", "2000")
    return int(configured)


def upload_refusal(files) -> str | None:
    """Why an upload (uploaded files, each with ``name`` and ``size``) is too large, or None.

    Checked by the web form and the API before anything is stored; ``read_upload`` checks the
    same bound again on the stored bytes, for a job run later."""
    total = sum(f.size for f in files)
    name = files[0].name if len(files) == 1 else f"The {len(files)} files"
    return upload_size_error(name, total)


def bundle_uploads(files: list[tuple[str, bytes]]) -> tuple[str, bytes]:
    """One stored file for an upload: the file itself, or a ZIP of one CSV per section."""
    if len(files) == 1:
        return files[0]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(os.path.basename(name), data)
    return "sections.zip", buffer.getvalue()


@transaction.atomic
def import_job_create(
    *, site: Site, user, filename: str, data: bytes, dry_run: bool, section: str = ""
) -> ImportJob:
    if not can(user, Action.IMPORT, site):
        raise PermissionDenied(f"You may not import records into site {site.code}.")
    job = ImportJob(
        site=site,
        created_by=user,
        dry_run=dry_run,
        original_filename=os.path.basename(filename)[:255],
        section=section,
    )
    job.file.save(os.path.basename(filename), ContentFile(data), save=False)
    job.save()
    return job


def import_upload(
    *, site: Site, user, filename: str, data: bytes, dry_run: bool, section: str = ""
) -> ImportJob:
    """Store an upload as an ImportJob; run it now when small, else queue it for a worker."""
    job = import_job_create(
        site=site, user=user, filename=filename, data=data, dry_run=dry_run, section=section
    )
    try:
        rows = sum(len(sheet.rows) for sheet in read_upload(data, filename, section=section))
    except ImportFileError as error:
        return _reject(job, str(error))
    if rows > sync_max_rows():
        from registry.tasks import run_import_job

        transaction.on_commit(
            lambda: run_import_job.apply_async(args=[job.pk], task_id=job_task_id(job.pk))
        )
        return job
    return import_job_run(job_id=job.pk)


def job_task_id(job_id: int) -> str:
    return f"registry-import-job-{job_id}"


def import_job_run(*, job_id: int, progress=None) -> ImportJob:
    """Run a stored import job to the end: valid/invalid (dry run), committed or failed.

    A job that already ended (a task redelivered after its worker died, when the sweep has
    since marked it failed) is not run again."""
    job = ImportJob.objects.select_related("site", "created_by").get(pk=job_id)
    if job.status not in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING):
        return job
    job.status = ImportJob.Status.RUNNING
    job.progress_pct = 0
    job.started_at = timezone.now()
    job.save(update_fields=["status", "progress_pct", "started_at"])
    try:
        with job.file.open("rb") as stored:
            data = stored.read()
        sheets = read_upload(data, job.original_filename, section=job.section)
    except ImportFileError as error:
        return _reject(job, str(error))
    if progress is not None:
        progress(5)
    try:
        result = import_sheets(
            site=job.site,
            user=job.created_by,
            sheets=sheets,
            dry_run=job.dry_run,
            reason=f"Import of {job.original_filename} (job {job.pk})",
            progress=progress,
        )
    except (OperationalError, InterfaceError):
        # The database connection dropped (restart, failover, network): the import's single
        # transaction was rolled back by the server, so nothing was written. Reconnect to say so.
        logger.warning("import job %s: database connection lost; nothing written", job.pk)
        connection.close()
        job.status = ImportJob.Status.FAILED
        job.error_message = CONNECTION_LOST
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "error_message", "finished_at"])
        return job
    except Exception as error:
        job.status = ImportJob.Status.FAILED
        # A database error's text may quote a row's values, the site reference among them.
        detail = "" if isinstance(error, DatabaseError) else f": {error}"
        job.error_message = f"{type(error).__name__}{detail}"[:2000]
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "error_message", "finished_at"])
        raise
    job.counts = {
        **result.counts,
        "total": result.totals,
        "rows": result.rows,
        "error_count": result.error_count,
    }
    job.errors = result.errors
    if result.errors:
        job.status = ImportJob.Status.INVALID
    elif result.committed:
        job.status = ImportJob.Status.COMMITTED
    else:
        job.status = ImportJob.Status.VALID
    job.progress_pct = 100
    job.finished_at = timezone.now()
    job.save(update_fields=["counts", "errors", "status", "progress_pct", "finished_at"])
    return job


def _reject(job: ImportJob, message: str) -> ImportJob:
    job.status = ImportJob.Status.INVALID
    job.error_message = message
    job.errors = [
        {"sheet": job.original_filename, "row": 0, "column": "", "value": "", "reason": message}
    ]
    job.progress_pct = 100
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error_message", "errors", "progress_pct", "finished_at"])
    return job


WORKER_LOST = "Failed — worker lost"
CONNECTION_LOST = (
    "The connection to the database was lost during the import: nothing was written. "
    "Try again in a minute; if it happens again, tell the registry administrator."
)


def import_hard_time_limit() -> int:
    """Seconds after which a worker kills an import task (Celery's hard time limit)."""
    return int(settings.CELERY_TASK_TIME_LIMIT)


def queued_time_limit() -> int:
    """Seconds a job may wait for a worker before it is given up (default one day)."""
    return int(getattr(settings, "REGISTRY_JOB_QUEUED_LIMIT", 24 * 3600))


def import_jobs_sweep(*, now=None, jobs=None) -> int:
    """Mark failed every job whose worker is gone; the number marked.

    A running job past its hard time limit cannot still be running: the worker kills a task
    at that limit, and a worker killed as a whole (SIGKILL, out of memory, machine lost) never
    reports. A job nobody started within ``queued_time_limit`` has no worker either. Called
    by Celery beat and whenever a job's page or API record is read, so a job never shows
    "running" for longer than its hard limit, with or without beat.
    """
    now = now or timezone.now()
    jobs = ImportJob.objects.all() if jobs is None else jobs
    running_cutoff = now - dt.timedelta(seconds=import_hard_time_limit())
    lost = jobs.filter(status=ImportJob.Status.RUNNING).filter(
        models.Q(started_at__lt=running_cutoff)
        | models.Q(started_at__isnull=True, created_at__lt=running_cutoff)
    )
    marked = lost.update(
        status=ImportJob.Status.FAILED,
        finished_at=now,
        error_message=(
            f"{WORKER_LOST}: the worker stopped (killed or out of memory) without finishing "
            f"within the {import_hard_time_limit() // 60}-minute limit. Nothing was written; "
            "upload the file again."
        ),
    )
    never_started = jobs.filter(
        status=ImportJob.Status.QUEUED,
        created_at__lt=now - dt.timedelta(seconds=queued_time_limit()),
    )
    marked += never_started.update(
        status=ImportJob.Status.FAILED,
        finished_at=now,
        error_message=(
            "Failed — no worker started this job within "
            f"{queued_time_limit() // 3600} hours. Nothing was written; upload the file again."
        ),
    )
    if marked:
        logger.warning("import jobs marked failed after losing their worker: %d", marked)
    return marked


def job_progress(job: ImportJob) -> int:
    """Progress of a running background job, read from the worker's task state."""
    if job.status != ImportJob.Status.RUNNING:
        return job.progress_pct
    from celery.result import AsyncResult

    try:
        info = AsyncResult(job_task_id(job.pk)).info
    except Exception:  # the result backend may be unreachable; the stored value still holds
        return job.progress_pct
    if isinstance(info, dict) and "progress_pct" in info:
        return int(info["progress_pct"])
    return job.progress_pct


def visible_errors(job: ImportJob, user) -> list[dict]:
    """The job's errors, with the site's patient references hidden from other sites' users."""
    if can_see_identifiers(user, job.site_id):
        return job.errors
    return [
        {**error, "value": "(hidden)"} if error.get("column") == PATIENT_REF else error
        for error in job.errors
    ]
