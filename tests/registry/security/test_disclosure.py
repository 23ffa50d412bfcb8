"""Issue 17 items 3-4: one declaration per field (identifying / free text / coded), one rule.

Free text and identifying values (``registry.disclosure``) are read by the patient's own site
only: de-identified exports never carry them, and registry-wide roles (investigator, registry
admin) do not read them in the API or the admin. The site's own data manager does.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import models

from registry import exports
from registry.choices import Role
from registry.disclosure import DECLARED, Kind, site_only_fields
from registry.models import CrfRecord, Patient
from tests.registry.api.conftest import token_client
from tests.registry.factories import make_data_manager, make_site, make_user
from tests.registry.test_exports import all_text

from .markers import planted_patient


def crf_models():
    return [
        m
        for m in apps.get_app_config("registry").get_models()
        if (issubclass(m, CrfRecord) or m is Patient) and not m.__name__.startswith("Historical")
    ]


@pytest.mark.parametrize("model", crf_models(), ids=lambda m: m.__name__)
def test_every_text_field_of_a_crf_model_is_declared(model):
    """A new free-text field must be declared, or it would be shared as coded by default."""
    undeclared = [
        f.name
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField)
        and not f.choices
        and f.name not in DECLARED.get(model, {})
    ]
    assert undeclared == []


def test_the_free_text_fields_the_issue_names_are_free_text():
    from registry.disclosure import kind_of
    from registry.models import AdverseEvent, LocalProcedure, SystemicTherapy, TaceSession

    assert kind_of(AdverseEvent, "other_specify") == Kind.FREE_TEXT
    assert kind_of(SystemicTherapy, "agent_other") == Kind.FREE_TEXT
    assert kind_of(SystemicTherapy, "schedule") == Kind.FREE_TEXT
    assert kind_of(LocalProcedure, "technique") == Kind.FREE_TEXT
    assert kind_of(TaceSession, "microsphere_size_um") == Kind.FREE_TEXT
    assert kind_of(Patient, "site_patient_ref") == Kind.IDENTIFYING


@pytest.fixture
def planted(db):
    site = make_site("NT")
    manager = make_data_manager(site)
    patient, markers = planted_patient(site, manager)
    assert len(markers) == sum(len(site_only_fields(m)) for m in DECLARED)
    return patient, markers, manager


def _found(text: str, markers: dict[str, str]) -> list[str]:
    return [name for name, value in markers.items() if value in text]


def test_no_de_identified_export_carries_free_text_even_for_the_own_site(planted):
    _, markers, manager = planted

    for user in (manager, make_user("admin", Role.REGISTRY_ADMIN)):
        for name, text in all_text(user):
            assert _found(text, markers) == [], name


def test_the_export_dictionary_lists_no_free_text_column():
    names = {row[1] for row in exports.dictionary_rows()}
    assert not names & {"other_specify", "agent_other", "schedule", "microsphere_size_um"}


@pytest.mark.parametrize("role", [Role.REGISTRY_INVESTIGATOR, Role.REGISTRY_ADMIN])
def test_a_registry_wide_role_reads_no_free_text_in_the_api(planted, role):
    patient, markers, _ = planted
    api = token_client(make_user("wide", role, None))

    record = api.get(f"/api/v1/patients/{patient.study_id}/record/")
    listed = [api.get(f"/api/v1/{path}/") for path in ("adverse-events", "systemic-therapies")]

    assert record.status_code == 200
    assert _found(record.content.decode(), markers) == []
    assert all(_found(r.content.decode(), markers) == [] for r in listed)


def test_the_own_site_reads_its_free_text_in_the_api(planted):
    patient, markers, manager = planted

    record = token_client(manager).get(f"/api/v1/patients/{patient.study_id}/record/")

    assert sorted(_found(record.content.decode(), markers)) == sorted(markers)


def test_a_registry_admin_may_not_overwrite_free_text_blind(planted):
    patient, _, _ = planted
    api = token_client(make_user("radmin", Role.REGISTRY_ADMIN, None))
    event = patient.adverse_events.get()

    response = api.patch(
        f"/api/v1/adverse-events/{event.pk}/", {"other_specify": "x", "version": event.version}
    )

    assert response.status_code == 400
    assert "other_specify" in str(response.json())


@pytest.mark.parametrize("role", [Role.REGISTRY_INVESTIGATOR, Role.REGISTRY_ADMIN])
def test_a_registry_wide_role_reads_no_free_text_in_the_admin(client, planted, role):
    patient, markers, _ = planted
    client.force_login(make_user("wide", role, None, is_staff=True))

    page = client.get(f"/admin/registry/patient/{patient.pk}/change/")
    scan = patient.imaging_assessments.get()
    scan_page = client.get(f"/admin/registry/imagingassessment/{scan.pk}/change/")
    history = client.get(f"/admin/registry/patient/{patient.pk}/history/")

    assert page.status_code == 200
    for response in (page, scan_page, history):
        assert _found(response.content.decode(), markers) == []


def test_the_own_site_reads_its_free_text_in_the_admin(client, planted):
    patient, markers, manager = planted
    client.force_login(manager)

    page = client.get(f"/admin/registry/patient/{patient.pk}/change/").content.decode()

    shown = set(_found(page, markers))
    assert {"Patient.site_patient_ref", "AdverseEvent.other_specify", "TaceSession.notes"} <= shown
