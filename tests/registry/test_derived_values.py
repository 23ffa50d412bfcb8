import datetime as dt

import pytest

from registry import services
from registry.models import LabPanel, Patient, RadiotherapyCourse, SystemicTherapy, TumourAssessment

from .factories import make_patient

pytestmark = pytest.mark.django_db


def add_lab(patient, day=dt.date(2023, 2, 20), **values):
    fields = {
        "albumin_g_l": 40,
        "total_bilirubin_umol_l": 17,
        "inr": 1.1,
        "ascites": "none",
        "encephalopathy": "none",
    }
    fields.update(values)
    return services.crf_record_save(record=LabPanel(patient=patient, sample_date=day, **fields))


def add_tumour(patient, **values):
    fields = {
        "imaging_date": dt.date(2023, 2, 15),
        "tumour_number": 3,
        "max_diameter_cm": 5,
        "macrovascular_invasion": "none",
        "extrahepatic_spread": False,
    }
    fields.update(values)
    return services.crf_record_save(record=TumourAssessment(patient=patient, **fields))


def test_albi_and_child_pugh_are_stored_on_the_panel_and_the_patient():
    """CRF.md §2 example: bilirubin 17 µmol/L, albumin 40 g/L → ALBI −2.588, grade 2 (2a)."""
    patient = make_patient()

    panel = add_lab(patient)
    patient.refresh_from_db()

    assert panel.albi_score == pytest.approx(-2.588, abs=0.001)
    assert (panel.albi_grade, panel.malbi_grade) == ("2", "2a")
    assert (panel.child_pugh_score, panel.child_pugh_class) == (5, "A")
    assert (patient.albi_grade, patient.child_pugh_class) == ("2", "A")


def test_a_missing_input_leaves_the_value_empty_and_names_the_input():
    patient = make_patient()

    panel = add_lab(patient, inr=None)

    assert panel.child_pugh_score is None
    assert panel.child_pugh_class == ""
    assert "inr" in panel.missing_inputs["child_pugh"]


def test_the_baseline_panel_is_the_one_closest_before_the_index_date():
    patient = make_patient(index_date=dt.date(2023, 3, 1))
    add_lab(patient, day=dt.date(2023, 1, 1), albumin_g_l=30)
    closest = add_lab(patient, day=dt.date(2023, 2, 27), albumin_g_l=45)
    add_lab(patient, day=dt.date(2023, 4, 1), albumin_g_l=20)

    patient.refresh_from_db()

    assert patient.baseline_lab_id == closest.pk


def test_bclc_is_recomputed_when_an_input_changes():
    patient = make_patient(ecog_ps=0)
    add_lab(patient)
    tumour = add_tumour(patient, tumour_number=3, max_diameter_cm=5)
    patient.refresh_from_db()
    assert patient.bclc_stage == "B"

    tumour.macrovascular_invasion = "vp3"
    services.crf_record_save(record=tumour, reason="re-read")
    patient.refresh_from_db()

    assert patient.bclc_stage == "C"


def test_a_bclc_override_is_used_and_the_derived_stage_kept():
    patient = make_patient()
    add_lab(patient)
    add_tumour(patient)

    services.patient_update(
        patient=patient, bclc_stage_override="C", bclc_override_reason="infiltrative disease"
    )
    patient.refresh_from_db()

    assert (patient.bclc_stage_derived, patient.bclc_stage) == ("B", "C")


def test_up_to_seven_is_derived_from_the_tumour_burden():
    patient = make_patient()
    add_tumour(patient, tumour_number=2, max_diameter_cm=5)

    patient.refresh_from_db()

    assert patient.up_to_seven_within is True


def test_radiotherapy_dose_per_fraction_and_bed10_are_derived():
    """CRF.md §4: 50 Gy / 20 fx → 2.5 Gy per fraction, BED10 62.5 Gy."""
    patient = make_patient()

    course = services.crf_record_save(
        record=RadiotherapyCourse(
            patient=patient,
            start_date=dt.date(2023, 3, 5),
            technique="imrt",
            total_dose_gy=50,
            fractions=20,
        )
    )

    assert course.dose_per_fraction_gy == pytest.approx(2.5)
    assert course.bed10_gy == pytest.approx(62.5)


def test_the_drug_class_is_derived_from_the_agent():
    patient = make_patient()

    regimen = services.crf_record_save(
        record=SystemicTherapy(patient=patient, start_date=dt.date(2023, 3, 1), agent="sintilimab")
    )

    assert regimen.drug_class == "pd1"


def test_a_lenvatinib_dose_off_the_weight_rule_raises_a_warning():
    patient = make_patient(body_weight_kg=55)

    services.crf_record_save(
        record=SystemicTherapy(
            patient=patient,
            start_date=dt.date(2023, 3, 1),
            agent="lenvatinib",
            dose=12,
            dose_unit="mg",
        )
    )

    flag = patient.quality_flags.get(code="lenvatinib_dose")
    assert flag.status == "open"


def test_the_right_lenvatinib_dose_raises_nothing():
    patient = make_patient(body_weight_kg=55)

    services.crf_record_save(
        record=SystemicTherapy(
            patient=patient,
            start_date=dt.date(2023, 3, 1),
            agent="lenvatinib",
            dose=8,
            dose_unit="mg",
        )
    )

    assert not patient.quality_flags.filter(code="lenvatinib_dose").exists()


def test_eligibility_flags_are_derived():
    patient = make_patient(ecog_ps=2, histology_subtype="sarcomatoid")

    patient = Patient.objects.get(pk=patient.pk)

    assert patient.eligibility_flags == ["ecog_ge_2", "non_conventional_histology"]


def test_a_batch_refresh_writes_each_patient_its_own_values(monkeypatch):
    """Many patients' derived values are written in one statement on PostgreSQL (COPY + join).

    Bilirubin 17 µmol/L: ALBI = 0.66·log10(17) − 0.085·albumin (Johnson 2015) is −2.59, −1.74
    and −0.89 for albumin 40, 30, 20 g/L (grades 2, 2, 3; grade 3 above −1.39); Child-Pugh
    albumin points 1, 2, 3 (> 35, 28–35, < 28 g/L) on top of 4 → scores 5, 6, 7.
    """
    monkeypatch.setattr(services, "JOINED_UPDATE_ROWS", 2)  # the batch path for 3 patients
    patients = [make_patient() for _ in range(3)]
    with services.patient_refresh_deferred():
        for patient, albumin in zip(patients, (40, 30, 20), strict=True):
            add_lab(patient, albumin_g_l=albumin)
            add_tumour(patient, tumour_number=1, max_diameter_cm=albumin / 10)

    stored = Patient.objects.filter(pk__in=[p.pk for p in patients]).order_by("pk")

    assert [(p.albi_grade, p.up_to_seven_within) for p in stored] == [
        ("2", True),
        ("2", True),
        ("3", True),
    ]
    assert [p.child_pugh_score for p in stored] == [5, 6, 7]
