"""Derived values in the audit trail, through the API: an edit's derived values have an audit
row attributed to the API user, the edit's time and its reason (issue 12)."""

import pytest

from registry.models import LabPanel

pytestmark = pytest.mark.django_db


def test_an_api_edit_of_bilirubin_leaves_the_new_albi_grade_and_child_pugh_class_in_history(
    api, manager, patient
):
    """The fixture's panel: albumin 40 g/L, bilirubin 17 µmol/L, ALBI −2.588 (grade 2, CRF.md
    §2's example), Child-Pugh 5 (A). Bilirubin 60 µmol/L: ALBI −2.226, still grade 2 but mALBI
    2b (> −2.27, Hiraoka 2017); bilirubin > 51.3 µmol/L is 3 points: Child-Pugh 7, class B."""
    lab = LabPanel.objects.get(patient=patient)
    before = patient.history.latest()
    assert (before.malbi_grade, before.child_pugh_class) == ("2a", "A")

    response = api.patch(
        f"/api/v1/lab-panels/{lab.pk}/",
        {"total_bilirubin_umol_l": "60", "version": lab.version, "reason": "source checked"},
        format="json",
    )

    assert response.status_code == 200, response.data
    latest = patient.history.latest()
    assert (latest.malbi_grade, latest.child_pugh_score, latest.child_pugh_class) == (
        "2b",
        7,
        "B",
    )
    lab_row = lab.history.latest()
    assert (latest.history_user, latest.history_change_reason, latest.history_date) == (
        manager,
        "source checked",
        lab_row.history_date,
    )
    assert lab_row.history_change_reason == "source checked"
