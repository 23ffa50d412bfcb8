"""Demo analyses for `make demo`: a finished Report A and a finished Report B.

Run after ``seed_demo``. Report A (seed 002) covers the Nantong and Shanghai patients; Report B
(seed 000) the Hangzhou patients — each cohort is restricted to its sites, because seed-002
patients also had TACE (they would count as "TACE alone") and seed-000 patients start systemic
therapy right after TACE (they would count as "local + systemic"). The runs are computed in this
process (not queued) so the demo opens on finished reports even before a worker has started;
running the command again keeps the existing runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from analytics.choices import ReportTemplate, RunStatus
from analytics.models import AnalysisRun, ArmDefinition, CohortDefinition
from analytics.services import run_create, run_execute
from registry.demo import CUTOFF
from registry.models import Site


@dataclass(frozen=True)
class DemoRun:
    template: str
    title: str
    cohort_name: str
    description: str
    site_codes: tuple[str, ...]
    control_rule: str
    treatment_rule: str
    refractoriness_rule_set: str


DEMO_RUNS = (
    DemoRun(
        template=ReportTemplate.REPORT_A,
        title="Demo Report A",
        cohort_name="Demo — TACE-refractory HCC, systemic therapy with or without local therapy "
        "(Nantong, Shanghai)",
        description="The seed-002-shaped demo patients of Nantong and Shanghai with an index "
        "date before the data cut-off; refractoriness reported under the seed 002 rule set.",
        site_codes=("NT", "SH"),
        control_rule="systemic_alone",
        treatment_rule="local_plus_systemic",
        refractoriness_rule_set="seed002_operational",
    ),
    DemoRun(
        template=ReportTemplate.REPORT_B,
        title="Demo Report B",
        cohort_name="Demo — advanced HCC, TACE alone or TACE + PD-(L)1 + MTT (Hangzhou)",
        description="The seed-000-shaped demo patients of Hangzhou with an index date (first "
        "TACE) before the data cut-off; TACE resistance after 3 cycles.",
        site_codes=("HZ",),
        control_rule="tace_alone",
        treatment_rule="tace_pd1_mtt",
        refractoriness_rule_set="progression_after_n_cycles",
    ),
)


class Command(BaseCommand):
    help = "Create the demo cohorts and compute a Report A and a Report B run (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--user",
            default="investigator",
            help="Username of the registry-wide investigator who owns the runs.",
        )

    def handle(self, *args, **options) -> None:
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"No user {options['user']!r}: run `manage.py seed_demo` first.")
        for demo in DEMO_RUNS:
            self._run(demo, user)

    def _run(self, demo: DemoRun, user) -> None:
        label = ReportTemplate(demo.template).label.split(" — ")[0]
        sites = list(
            Site.objects.filter(code__in=demo.site_codes, patients__isnull=False).distinct()
        )
        if not sites:
            self.stdout.write(
                f"No patients at {'/'.join(demo.site_codes)}: {label} not computed "
                "(run `manage.py seed_demo` first)."
            )
            return
        cohort, created = CohortDefinition.objects.get_or_create(
            name=demo.cohort_name,
            version=1,
            defaults={
                "description": demo.description,
                "cutoff_date": CUTOFF,
                "refractoriness_rule_set": demo.refractoriness_rule_set,
                "created_by": user,
            },
        )
        if created:
            cohort.sites.set(sites)
        existing = AnalysisRun.objects.filter(
            cohort=cohort,
            template=demo.template,
            status__in=[RunStatus.SUCCEEDED, RunStatus.SUCCEEDED_WITH_WARNINGS],
        ).first()
        if existing is not None:
            self.stdout.write(
                f"Demo {label} run #{existing.pk} exists: /analytics/runs/{existing.pk}/"
            )
            return
        run = run_create(
            user=user,
            template=demo.template,
            cohort=cohort,
            control_arm=ArmDefinition.objects.get(rule=demo.control_rule, version=1),
            treatment_arm=ArmDefinition.objects.get(rule=demo.treatment_rule, version=1),
            options={},
            title=demo.title,
            enqueue=False,
        )
        self.stdout.write(f"Computing demo {label} run #{run.pk} …")
        status = run_execute(run.pk)
        run.refresh_from_db()
        if status == RunStatus.FAILED:
            raise CommandError(f"Demo run #{run.pk} failed:\n{run.error}")
        for warning in run.warnings:
            self.stdout.write(self.style.WARNING(f"Warning: {warning}"))
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo {label} run #{run.pk}: {run.outputs.count()} files, "
                f"/analytics/runs/{run.pk}/"
            )
        )
