"""Shared set-up for the analysis-run tests (sites, users, arms, cohorts); holds no tests.

Fixtures are imported by the test modules that use them, as tests/analytics has no conftest of
its own for this work.
"""

from __future__ import annotations

import datetime as dt
import types

import pytest

from analytics.choices import ReportTemplate
from analytics.models import ArmDefinition, CohortDefinition
from analytics.services import run_create
from registry.choices import Role
from tests.registry.factories import make_site, make_user

CUTOFF = dt.date(2024, 12, 31)


def seed_arms() -> tuple[ArmDefinition, ArmDefinition]:
    """Report A's arms; created again because transactional tests flush migration data."""
    control, _ = ArmDefinition.objects.get_or_create(
        name="Systemic therapy alone",
        version=1,
        defaults={"rule": "systemic_alone", "window_days": 30},
    )
    treatment, _ = ArmDefinition.objects.get_or_create(
        name="Local + systemic therapy",
        version=1,
        defaults={"rule": "local_plus_systemic", "window_days": 30},
    )
    return control, treatment


def make_cohort(name: str, sites=(), **fields) -> CohortDefinition:
    cohort = CohortDefinition.objects.create(
        name=name, cutoff_date=fields.pop("cutoff_date", CUTOFF), **fields
    )
    cohort.sites.set(sites)
    return cohort


def queue_run(user, cohort, template=ReportTemplate.REPORT_A, **extra):
    control, treatment = seed_arms()
    return run_create(
        user=user,
        template=template,
        cohort=cohort,
        control_arm=extra.pop("control_arm", control),
        treatment_arm=extra.pop("treatment_arm", treatment),
        options=extra.pop("options", {}),
        **extra,
    )


@pytest.fixture
def world(db, settings):
    """Two sites, a cohort over each and over both, and users with different rights."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
    nt, sh = make_site("NT", "Nantong Tumor Hospital"), make_site("SH", "Shanghai Liver Centre")
    return types.SimpleNamespace(
        nt=nt,
        sh=sh,
        nt_cohort=make_cohort("Nantong only", [nt]),
        sh_cohort=make_cohort("Shanghai only", [sh]),
        both_cohort=make_cohort("Both sites", [nt, sh]),
        all_cohort=make_cohort("Whole registry"),
        investigator=make_user("investigator", Role.REGISTRY_INVESTIGATOR),
        nt_investigator=make_user("inv-nt", Role.SITE_INVESTIGATOR, nt),
        sh_investigator=make_user("inv-sh", Role.SITE_INVESTIGATOR, sh),
        nt_data_manager=make_user("dm-nt", Role.DATA_MANAGER, nt),
    )
