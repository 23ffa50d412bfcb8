"""RECIST 1.1 target-lesion limits are hard, field-level rules on every entry path.

Source: Eisenhauer EA et al. New response evaluation criteria in solid tumours: RECIST 1.1.
Eur J Cancer 2009;45:228-47, §3.3 ("a maximum of five lesions total (and a maximum of two
lesions per organ)"); mRECIST (Lencioni & Llovet 2010) up to 2 intrahepatic. CRF.md §5:
"Target limits are hard rules". The rule lives in ``LesionMeasurement.clean()``, so the web
form, the API and the import (each ``full_clean()``) give the same error on ``organ``.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from registry import services
from registry.imports.importer import import_sheets
from registry.imports.parsing import read_upload
from registry.imports.synthetic import as_csv_zip, synthetic_rows
from registry.models import ImagingAssessment, LesionMeasurement

from .factories import make_data_manager, make_patient, make_site

pytestmark = pytest.mark.django_db

DAY = dt.date(2023, 2, 20)


def recist_baseline(patient) -> ImagingAssessment:
    return services.crf_record_save(
        record=ImagingAssessment(
            patient=patient,
            assessment_date=DAY,
            modality="ct",
            is_baseline=True,
            criteria="recist11",
        )
    )


def lesion(scan, number, organ, diameter=20):
    return LesionMeasurement(
        assessment=scan, lesion_number=number, organ=organ, diameter_mm=diameter
    )


def test_a_third_lung_target_is_refused_on_organ():
    """RECIST 1.1 §3.3: at most two target lesions per organ (today a third lung target was
    accepted)."""
    scan = recist_baseline(make_patient())
    services.crf_record_save(record=lesion(scan, 1, "lung"))
    services.crf_record_save(record=lesion(scan, 2, "lung"))

    with pytest.raises(ValidationError) as error:
        services.crf_record_save(record=lesion(scan, 3, "lung"))

    message = error.value.message_dict["organ"][0]
    assert "at most 2 target lesions per organ" in message
    assert "lesions 1, 2" in message
    assert LesionMeasurement.objects.filter(assessment=scan).count() == 2


def test_five_targets_in_three_organs_are_accepted():
    """RECIST 1.1 §3.3: five in all, two per organ: 2 liver + 2 lung + 1 lymph node is fine."""
    scan = recist_baseline(make_patient())
    for number, organ in enumerate(["liver", "liver", "lung", "lung", "lymph_node"], start=1):
        services.crf_record_save(record=lesion(scan, number, organ))
    assert LesionMeasurement.objects.filter(assessment=scan).count() == 5


def test_a_sixth_target_is_refused():
    """RECIST 1.1 §3.3: at most five target lesions in total."""
    scan = recist_baseline(make_patient())
    with pytest.raises(ValidationError) as error:
        services.crf_record_save(record=lesion(scan, 6, "bone"))
    assert "at most 5" in error.value.message_dict["lesion_number"][0]


def test_changing_a_targets_own_organ_does_not_count_itself():
    """Re-saving lesion 2 (lung) as lung again is not a third lung lesion."""
    scan = recist_baseline(make_patient())
    services.crf_record_save(record=lesion(scan, 1, "lung"))
    second = services.crf_record_save(record=lesion(scan, 2, "lung"))
    second.diameter_mm = 25
    services.crf_record_save(record=second)


def test_the_api_answers_400_on_organ_for_a_third_lung_target():
    site = make_site()
    manager = make_data_manager(site)
    scan = recist_baseline(make_patient(site))
    services.crf_record_save(record=lesion(scan, 1, "lung"))
    services.crf_record_save(record=lesion(scan, 2, "lung"))
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=manager)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = client.post(
        "/api/v1/lesion-measurements/",
        {"assessment": scan.pk, "lesion_number": 3, "organ": "lung", "diameter_mm": "20"},
        format="json",
    )

    assert response.status_code == 400
    assert "at most 2 target lesions per organ" in str(response.data["organ"])
    assert LesionMeasurement.objects.filter(assessment=scan).count() == 2


def test_the_import_refuses_a_third_lung_target_of_the_same_file_on_organ():
    """The import validates a scan's lesions before writing any of them: the third lung lesion
    of the same file is counted with the two rows before it."""
    site = make_site()
    manager = make_data_manager(site)
    rows = synthetic_rows(1)
    for row in rows["imaging"]:
        row["criteria"] = "recist11"
    baseline = [r for r in rows["lesions"] if r["is_baseline"] == "yes"]
    ref, day = baseline[0]["site_patient_ref"], baseline[0]["assessment_date"]
    for row in baseline:
        row["organ"] = "lung"
    rows["lesions"].append(
        {
            "site_patient_ref": ref,
            "assessment_date": day,
            "is_baseline": "yes",
            "lesion_number": 3,
            "organ": "lung",
            "diameter_mm": 15,
        }
    )
    rows["imaging"] = [r for r in rows["imaging"] if r["is_baseline"] == "yes"]
    rows["lesions"] = [r for r in rows["lesions"] if r["is_baseline"] == "yes"]

    result = import_sheets(
        site=site,
        user=manager,
        sheets=read_upload(as_csv_zip(rows), "file.zip"),
        dry_run=False,
    )

    assert not result.committed
    assert [(e["sheet"], e["column"]) for e in result.errors] == [("lesions.csv", "organ")]
    assert "at most 2 target lesions per organ" in result.errors[0]["reason"]
