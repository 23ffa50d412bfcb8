"""Demo data for `make demo`: sites, users of every role, and patients with the CRF filled in.

Nantong and Shanghai hold seed-002-shaped patients (TACE-refractory, systemic therapy with or
without a local therapy: Report A); Hangzhou holds seed-000-shaped patients (TACE alone or TACE
+ PD-(L)1 + MTT: Report B). At Nantong the demo users then walk records through the workflow:
complete, verified, locked, data queries open and answered, an import job.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from registry.choices import Role
from registry.demo import generate_patients
from registry.demo_seed000 import generate_tace_patients
from registry.demo_workflow import demo_workflow
from registry.models import Site, SiteMembership

DEMO_PASSWORD = "demo-registry-2026"
# code, name, country, patients, generator ("seed002" or "seed000")
SITES = [
    ("NT", "Nantong Tumor Hospital", "China", 60, "seed002"),
    ("SH", "Shanghai Liver Centre", "China", 40, "seed002"),
    ("HZ", "Hangzhou Hepatobiliary Centre", "China", 120, "seed000"),
]
USERS = [
    ("admin", None, None, "registry admin (superuser)"),
    ("dm_nt", Role.DATA_MANAGER, "NT", "data manager, Nantong"),
    ("dm_sh", Role.DATA_MANAGER, "SH", "data manager, Shanghai"),
    ("dm_hz", Role.DATA_MANAGER, "HZ", "data manager, Hangzhou"),
    ("monitor_nt", Role.MONITOR, "NT", "monitor, Nantong"),
    ("investigator", Role.REGISTRY_INVESTIGATOR, None, "registry investigator, all sites"),
]
WORKFLOW_SITE = "NT"


class Command(BaseCommand):
    help = "Create demo sites, users and patients (idempotent: existing data is kept)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--patients-scale", type=float, default=1.0)

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        users = self._users()
        sites, new_sites = {}, set()
        for code, name, country, count, generator in SITES:
            site, _ = Site.objects.get_or_create(
                code=code, defaults={"name": name, "country": country}
            )
            sites[code] = site
            if not site.patients.exists():
                n = max(1, round(count * options["patients_scale"]))
                if generator == "seed000":
                    generate_tace_patients(site=site, count=n, seed=0)
                else:
                    generate_patients(site=site, count=n, seed=2)
                new_sites.add(code)
                self.stdout.write(f"  {n} demo patients ({generator}-shaped) at {site}")
        self._memberships(users, sites)
        if WORKFLOW_SITE in new_sites:
            summary = demo_workflow(
                site=sites[WORKFLOW_SITE],
                data_manager=users[f"dm_{WORKFLOW_SITE.lower()}"],
                monitor=users[f"monitor_{WORKFLOW_SITE.lower()}"],
            )
            self.stdout.write(
                f"  workflow at {sites[WORKFLOW_SITE]}: {summary.complete} complete, "
                f"{summary.verified} verified, {summary.locked} locked; queries "
                f"{summary.queries_open} open, {summary.queries_answered} answered, "
                f"{summary.queries_closed} closed; import job: {summary.import_status}"
            )
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready. Logins (password for all: {DEMO_PASSWORD}):")
        )
        for username, _, _, description in USERS:
            self.stdout.write(f"  {username:<14} {description}")

    def _users(self) -> dict:
        User = get_user_model()
        users = {}
        for username, _, _, _ in USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"is_staff": True, "is_superuser": username == "admin"},
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            users[username] = user
        return users

    def _memberships(self, users: dict, sites: dict) -> None:
        for username, role, site_code, _ in USERS:
            if role is not None:
                SiteMembership.objects.get_or_create(
                    user=users[username], site=sites.get(site_code), role=role
                )
