"""The baseline panel of each score (CRF.md §2): the latest panel on or before the index date
that holds that score's inputs; a baseline lacking them makes the record incomplete, inputs named.

Child-Pugh points from Pugh et al., Br J Surg 1973 as CRF.md §2 tabulates them; ALBI from
Johnson et al., J Clin Oncol 2015 (bilirubin 17 µmol/L, albumin 40 g/L → −2.588, grade 2).
"""

from __future__ import annotations

import datetime as dt

import pytest

from registry.choices import FlagStatus
from registry.models import DataQualityFlag

from .factories import make_patient
from .test_derived_values import add_lab, add_tumour

pytestmark = pytest.mark.django_db

INDEX = dt.date(2023, 3, 1)


def test_a_later_partial_panel_leaves_albi_child_pugh_and_bclc_as_they_were():
    patient = make_patient(index_date=INDEX, ecog_ps=0)
    add_lab(patient, day=dt.date(2023, 2, 20))
    add_tumour(patient, tumour_number=1, max_diameter_cm=1.5)
    patient.refresh_from_db()
    assert (patient.albi_grade, patient.child_pugh_class, patient.bclc_stage) == ("2", "A", "0")

    afp_only = add_lab(
        patient,
        day=dt.date(2023, 2, 28),
        albumin_g_l=None,
        total_bilirubin_umol_l=None,
        inr=None,
        ascites="",
        encephalopathy="",
        afp_ng_ml=250,
    )
    patient.refresh_from_db()

    assert patient.baseline_lab_id == afp_only.pk  # the latest panel, for its AFP
    assert patient.albi_score == pytest.approx(-2.588, abs=0.001)
    assert (patient.albi_grade, patient.child_pugh_score, patient.child_pugh_class) == (
        "2",
        5,
        "A",
    )
    assert patient.bclc_stage == "0"
    assert "albi" not in patient.missing_inputs
    assert "child_pugh" not in patient.missing_inputs


def test_each_score_takes_its_own_latest_complete_panel():
    patient = make_patient(index_date=INDEX)
    add_lab(patient, day=dt.date(2023, 1, 10), albumin_g_l=30)  # everything, older
    # Newer, with ALBI's inputs but no ascites: ALBI from here, Child-Pugh from the older one.
    add_lab(patient, day=dt.date(2023, 2, 25), albumin_g_l=45, ascites="")
    patient.refresh_from_db()

    # ALBI 0.66·log10(17) − 0.085·45 = −3.013 → grade 1.
    assert patient.albi_score == pytest.approx(-3.013, abs=0.001)
    assert patient.albi_grade == "1"
    # Older panel: albumin 30 g/L → 2 points, the rest 1 each → 6, class A.
    assert (patient.child_pugh_score, patient.child_pugh_class) == (6, "A")


def test_a_panel_after_the_index_date_is_never_the_baseline():
    patient = make_patient(index_date=INDEX)
    add_lab(patient, day=dt.date(2023, 2, 20), inr=None)
    add_lab(patient, day=dt.date(2023, 3, 5))
    patient.refresh_from_db()

    assert patient.child_pugh_class == ""
    assert patient.missing_inputs["child_pugh"] == ["inr"]


def test_a_baseline_without_a_scores_inputs_is_incomplete_and_flagged_with_them():
    patient = make_patient(index_date=INDEX)
    add_lab(patient, day=dt.date(2023, 2, 20), inr=None, ascites="")
    patient.refresh_from_db()

    from registry.services import critical_missing

    assert "baseline lab values (Child-Pugh needs inr, ascites)" in critical_missing(patient)
    complete = make_patient(index_date=INDEX)
    add_lab(complete, day=dt.date(2023, 2, 20))
    complete.refresh_from_db()
    assert patient.completeness_pct < complete.completeness_pct
    flag = DataQualityFlag.objects.get(
        patient=patient, code="baseline_inputs_missing", status=FlagStatus.OPEN
    )
    assert flag.field == "child_pugh"
    assert "Child-Pugh at baseline cannot be derived" in flag.message
    assert "inr, ascites" in flag.message

    add_lab(patient, day=dt.date(2023, 2, 22))  # a complete panel arrives
    flag.refresh_from_db()
    assert flag.status == FlagStatus.RESOLVED
