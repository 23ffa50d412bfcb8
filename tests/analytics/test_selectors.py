"""The analysis dataset selector against a real database: columns, access, arms, queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics.models import ArmDefinition, CohortDefinition
from analytics.selectors import BASE_COLUMNS, COVARIATE_COLUMNS, build_analysis_dataset
from registry.choices import Role
from tests.analytics.dataset_factories import CUTOFF, add_patient
from tests.registry.factories import make_site, make_user

pytestmark = pytest.mark.django_db


def arms(seed: str) -> tuple[ArmDefinition, ArmDefinition]:
    """Control and compared arm as seeded by migration analytics/0002."""
    if seed == "002":
        return (
            ArmDefinition.objects.get(name="Systemic therapy alone", version=1),
            ArmDefinition.objects.get(name="Local + systemic therapy", version=1),
        )
    return (
        ArmDefinition.objects.get(name="TACE alone", version=1),
        ArmDefinition.objects.get(name="TACE + PD-(L)1 + MTT", version=1),
    )


def build(user, cohort=None, seed: str = "002"):
    if cohort is None:
        cohort, _ = CohortDefinition.objects.get_or_create(name="all", cutoff_date=CUTOFF)
    control, treatment = arms(seed)
    return build_analysis_dataset(
        user=user, cohort=cohort, control_arm=control, treatment_arm=treatment
    )


@pytest.fixture
def admin():
    return make_user("admin", is_superuser=True)


def test_it_returns_one_row_per_patient_with_the_documented_columns(admin):
    site = make_site()
    add_patient(site, arm="systemic", response="PR", adverse_events=(("vomiting", 2),))
    add_patient(site, arm="combined", response="PD", adverse_events=(("rash_maculo_papular", 3),))
    frame = build(admin).frame
    assert len(frame) == 2
    assert frame["patient_id"].is_unique
    expected = [
        *BASE_COLUMNS,
        "ae_rash_maculo_papular",
        "ae_rash_maculo_papular_grade",
        "ae_vomiting",
        "ae_vomiting_grade",
        *COVARIATE_COLUMNS,
    ]
    assert list(frame.columns) == expected
    combined = frame.set_index("arm").loc["Local + systemic therapy"]
    assert combined["best_response"] == "PD"
    assert combined["ae_rash_maculo_papular_grade"] == 3
    assert combined["ae_grade3plus"] == 1
    assert combined["ae_vomiting"] == 0


def test_it_never_carries_the_site_patient_reference(admin):
    site = make_site()
    patients = [add_patient(site), add_patient(site, arm="combined")]
    dataset = build(admin)
    assert "site_patient_ref" not in dataset.frame.columns
    text = dataset.frame.to_csv(index=False) + repr(dataset.flow)
    for patient in patients:
        assert patient.site_patient_ref.startswith("SECRET-MRN-")
        assert patient.site_patient_ref not in text
    assert "SECRET-MRN" not in text


@pytest.mark.parametrize("size", [5, 50])
def test_it_uses_a_constant_number_of_queries(admin, size, django_assert_max_num_queries):
    """Same number of queries for 5 and 50 patients: every table is read once."""
    site = make_site()
    for i in range(size):
        add_patient(
            site,
            arm=("systemic", "combined", None)[i % 3],
            response=("CR", "PR", "SD", "PD", None)[i % 5],
            adverse_events=(("vomiting", 1),) if i % 2 else (),
            death_date=dt.date(2024, 1, 10) if i % 4 == 0 else None,
        )
    cohort = CohortDefinition.objects.create(name="all", cutoff_date=CUTOFF)
    cohort.sites.add(site)
    control, treatment = arms("002")
    with CaptureQueriesContext(connection) as queries:
        dataset = build_analysis_dataset(
            user=admin, cohort=cohort, control_arm=control, treatment_arm=treatment
        )
    assert len(dataset.frame) == size - size // 3
    # cohort sites, patients, the three of TACE resistance after the run's N cycles (sessions,
    # follow-up scans, patient ids), treatments (one UNION), scans, last known alive (one
    # UNION), progression events, adverse events.
    assert len(queries) == 10
    with django_assert_max_num_queries(10):
        build_analysis_dataset(
            user=admin, cohort=cohort, control_arm=control, treatment_arm=treatment
        )


class TestAccess:
    def test_a_site_investigator_analyses_only_their_site(self):
        site_a, site_b = make_site("AA", "Site A"), make_site("BB", "Site B")
        add_patient(site_a)
        add_patient(site_b)
        add_patient(site_b, arm="combined")
        investigator = make_user("inv-a", Role.SITE_INVESTIGATOR, site_a)
        dataset = build(investigator)
        assert list(dataset.frame["site"]) == ["AA"]
        assert dataset.flow[0]["n"] == 1

    def test_a_registry_investigator_analyses_every_site(self):
        add_patient(make_site("AA", "Site A"))
        add_patient(make_site("BB", "Site B"))
        investigator = make_user("reg", Role.REGISTRY_INVESTIGATOR)
        assert sorted(build(investigator).frame["site"]) == ["AA", "BB"]

    @pytest.mark.parametrize("role", [None, Role.DATA_MANAGER, Role.MONITOR])
    def test_without_an_analyse_membership_nothing_is_visible(self, role):
        """Deny by default: no membership, or a role without ANALYSE, sees no patient."""
        site = make_site()
        add_patient(site)
        user = make_user("someone", role, site if role else None)
        dataset = build(user)
        assert dataset.frame.empty
        assert list(dataset.frame.columns) == [*BASE_COLUMNS, *COVARIATE_COLUMNS]
        assert dataset.flow[0]["n"] == 0


class TestArms:
    def test_seed_002_arms_from_the_seeded_definitions(self, admin):
        """Systemic alone vs local + systemic (within 30 days of the index date); a patient
        with only pre-index TACE matches neither and is counted in the flow."""
        site = make_site()
        add_patient(site, arm="systemic")
        add_patient(site, arm="combined")
        add_patient(site, arm="combined")
        add_patient(site, arm=None)
        dataset = build(admin)
        assert sorted(dataset.frame["arm"]) == [
            "Local + systemic therapy",
            "Local + systemic therapy",
            "Systemic therapy alone",
        ]
        step = dataset.flow[-1]
        assert step["excluded"] == {"treatments match neither arm definition": 1}
        assert step["by_arm"] == {"Systemic therapy alone": 1, "Local + systemic therapy": 2}

    def test_seed_000_arms_from_the_seeded_definitions(self, admin):
        """TACE alone vs TACE + PD-(L)1 + MTT within 90 days of the first TACE; systemic therapy
        started 120 days after the first TACE leaves the patient in "TACE alone"."""
        site = make_site()
        alone = add_patient(site, arm="tace_alone", tace_history=0)
        late = add_patient(site, arm="tace_late_systemic", tace_history=0)
        triple = add_patient(site, arm="tace_pd1_mtt", tace_history=0)
        frame = build(admin, seed="000").frame.set_index("patient_id")
        assert frame.loc[alone.pk, "arm"] == "TACE alone"
        assert frame.loc[late.pk, "arm"] == "TACE alone"
        assert frame.loc[triple.pk, "arm"] == "TACE + PD-(L)1 + MTT"
        assert frame.loc[triple.pk, "tace_sessions"] == 1

    def test_a_new_arm_version_with_a_shorter_window_reassigns(self, admin):
        site = make_site()
        triple = add_patient(site, arm="tace_pd1_mtt", tace_history=0)
        control, _ = arms("000")
        narrow = ArmDefinition.objects.create(
            name="TACE + PD-(L)1 + MTT", version=2, rule="tace_pd1_mtt", window_days=7
        )
        cohort = CohortDefinition.objects.create(name="all", cutoff_date=CUTOFF)
        dataset = build_analysis_dataset(
            user=admin, cohort=cohort, control_arm=control, treatment_arm=narrow
        )
        # Systemic therapy on day 10 is outside the 7-day window, yet within the 90 days of
        # "TACE alone": the patient fits neither arm and is counted as such in the flow.
        assert triple.pk not in set(dataset.frame["patient_id"])
        assert dataset.flow[-1]["excluded"] == {"treatments match neither arm definition": 1}


class TestDegenerateCohorts:
    def test_an_empty_registry_gives_an_empty_dataset(self, admin):
        dataset = build(admin)
        assert dataset.frame.empty
        assert list(dataset.frame.columns) == [*BASE_COLUMNS, *COVARIATE_COLUMNS]
        assert [step["n"] for step in dataset.flow] == [0, 0, 0]
        assert dataset.endpoint_exclusions == {}
        assert len(dataset.sha256) == 64

    def test_a_cohort_that_excludes_everyone_gives_an_empty_dataset(self, admin):
        site = make_site()
        add_patient(site)
        add_patient(site, arm="combined")
        cohort = CohortDefinition.objects.create(name="none", cutoff_date=CUTOFF, bclc_stages=["D"])
        dataset = build(admin, cohort)
        assert dataset.frame.empty
        assert dataset.flow[1]["excluded"] == {"BCLC stage outside D": 2}
        assert dataset.flow[2]["by_arm"] == {
            "Systemic therapy alone": 0,
            "Local + systemic therapy": 0,
        }

    def test_one_empty_arm_gives_a_valid_dataset(self, admin):
        site = make_site()
        add_patient(site, arm="combined")
        add_patient(site, arm="combined", response="PR")
        dataset = build(admin)
        assert set(dataset.frame["arm"]) == {"Local + systemic therapy"}
        assert dataset.flow[-1]["by_arm"]["Systemic therapy alone"] == 0
        assert dataset.frame["os_months"].notna().all()

    def test_the_hash_is_stable_and_follows_the_data(self, admin):
        site = make_site()
        add_patient(site)
        first, second = build(admin), build(admin)
        assert first.sha256 == second.sha256
        add_patient(site, arm="combined")
        assert build(admin).sha256 != first.sha256
