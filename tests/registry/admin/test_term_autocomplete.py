"""The adverse-event term is picked by searching the CTCAE list, as every registry user may."""

import pytest

from registry.models import CtcaeTerm
from tests.registry.factories import make_user

pytestmark = pytest.mark.django_db

URL = "/admin/autocomplete/"
SEARCH = {"app_label": "registry", "model_name": "adverseevent", "field_name": "term"}


def test_a_data_manager_finds_a_term_by_its_name(client_for, manager):
    response = client_for(manager).get(URL, {**SEARCH, "term": "feve"})

    assert response.status_code == 200
    fever = CtcaeTerm.objects.get(code="fever")
    assert {"id": str(fever.pk), "text": "Fever"} in response.json()["results"]


def test_a_staff_user_without_a_registry_role_cannot_search(client_for, db):
    outsider = make_user("outsider", is_staff=True)

    response = client_for(outsider).get(URL, {**SEARCH, "term": "feve"})

    assert response.status_code == 403
