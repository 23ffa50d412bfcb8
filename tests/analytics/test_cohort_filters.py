"""Cohort definition filters applied by the dataset selector, and the patient flow they give."""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.models import ArmDefinition, CohortDefinition
from analytics.selectors import build_analysis_dataset
from tests.analytics.dataset_factories import CUTOFF, add_patient
from tests.registry.factories import make_site, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return make_user("admin", is_superuser=True)


def build(user, **filters):
    sites = filters.pop("sites", [])
    filters.setdefault("cutoff_date", CUTOFF)
    cohort = CohortDefinition.objects.create(
        name=f"cohort {CohortDefinition.objects.count()}", **filters
    )
    cohort.sites.set(sites)
    return build_analysis_dataset(
        user=user,
        cohort=cohort,
        control_arm=ArmDefinition.objects.get(name="Systemic therapy alone", version=1),
        treatment_arm=ArmDefinition.objects.get(name="Local + systemic therapy", version=1),
    )


def kept(dataset) -> set[int]:
    return set(dataset.frame["patient_id"])


def test_sites_keep_only_the_chosen_sites(admin):
    site_a, site_b = make_site("AA", "Site A"), make_site("BB", "Site B")
    a = add_patient(site_a)
    add_patient(site_b)
    add_patient(site_b, arm="combined")
    dataset = build(admin, sites=[site_a])
    assert kept(dataset) == {a.pk}
    assert dataset.flow[1]["excluded"] == {"site outside the cohort": 2}


def test_index_date_window(admin):
    site = make_site()
    before = add_patient(site, index_date=dt.date(2022, 6, 1))
    inside = add_patient(site, index_date=dt.date(2023, 3, 1))
    after = add_patient(site, index_date=dt.date(2024, 3, 1))
    dataset = build(admin, index_date_from=dt.date(2023, 1, 1), index_date_to=dt.date(2023, 12, 31))
    assert kept(dataset) == {inside.pk}
    assert {before.pk, after.pk}.isdisjoint(kept(dataset))
    assert dataset.flow[1]["excluded"] == {
        "index date before the window": 1,
        "index date after the window": 1,
    }


def test_an_index_date_after_the_cutoff_is_excluded(admin):
    site = make_site()
    add_patient(site, index_date=dt.date(2024, 3, 1), alive_on=dt.date(2024, 9, 1))
    early = add_patient(site, index_date=dt.date(2023, 3, 1))
    dataset = build(admin, cutoff_date=dt.date(2024, 1, 1))
    assert kept(dataset) == {early.pk}
    assert dataset.flow[1]["excluded"] == {"index date after the data cut-off": 1}


class TestBclc:
    """A patient derived BCLC B (four 6-cm lesions, ECOG 0) whom the board staged C."""

    def test_the_stage_used_honours_the_override(self, admin):
        site = make_site()
        overridden = add_patient(site, stage="B", bclc_override="C")
        plain_b = add_patient(site, stage="B")
        assert (overridden.bclc_stage_derived, overridden.bclc_stage) == ("B", "C")
        dataset = build(admin, bclc_stages=["C"], bclc_source="used")
        assert kept(dataset) == {overridden.pk}
        assert dataset.flow[1]["excluded"] == {"BCLC stage outside C": 1}
        assert plain_b.pk not in kept(dataset)
        assert dataset.frame["bclc_c"].tolist() == [1.0]

    def test_the_derived_stage_ignores_the_override(self, admin):
        site = make_site()
        overridden = add_patient(site, stage="B", bclc_override="C")
        derived_c = add_patient(site, stage="C")
        dataset = build(admin, bclc_stages=["C"], bclc_source="derived")
        assert kept(dataset) == {derived_c.pk}
        assert dataset.flow[1]["excluded"] == {"BCLC stage (derived) outside C": 1}
        assert overridden.pk not in kept(dataset)

    def test_bclc_c_covariate_follows_the_source(self, admin):
        site = make_site()
        add_patient(site, stage="B", bclc_override="C")
        used = build(admin, bclc_source="used").frame
        derived = build(admin, bclc_source="derived").frame
        assert used["bclc_c"].tolist() == [1.0]
        assert derived["bclc_c"].tolist() == [0.0]
        assert used["bclc_stage"].tolist() == derived["bclc_stage"].tolist() == ["C"]


def test_child_pugh_classes(admin):
    site = make_site()
    a = add_patient(site, child_pugh="A")
    b = add_patient(site, child_pugh="B")
    assert (a.child_pugh_class, b.child_pugh_class, b.child_pugh_score) == ("A", "B", 7)
    dataset = build(admin, child_pugh_classes=["A"])
    assert kept(dataset) == {a.pk}
    assert dataset.flow[1]["excluded"] == {"Child-Pugh class outside A": 1}


class TestRefractoriness:
    """Seed 002 operational rule: two adequate TACE 35 days apart, then a ≥ 20 % increase of
    the target sum within 6 months of the last one (the PD scan is 65 days after it)."""

    def test_require_refractory_keeps_only_refractory_patients(self, admin):
        site = make_site()
        refractory = add_patient(site, refractory=True)
        not_refractory = add_patient(site, refractory=False)
        no_tace = add_patient(site, tace_history=0)
        dataset = build(
            admin, refractoriness_rule_set="seed002_operational", require_refractory=True
        )
        assert kept(dataset) == {refractory.pk}
        assert dataset.flow[1]["excluded"] == {"not refractory to TACE (seed002_operational)": 2}
        assert not_refractory.tace_refractoriness["seed002_operational"]["status"] == (
            "not_refractory"
        )
        assert no_tace.tace_refractoriness == {}

    def test_the_rule_set_is_reported_without_filtering(self, admin):
        site = make_site()
        add_patient(site, refractory=True, response="PR")
        add_patient(site, refractory=False, response="PR")
        dataset = build(admin, refractoriness_rule_set="seed002_operational")
        assert sorted(dataset.frame["refractory_seed002_operational"]) == [
            "not_refractory",
            "refractory",
        ]
        # Three sessions are needed by "progression after 3 cycles": two are not enough.
        assert set(dataset.frame["refractory_progression_after_n_cycles"]) == {"not_refractory"}
        # The TACE series' PD before the index date is not a response of the studied line.
        assert set(dataset.frame["best_response"]) == {"PR"}
        assert dataset.frame["imaging_progression_date"].isna().all()


class TestEligibility:
    def test_ineligible_patients_are_excluded_and_counted_by_reason(self, admin):
        site = make_site()
        eligible = add_patient(site)
        add_patient(site, ecog_ps=2)
        add_patient(site, histology="sarcomatoid")
        add_patient(site, histology="sarcomatoid", arm="combined")
        dataset = build(admin, exclude_ineligible=True)
        assert kept(dataset) == {eligible.pk}
        assert dataset.flow[1]["excluded"] == {
            "ineligible: ecog_ge_2": 1,
            "ineligible: non_conventional_histology": 2,
        }

    def test_they_are_kept_when_the_cohort_says_so(self, admin):
        site = make_site()
        add_patient(site)
        add_patient(site, ecog_ps=2)
        dataset = build(admin, exclude_ineligible=False)
        assert len(dataset.frame) == 2
        assert dataset.flow[1]["excluded"] == {}


def test_a_patient_is_counted_once_under_the_first_reason(admin):
    """Outside the window, Child-Pugh B and ECOG 2 all at once: one exclusion, the first."""
    site = make_site()
    add_patient(site, index_date=dt.date(2022, 1, 10), child_pugh="B", ecog_ps=2)
    add_patient(site, child_pugh="B", ecog_ps=2)
    add_patient(site, ecog_ps=2)
    keep = add_patient(site)
    dataset = build(
        admin,
        index_date_from=dt.date(2023, 1, 1),
        child_pugh_classes=["A"],
        exclude_ineligible=True,
    )
    assert kept(dataset) == {keep.pk}
    excluded = dataset.flow[1]["excluded"]
    assert excluded == {
        "index date before the window": 1,
        "Child-Pugh class outside A": 1,
        "ineligible: ecog_ge_2": 1,
    }
    assert sum(excluded.values()) == dataset.flow[0]["n"] - dataset.flow[1]["n"] == 3
