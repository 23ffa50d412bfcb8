import pytest

from registry.models import ImagingAssessment, TaceSession

pytestmark = pytest.mark.django_db


def test_a_percentage_out_of_range_is_a_400_naming_the_field(api, patient):
    """Found by the schema fuzz: a hard range in % used to crash Django's message formatting."""
    response = api.post(
        "/api/v1/imaging-assessments/",
        {
            "patient": patient.study_id,
            "assessment_date": "2023-02-20",
            "is_baseline": True,
            "modality": "ct",
            "treated_viable_fraction_pct": "150",
        },
        format="json",
    )

    assert response.status_code == 400
    assert "0–100 %" in str(response.data["treated_viable_fraction_pct"])
    assert not ImagingAssessment.objects.exists()


def test_it_deletes_a_record_through_the_service(api, patient):
    session = TaceSession.objects.get(patient=patient)

    response = api.delete(f"/api/v1/tace-sessions/{session.pk}/?reason=entered+twice")

    assert response.status_code == 204
    assert session.history.latest().history_change_reason == "entered twice"
