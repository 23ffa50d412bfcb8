"""Factories that build valid CRF rows through the registry's services."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model

from registry import services
from registry.choices import Role
from registry.models import CtcaeTerm, Site, SiteMembership

INDEX_DATE = dt.date(2023, 3, 1)


def make_site(code: str = "NT", name: str = "Nantong Tumor Hospital") -> Site:
    site, _ = Site.objects.get_or_create(code=code, defaults={"name": name, "country": "China"})
    return site


def make_user(username: str, role: str | None = None, site: Site | None = None, **extra):
    user = get_user_model().objects.create_user(username=username, password="pw-123456789", **extra)
    if role is not None:
        SiteMembership.objects.create(user=user, site=site, role=role)
    return user


def make_data_manager(site: Site, username: str | None = None):
    return make_user(username or f"dm-{site.code.lower()}", Role.DATA_MANAGER, site, is_staff=True)


def make_patient(site: Site | None = None, user=None, **overrides):
    site = site or make_site()
    fields = {
        "site_patient_ref": f"MRN-{Site.objects.get(pk=site.pk).last_sequence + 1:05d}",
        "sex": "male",
        "birth_year": 1962,
        "body_weight_kg": 65,
        "etiology_hbv": True,
        "antiviral_therapy": True,
        "chronic_hepatitis_history": True,
        "diagnosis_date": INDEX_DATE - dt.timedelta(days=200),
        "index_date": INDEX_DATE,
        "ecog_ps": 0,
        "histology_subtype": "conventional",
    }
    fields.update(overrides)
    return services.patient_enrol(site=site, user=user, **fields)


def ctcae(code: str) -> CtcaeTerm:
    return CtcaeTerm.objects.get(code=code)
