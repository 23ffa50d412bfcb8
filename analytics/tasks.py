"""Celery tasks of the analytics app: ids in, a service call, nothing else (STYLE.md)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from analytics.services import run_execute, runs_sweep

# Sized for Report A on 100,000 patients (benchmarks/results/report.md) with a wide margin; the
# soft limit raises inside the run so it is stored as failed with a "time limit" message. They
# are settings because the broker's visibility timeout and the sweep are derived from them.
SOFT_TIME_LIMIT = settings.ANALYSIS_RUN_SOFT_TIME_LIMIT
HARD_TIME_LIMIT = settings.ANALYSIS_RUN_HARD_TIME_LIMIT


@shared_task(
    name="analytics.execute_run",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=HARD_TIME_LIMIT,
)
def execute_run(run_id: int) -> str:
    """Compute a queued run. Redelivery is safe: a finished run is not computed again."""
    return run_execute(run_id)


@shared_task(name="analytics.sweep_runs")
def sweep_runs() -> int:
    """Celery beat: mark failed the runs whose worker died (see runs_sweep)."""
    return runs_sweep()
