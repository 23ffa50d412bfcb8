"""The saved arms are treatment patterns: the migration's patterns, new patterns, anchors."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from analytics.arm_members import patients_in_arm
from analytics.cohorts import arm_create_version, arm_revise
from analytics.groupings import seed_pattern
from analytics.models import ArmDefinition, GroupingDefinition
from registry.models import Patient
from tests.analytics.dataset_factories import add_patient
from tests.registry.factories import make_site

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 1, 1)


@pytest.mark.parametrize(
    ("name", "rule", "window"),
    [
        ("Systemic therapy alone", "systemic_alone", 30),
        ("Local + systemic therapy", "local_plus_systemic", 30),
        ("TACE alone", "tace_alone", 90),
        ("TACE + PD-(L)1 + MTT", "tace_pd1_mtt", 90),
    ],
)
def test_the_four_seed_arms_are_saved_as_their_patterns(name, rule, window):
    arm = ArmDefinition.objects.get(name=name, version=1)

    assert arm.pattern == seed_pattern(rule, window).to_dict()


def test_the_two_seed_comparisons_are_saved_groupings():
    a = GroupingDefinition.objects.get(name__startswith="Report A arms", version=1)
    b = GroupingDefinition.objects.get(name__startswith="Report B arms", version=1)

    assert a.grouping().labels == ["Local + systemic therapy", "Systemic therapy alone"]
    assert a.reference_label == "Systemic therapy alone"
    assert b.grouping().labels == ["TACE + PD-(L)1 + MTT", "TACE alone"]
    assert b.reference_label == "TACE alone"


def test_an_arm_written_as_a_pattern_anchored_on_refractoriness_filters_the_patient_list():
    site = make_site()
    # Both are refractory under seed 002's operational rule (two TACE, then PD); only the
    # first starts systemic therapy (on the index date, after the refractoriness date).
    treated = add_patient(site, arm="systemic", refractory=True)
    add_patient(site, arm=None, refractory=True)
    add_patient(site, arm="systemic", refractory=False)
    arm = arm_create_version(
        name="Systemic within a year of refractoriness",
        pattern={
            "anchor": "refractoriness:seed002_operational",
            "window_end_days": 365,
            "min_tace_before": 2,
            "clauses": [{"combine": "all_of", "terms": ["systemic"]}],
        },
    )

    assert arm.window_days == 365
    assert patients_in_arm(Patient.objects.all(), arm, cutoff=TODAY) == [treated.pk]


def test_a_bad_pattern_is_refused_naming_the_field():
    with pytest.raises(ValidationError) as error:
        arm_create_version(name="x", pattern={"anchor": "birthday", "window_end_days": 30})

    assert "anchor" in str(error.value.message_dict["pattern"])


def test_revising_a_seed_arms_window_rebuilds_its_pattern():
    arm = ArmDefinition.objects.get(name="TACE alone", version=1)

    revised = arm_revise(arm=arm, window_days=60)

    assert revised.pattern == seed_pattern("tace_alone", 60).to_dict()
    assert ArmDefinition.objects.get(pk=arm.pk).pattern == seed_pattern("tace_alone", 90).to_dict()


def test_a_grouping_of_pattern_arms_anchored_on_refractoriness_builds_the_dataset():
    from analytics.cohorts import grouping_create_version
    from analytics.selectors import build_analysis_dataset
    from tests.analytics.test_run_helpers import make_cohort

    site = make_site()
    treated = add_patient(site, arm="systemic", refractory=True)
    untreated = add_patient(site, arm=None, refractory=True)
    add_patient(site, arm="systemic", refractory=False)  # no refractoriness date: no group
    after = {"anchor": "refractoriness:seed002_operational", "window_end_days": 365}
    grouping = grouping_create_version(
        name="After refractoriness",
        kind="treatment_pattern",
        spec={
            "arms": [
                {
                    "label": "Systemic",
                    "pattern": {**after, "clauses": [{"combine": "all_of", "terms": ["systemic"]}]},
                },
                {
                    "label": "No systemic",
                    "pattern": {
                        **after,
                        "clauses": [{"combine": "none_of", "terms": ["systemic"]}],
                    },
                },
            ]
        },
        reference="No systemic",
    )

    from registry.choices import Role
    from tests.registry.factories import make_user

    investigator = make_user("investigator", Role.REGISTRY_INVESTIGATOR)
    dataset = build_analysis_dataset(
        user=investigator, cohort=make_cohort("All", [site]), grouping=grouping
    )

    arms = dict(zip(dataset.frame["patient_id"], dataset.frame["arm"], strict=True))
    assert arms == {treated.pk: "Systemic", untreated.pk: "No systemic"}
    assert dataset.flow[-1]["excluded"] == {
        "in none of the grouping's groups (or its variable is missing)": 1
    }
