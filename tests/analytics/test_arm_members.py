"""Arm membership of a list of patients, for screens that filter by arm."""

import datetime as dt

import pytest

from analytics.arm_members import latest_arm_definitions, patients_in_arm
from analytics.models import ArmDefinition
from registry.models import Patient
from tests.analytics.dataset_factories import add_patient
from tests.registry.factories import make_site

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 1, 1)


def test_it_only_answers_for_the_patients_it_is_given():
    nantong, shanghai = make_site("NT"), make_site("SH", "Shanghai Liver Centre")
    ours = add_patient(nantong, arm="tace_alone", tace_history=0)
    add_patient(shanghai, arm="tace_alone", tace_history=0)
    arm = ArmDefinition.objects.get(name="TACE alone", version=1)

    members = patients_in_arm(Patient.objects.filter(site=nantong), arm, cutoff=TODAY)

    assert members == [ours.pk]


def test_treatment_started_after_the_cutoff_does_not_count():
    patient = add_patient(make_site(), arm="tace_pd1_mtt", tace_history=0)
    arm = ArmDefinition.objects.get(name="TACE + PD-(L)1 + MTT", version=1)
    # The systemic drugs start 10 days after the index date (and the TACE).
    before_drugs = patient.index_date + dt.timedelta(days=5)

    assert patients_in_arm(Patient.objects.all(), arm, cutoff=TODAY) == [patient.pk]
    assert patients_in_arm(Patient.objects.all(), arm, cutoff=before_drugs) == []


def test_no_patients_means_no_members_and_no_error():
    arm = ArmDefinition.objects.get(name="TACE alone", version=1)

    assert patients_in_arm(Patient.objects.none(), arm, cutoff=TODAY) == []


def test_the_latest_version_of_each_named_arm_is_offered():
    ArmDefinition.objects.create(name="TACE alone", version=2, rule="tace_alone", window_days=60)

    latest = {arm.name: arm.version for arm in latest_arm_definitions()}

    assert latest["TACE alone"] == 2
    assert len(latest) == ArmDefinition.objects.values("name").distinct().count()
