"""Demo data for `make demo`: sites, users of every role, and patients with the CRF filled in."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from registry.choices import Role
from registry.demo import generate_patients
from registry.models import Site, SiteMembership

DEMO_PASSWORD = "demo-registry-2026"
SITES = [
    ("NT", "Nantong Tumor Hospital", "China", 60),
    ("SH", "Shanghai Liver Centre", "China", 40),
]
USERS = [
    ("admin", None, None, "registry admin (superuser)"),
    ("dm_nt", Role.DATA_MANAGER, "NT", "data manager, Nantong"),
    ("dm_sh", Role.DATA_MANAGER, "SH", "data manager, Shanghai"),
    ("monitor_nt", Role.MONITOR, "NT", "monitor, Nantong"),
    ("investigator", Role.REGISTRY_INVESTIGATOR, None, "registry investigator, all sites"),
]


class Command(BaseCommand):
    help = "Create demo sites, users and patients (idempotent: existing data is kept)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--patients-scale", type=float, default=1.0)

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        sites = {}
        for code, name, country, count in SITES:
            site, _ = Site.objects.get_or_create(
                code=code, defaults={"name": name, "country": country}
            )
            sites[code] = site
            if not site.patients.exists():
                n = max(1, round(count * options["patients_scale"]))
                generate_patients(site=site, count=n, seed=2)
                self.stdout.write(f"  {n} demo patients at {site}")
        User = get_user_model()
        for username, role, site_code, _ in USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"is_staff": True, "is_superuser": username == "admin"},
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            if role is not None:
                SiteMembership.objects.get_or_create(
                    user=user, site=sites.get(site_code), role=role
                )
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready. Logins (password for all: {DEMO_PASSWORD}):")
        )
        for username, _, _, description in USERS:
            self.stdout.write(f"  {username:<14} {description}")
