"""Celery tasks of the registry: they take ids and call a service (STYLE.md)."""

from __future__ import annotations

from celery import shared_task


@shared_task(bind=True, name="registry.run_import_job")
def run_import_job(self, job_id: int) -> str:
    from registry.imports.services import import_job_run

    def progress(pct: int) -> None:
        # The import runs in one transaction, so the job row cannot show progress until it
        # ends; the task state in the result backend can.
        if self.request.id:
            self.update_state(state="PROGRESS", meta={"progress_pct": pct, "job_id": job_id})

    return import_job_run(job_id=job_id, progress=progress).status


@shared_task(name="registry.sweep_import_jobs")
def sweep_import_jobs() -> int:
    """Celery beat: mark failed the import jobs whose worker died (see import_jobs_sweep)."""
    from registry.imports.services import import_jobs_sweep

    return import_jobs_sweep()
