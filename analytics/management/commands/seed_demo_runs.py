"""Demo analyses for `make demo`: a cohort over the demo patients and a finished Report A run.

Run after ``seed_demo``. The run is computed in this process (not queued) so the demo opens on
a finished report even before a worker has started; running the command again keeps the
existing run.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from analytics.choices import ReportTemplate, RunStatus
from analytics.models import AnalysisRun, ArmDefinition, CohortDefinition
from analytics.services import run_create, run_execute
from registry.demo import CUTOFF

COHORT_NAME = "Demo — TACE-refractory HCC, systemic therapy with or without local therapy"


class Command(BaseCommand):
    help = "Create a demo cohort and compute a Report A run over it (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--user",
            default="investigator",
            help="Username of the registry-wide investigator who owns the run.",
        )

    def handle(self, *args, **options) -> None:
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"No user {options['user']!r}: run `manage.py seed_demo` first.")
        cohort, _ = CohortDefinition.objects.get_or_create(
            name=COHORT_NAME,
            version=1,
            defaults={
                "description": "Every demo patient (all sites) with an index date before the "
                "data cut-off; refractoriness reported under the seed 002 rule set.",
                "cutoff_date": CUTOFF,
                "refractoriness_rule_set": "seed002_operational",
                "created_by": user,
            },
        )
        control = ArmDefinition.objects.get(rule="systemic_alone", version=1)
        treatment = ArmDefinition.objects.get(rule="local_plus_systemic", version=1)
        existing = AnalysisRun.objects.filter(
            cohort=cohort,
            template=ReportTemplate.REPORT_A,
            status__in=[RunStatus.SUCCEEDED, RunStatus.SUCCEEDED_WITH_WARNINGS],
        ).first()
        if existing is not None:
            self.stdout.write(
                f"Demo Report A run #{existing.pk} exists: /analytics/runs/{existing.pk}/"
            )
            return
        run = run_create(
            user=user,
            template=ReportTemplate.REPORT_A,
            cohort=cohort,
            control_arm=control,
            treatment_arm=treatment,
            options={},
            title="Demo Report A",
            enqueue=False,
        )
        self.stdout.write(f"Computing demo Report A run #{run.pk} …")
        status = run_execute(run.pk)
        run.refresh_from_db()
        if status == RunStatus.FAILED:
            raise CommandError(f"Demo run #{run.pk} failed:\n{run.error}")
        for warning in run.warnings:
            self.stdout.write(self.style.WARNING(f"Warning: {warning}"))
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo Report A run #{run.pk}: {run.outputs.count()} files, "
                f"/analytics/runs/{run.pk}/"
            )
        )
