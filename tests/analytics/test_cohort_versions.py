"""Cohort and arm definitions are saved as new versions, never edited in place."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from analytics.cohorts import arm_create_version, arm_revise, cohort_create_version, cohort_revise
from analytics.models import ArmDefinition
from registry.choices import Role
from tests.registry.factories import make_site, make_user

pytestmark = pytest.mark.django_db

CUTOFF = dt.date(2024, 12, 31)


def test_a_new_name_starts_at_version_1_and_revisions_count_up():
    investigator = make_user("reg", Role.REGISTRY_INVESTIGATOR)
    first = cohort_create_version(name="Seed 002", user=investigator, cutoff_date=CUTOFF)
    second = cohort_revise(cohort=first, user=investigator, child_pugh_classes=["A"])
    assert (first.version, second.version) == (1, 2)
    first.refresh_from_db()
    assert first.child_pugh_classes == []  # the old version is unchanged
    assert second.child_pugh_classes == ["A"]
    assert second.cutoff_date == CUTOFF
    assert second.created_by == investigator


def test_a_revision_keeps_the_sites_unless_given():
    site_a, site_b = make_site("AA", "A"), make_site("BB", "B")
    first = cohort_create_version(name="c", sites=[site_a], cutoff_date=CUTOFF)
    kept = cohort_revise(cohort=first, bclc_stages=["B"])
    moved = cohort_revise(cohort=kept, sites=[site_b])
    assert list(kept.sites.values_list("code", flat=True)) == ["AA"]
    assert list(moved.sites.values_list("code", flat=True)) == ["BB"]
    assert moved.version == 3


def test_the_model_rules_are_applied():
    with pytest.raises(ValidationError, match="rule set"):
        cohort_create_version(name="c", cutoff_date=CUTOFF, require_refractory=True)
    with pytest.raises(ValidationError, match="window ends before it starts"):
        cohort_create_version(
            name="c",
            cutoff_date=CUTOFF,
            index_date_from=dt.date(2024, 1, 1),
            index_date_to=dt.date(2023, 1, 1),
        )


def test_a_site_investigator_may_choose_only_their_sites():
    site_a, site_b = make_site("AA", "A"), make_site("BB", "B")
    investigator = make_user("inv", Role.SITE_INVESTIGATOR, site_a)
    cohort = cohort_create_version(name="c", user=investigator, sites=[site_a], cutoff_date=CUTOFF)
    assert cohort.version == 1
    with pytest.raises(ValidationError, match="BB"):
        cohort_create_version(name="c", user=investigator, sites=[site_b], cutoff_date=CUTOFF)


@pytest.mark.parametrize("role", [None, Role.DATA_MANAGER])
def test_a_user_who_may_analyse_nothing_may_not_define_cohorts_or_arms(role):
    site = make_site()
    user = make_user("u", role, site if role else None)
    with pytest.raises(PermissionDenied):
        cohort_create_version(name="c", user=user, cutoff_date=CUTOFF)
    with pytest.raises(PermissionDenied):
        arm_create_version(name="a", user=user, rule="tace_alone", window_days=90)


def test_an_arm_revision_on_top_of_the_seeded_definition():
    seeded = ArmDefinition.objects.get(name="TACE + PD-(L)1 + MTT", version=1)
    narrow = arm_revise(arm=seeded, window_days=60)
    assert (narrow.version, narrow.rule, narrow.window_days) == (2, "tace_pd1_mtt", 60)
    seeded.refresh_from_db()
    assert seeded.window_days == 90
    with pytest.raises(TypeError, match="colour"):
        arm_revise(arm=seeded, colour="red")
