"""Import jobs: store the upload, run it now or queue it, record the outcome.

A file of up to ``REGISTRY_IMPORT_SYNC_MAX_ROWS`` rows (setting or environment variable, default
2,000) is imported inside the request; a larger one becomes a Celery job that reports progress.
"""

from __future__ import annotations

import io
import os
import zipfile

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import DatabaseError, transaction
from django.utils import timezone

from registry.access import Action, can, can_see_identifiers
from registry.imports.importer import import_sheets
from registry.imports.limits import upload_size_error
from registry.imports.parsing import ImportFileError, read_upload
from registry.imports.sections import PATIENT_REF
from registry.models import ImportJob, Site


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
    """Run a stored import job to the end: valid/invalid (dry run), committed or failed."""
    job = ImportJob.objects.select_related("site", "created_by").get(pk=job_id)
    job.status = ImportJob.Status.RUNNING
    job.progress_pct = 0
    job.save(update_fields=["status", "progress_pct"])
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
