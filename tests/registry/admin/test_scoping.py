"""Site scoping of the admin: lists, search, choices, autocomplete and URLs show one's own sites."""

import pytest

from registry.choices import Role
from registry.models import LabPanel
from tests.registry.factories import make_patient, make_user

from .conftest import change_url

pytestmark = pytest.mark.django_db


def test_it_answers_404_for_another_sites_patient(client_for, manager, other_patient):
    response = client_for(manager).get(change_url(other_patient))

    assert response.status_code == 404


def test_it_answers_404_for_a_post_to_another_sites_patient(client_for, manager, other_patient):
    response = client_for(manager).post(change_url(other_patient), {"sex": "female"})

    other_patient.refresh_from_db()
    assert response.status_code == 404
    assert other_patient.sex == "male"


def test_it_answers_404_for_another_sites_status_action(client_for, manager, other_patient):
    url = f"/admin/registry/patient/{other_patient.pk}/status/mark_complete/"

    assert client_for(manager).post(url).status_code == 404


def test_the_patient_list_shows_only_the_users_site(client_for, manager, patient, other_patient):
    response = client_for(manager).get("/admin/registry/patient/")

    shown = {p.pk for p in response.context["cl"].result_list}
    assert shown == {patient.pk}


def test_the_site_filter_offers_only_the_users_sites(client_for, manager, patient, other_patient):
    response = client_for(manager).get("/admin/registry/patient/")

    site_filter = next(f for f in response.context["cl"].filter_specs if f.parameter_name == "site")
    assert [label for _, label in site_filter.lookup_choices] == ["NT"]


def test_searching_another_sites_reference_finds_nothing(client_for, manager, other_patient):
    response = client_for(manager).get("/admin/registry/patient/", {"q": "SH-SECRET-1"})

    assert list(response.context["cl"].result_list) == []


def test_searching_the_own_sites_reference_finds_the_patient(client_for, manager, patient):
    response = client_for(manager).get("/admin/registry/patient/", {"q": patient.site_patient_ref})

    assert list(response.context["cl"].result_list) == [patient]


def test_the_patient_choices_of_a_crf_row_are_the_users_sites_only(
    client_for, manager, patient, other_patient
):
    response = client_for(manager).get("/admin/registry/labpanel/add/")

    choices = response.context["adminform"].form.fields["patient"].queryset
    assert set(choices) == {patient}


def test_the_patient_autocomplete_offers_only_the_users_sites(
    client_for, manager, patient, other_patient
):
    response = client_for(manager).get(
        "/admin/autocomplete/",
        {"app_label": "registry", "model_name": "labpanel", "field_name": "patient", "term": "-"},
    )

    assert [r["text"] for r in response.json()["results"]] == [patient.study_id]


def test_another_sites_lab_panel_answers_404(client_for, manager, other_patient):
    lab = LabPanel.objects.create(patient=other_patient, sample_date="2023-02-01", albumin_g_l=40)

    assert client_for(manager).get(change_url(lab)).status_code == 404


def test_a_registry_investigator_does_not_see_site_references(client_for, patient):
    investigator = make_user("inv", Role.REGISTRY_INVESTIGATOR, None, is_staff=True)

    response = client_for(investigator).get(change_url(patient))

    assert response.status_code == 200
    assert patient.site_patient_ref not in response.content.decode()


def test_the_list_shows_the_own_sites_reference(client_for, manager, patient):
    response = client_for(manager).get("/admin/registry/patient/")

    assert patient.site_patient_ref in response.content.decode()


def test_a_registry_investigator_sees_every_site_in_the_list(client_for, patient, other_patient):
    investigator = make_user("inv", Role.REGISTRY_INVESTIGATOR, None, is_staff=True)

    response = client_for(investigator).get("/admin/registry/patient/")

    assert {p.pk for p in response.context["cl"].result_list} == {patient.pk, other_patient.pk}
    assert "SH-SECRET-1" not in response.content.decode()


def test_a_staff_user_without_membership_sees_no_patients(client_for, patient):
    nobody = make_user("nobody", is_staff=True)

    assert client_for(nobody).get("/admin/registry/patient/").status_code == 403


def test_a_second_site_patient_is_listed_for_a_two_site_manager(client_for, nantong, shanghai):
    from registry.models import SiteMembership

    both = make_user("both", Role.DATA_MANAGER, nantong, is_staff=True)
    SiteMembership.objects.create(user=both, site=shanghai, role=Role.DATA_MANAGER)
    first, second = make_patient(nantong), make_patient(shanghai)

    response = client_for(both).get("/admin/registry/patient/")

    assert {p.pk for p in response.context["cl"].result_list} == {first.pk, second.pk}


def test_the_site_choices_of_enrolment_are_the_users_sites_only(client_for, manager, shanghai):
    response = client_for(manager).get("/admin/registry/patient/add/")

    choices = response.context["adminform"].form.fields["site"].queryset
    assert [site.code for site in choices] == ["NT"]


def test_enrolling_at_another_site_is_refused_at_the_field(client_for, manager, shanghai):
    response = client_for(manager).post(
        "/admin/registry/patient/add/", {"site": str(shanghai.pk), "sex": "male"}
    )

    assert "site" in response.context["adminform"].form.errors
    assert not shanghai.patients.exists()


def test_the_refractoriness_filter_selects_refractory_patients(client_for, manager, nantong):
    from registry.models import Patient

    refractory = make_patient(nantong)
    make_patient(nantong)  # not refractory
    Patient.objects.filter(pk=refractory.pk).update(
        tace_refractoriness={"seed002_operational": {"status": "refractory"}}
    )

    response = client_for(manager).get(
        "/admin/registry/patient/", {"refractory": "seed002_operational:refractory"}
    )

    assert list(response.context["cl"].result_list) == [refractory]


def test_an_import_jobs_row_errors_are_hidden_from_a_registry_admin_of_no_site(client, nantong):
    from django.core.files.base import ContentFile

    from registry.models import ImportJob

    registry_admin = make_user("radmin", Role.REGISTRY_ADMIN, None, is_staff=True)
    job = ImportJob.objects.create(
        site=nantong,
        created_by=registry_admin,
        original_filename="labs.csv",
        file=ContentFile(b"x", name="labs.csv"),
        errors=[{"row": 2, "reason": "NT-SECRET-REF unknown"}],
    )
    client.force_login(registry_admin)

    page = client.get(change_url(job)).content.decode()

    assert "labs.csv" in page
    assert "NT-SECRET-REF" not in page
