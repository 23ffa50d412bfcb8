"""registry.query_services: who may open, answer and close a data query, and what each step records."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from registry import query_services
from registry.models import DataQuery
from tests.registry.factories import make_user

pytestmark = pytest.mark.django_db


def test_it_refuses_a_query_from_a_monitor_of_another_site(patient, shanghai):
    from registry.choices import Role

    stranger = make_user("monitor-sh", Role.MONITOR, shanghai, is_staff=True)

    with pytest.raises(PermissionDenied):
        query_services.query_open(patient=patient, user=stranger, text="?")


def test_it_refuses_a_query_without_a_message(patient, monitor):
    with pytest.raises(ValidationError):
        query_services.query_open(patient=patient, user=monitor, text="  ")


def test_a_monitor_cannot_answer_a_query(patient, monitor):
    query = query_services.query_open(patient=patient, user=monitor, text="ECOG?")

    with pytest.raises(PermissionDenied):
        query_services.query_answer(query=query, user=monitor, text="self-answer")


def test_a_follow_up_question_opens_an_answered_query_again(patient, monitor, manager):
    query = query_services.query_open(patient=patient, user=monitor, text="ECOG?")
    query_services.query_answer(query=query, user=manager, text="ECOG 0")

    query_services.query_follow_up(query=query, user=monitor, text="Source document date?")

    assert query.status == DataQuery.Status.OPEN
    assert query.messages.count() == 3


def test_a_closed_query_takes_no_answer(patient, monitor, manager):
    query = query_services.query_open(patient=patient, user=monitor, text="ECOG?")
    query_services.query_close(query=query, user=monitor)

    with pytest.raises(ValidationError):
        query_services.query_answer(query=query, user=manager, text="late")


def test_closing_records_who_and_when(patient, monitor):
    query = query_services.query_open(patient=patient, user=monitor, text="ECOG?")

    query_services.query_close(query=query, user=monitor, text="Resolved by phone.")

    query.refresh_from_db()
    assert query.closed_by == monitor
    assert query.closed_at is not None
    assert query.messages.last().text == "Resolved by phone."


def test_it_refuses_a_query_on_another_patients_row(patient, other_patient, monitor):
    from registry.models import LabPanel

    lab = LabPanel.objects.create(patient=other_patient, sample_date="2023-02-01")

    with pytest.raises(ValidationError):
        query_services.query_open(
            patient=patient, user=monitor, text="?", record_type="labpanel", record_id=lab.pk
        )


def test_it_refuses_a_query_on_a_field_the_record_does_not_have(patient, monitor):
    with pytest.raises(ValidationError):
        query_services.query_open(patient=patient, user=monitor, text="?", field="albumin")
