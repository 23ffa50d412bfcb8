from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from simple_history.models import HistoricalRecords

from registry.choices import Role

from .indexes import keyset_indexes

SITE_WIDE_ROLES = {Role.DATA_MANAGER, Role.MONITOR, Role.SITE_INVESTIGATOR}
REGISTRY_WIDE_ROLES = {Role.REGISTRY_INVESTIGATOR, Role.REGISTRY_ADMIN}


class Site(models.Model):
    code = models.CharField(
        max_length=8,
        unique=True,
        validators=[RegexValidator(r"^[A-Z]{2,8}$", "Site code is 2–8 capital letters, e.g. NT.")],
        help_text="Prefix of the study ids of this site's patients, e.g. NT → NT-0007.",
    )
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=100)
    # Last study-id sequence number handed out; study ids are never reused, even after a delete.
    last_sequence = models.PositiveIntegerField(default=0, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        indexes = keyset_indexes("site", "country")

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class SiteMembership(models.Model):
    """A user's role at a site; registry-wide roles have no site and see every site."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, null=True, blank=True, related_name="memberships"
    )
    role = models.CharField(max_length=32, choices=Role.choices)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "site", "role"], name="unique_membership_per_site_role"
            ),
        ]

    def __str__(self) -> str:
        where = self.site.code if self.site_id else "all sites"
        return f"{self.user} — {self.get_role_display()} ({where})"

    def clean(self) -> None:
        if self.role in SITE_WIDE_ROLES and self.site_id is None:
            raise ValidationError({"site": f"The role {self.get_role_display()} needs a site."})
        if self.role in REGISTRY_WIDE_ROLES and self.site_id is not None:
            raise ValidationError(
                {"site": f"The role {self.get_role_display()} is registry-wide: leave site empty."}
            )
