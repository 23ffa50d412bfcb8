"""The patient list filters by treatment arm: the arm rules applied to the list's patients.

Treatment patterns from ``tests/analytics/dataset_factories.add_patient``, without the TACE
history before the index date: "tace_alone" is TACE on the index date;
"tace_pd1_mtt" adds lenvatinib and camrelizumab 10 days later; "systemic" is lenvatinib +
sintilimab on the index date; "combined" adds HAIC 3 days later; "tace_late_systemic" is TACE
with lenvatinib 120 days later (outside the 90-day window of the seeded TACE arms). The arms
may overlap: TACE with systemic therapy 10 days after the index date is also "local + systemic"
by seed 002's rule.
"""

import pytest

from analytics.models import ArmDefinition
from registry.admin.filters import ArmFilter
from tests.analytics.dataset_factories import add_patient

pytestmark = pytest.mark.django_db

LIST_URL = "/admin/registry/patient/"
PATTERNS = ("tace_alone", "tace_pd1_mtt", "systemic", "combined", "tace_late_systemic")


@pytest.fixture
def by_pattern(nantong):
    return {pattern: add_patient(nantong, arm=pattern, tace_history=0) for pattern in PATTERNS}


def arm_id(name: str) -> str:
    return str(ArmDefinition.objects.filter(name=name).order_by("-version").first().pk)


def listed(client, **params) -> set[str]:
    response = client.get(LIST_URL, params)
    assert response.status_code == 200
    return {p.study_id for p in response.context["cl"].result_list}


def arm_filter_choices(client) -> list[dict]:
    response = client.get(LIST_URL)
    spec = next(f for f in response.context["cl"].filter_specs if isinstance(f, ArmFilter))
    return list(spec.choices(response.context["cl"]))


@pytest.mark.parametrize(
    ("arm", "patterns"),
    [
        ("TACE alone", {"tace_alone", "tace_late_systemic"}),
        ("TACE + PD-(L)1 + MTT", {"tace_pd1_mtt"}),
        ("Systemic therapy alone", {"systemic"}),
        ("Local + systemic therapy", {"combined", "tace_pd1_mtt"}),
    ],
)
def test_each_arm_lists_the_patients_its_rule_selects(
    client_for, manager, by_pattern, arm, patterns
):
    found = listed(client_for(manager), arm=arm_id(arm))

    assert found == {by_pattern[p].study_id for p in patterns}


def test_another_sites_patient_in_the_arm_is_never_listed(
    client_for, manager, shanghai, by_pattern
):
    theirs = add_patient(shanghai, arm="tace_alone", tace_history=0)

    found = listed(client_for(manager), arm=arm_id("TACE alone"))

    assert by_pattern["tace_alone"].study_id in found
    assert theirs.study_id not in found


def test_the_arm_filter_combines_with_the_other_filters(client_for, manager, nantong, by_pattern):
    class_b = add_patient(nantong, arm="tace_alone", tace_history=0, child_pugh="B")

    found = listed(client_for(manager), arm=arm_id("TACE alone"), child_pugh_class__exact="B")

    assert found == {class_b.study_id}


def test_the_choices_are_the_latest_version_of_each_arm_and_use_its_window(
    client_for, manager, by_pattern
):
    first = ArmDefinition.objects.get(name="TACE alone", version=1)
    wider = ArmDefinition.objects.create(
        name="TACE alone", version=2, rule="tace_alone", window_days=180
    )
    client = client_for(manager)

    choices = [c["display"] for c in arm_filter_choices(client)]
    found = listed(client, arm=str(wider.pk))

    assert "TACE alone v2" in choices
    assert str(first) not in choices
    # Lenvatinib 120 days after TACE falls inside v2's 180-day window: no longer TACE alone.
    assert found == {by_pattern["tace_alone"].study_id}


def test_an_unknown_arm_lists_nobody(client_for, manager, by_pattern):
    assert listed(client_for(manager), arm="999999") == set()
