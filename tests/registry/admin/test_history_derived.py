"""Derived values in the audit trail, through the patient page: a changed bilirubin value leaves,
in the patient's history, the old and new ALBI grade and Child-Pugh class that followed from
it, attributed to the same user, time and reason (issue 12)."""

import datetime as dt

import pytest

from registry import services
from registry.models import LabPanel

from .conftest import change_url
from .helpers import page_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def panel(patient, manager):
    """Albumin 40 g/L, bilirubin 8 µmol/L: ALBI = 0.66 × log10(8) − 0.085 × 40 = −2.804, grade 1
    (≤ −2.60, Johnson 2015); Child-Pugh 1+1+1+1+1 = 5, class A (Pugh 1973; CRF.md §2)."""
    return services.crf_record_save(
        record=LabPanel(
            patient=patient,
            sample_date=dt.date(2023, 2, 20),
            albumin_g_l=40,
            total_bilirubin_umol_l=8,
            inr=1.1,
            ascites="none",
            encephalopathy="none",
        ),
        user=manager,
    )


def change_bilirubin(client, patient, value: str, reason: str):
    data = page_data(client.get(change_url(patient)))
    data.update(
        {
            "lab_panels-0-total_bilirubin_umol_l": value,
            "lab_panels-0-total_bilirubin_unit": "umol/L",
            "change_reason": reason,
            "_continue": "1",
        }
    )
    return client.post(change_url(patient), data, follow=True)


def test_the_patient_history_holds_the_old_and_new_albi_grade_and_child_pugh_class(
    client_for, manager, patient, panel
):
    """Bilirubin 8 → 60 µmol/L: ALBI = 0.66 × log10(60) − 3.4 = −2.226, grade 2 (> −2.60 and
    ≤ −1.39); bilirubin > 51.3 µmol/L is 3 points, Child-Pugh 7, class B."""
    patient.refresh_from_db()
    assert (patient.albi_grade, patient.child_pugh_class) == ("1", "A")

    change_bilirubin(client_for(manager), patient, "60", "lab re-sent the value")

    rows = list(patient.history.order_by("history_date", "history_id"))
    latest, before = rows[-1], rows[-2]
    assert (before.albi_grade, before.child_pugh_class, before.child_pugh_score) == ("1", "A", 5)
    assert (latest.albi_grade, latest.child_pugh_class, latest.child_pugh_score) == ("2", "B", 7)
    lab_change = LabPanel.history.filter(id=panel.pk).latest()
    assert latest.history_user == lab_change.history_user == manager
    assert latest.history_change_reason == lab_change.history_change_reason
    assert lab_change.history_change_reason == "lab re-sent the value"
    assert latest.history_date == lab_change.history_date


def test_the_history_screen_shows_the_derived_change_above_the_change_it_followed(
    client_for, manager, patient, panel
):
    client = client_for(manager)
    change_bilirubin(client, patient, "60", "lab re-sent the value")

    history = client.get(change_url(patient)).context["history"]

    derived, entered = history[0], history[1]
    assert derived.record == f"patient {patient.study_id}"
    assert derived.action == "derived values recomputed"
    assert (derived.who, derived.reason, derived.when) == (
        entered.who,
        entered.reason,
        entered.when,
    )
    shown = {c.field: (c.old, c.new, c.derived) for c in derived.changes}
    assert shown["ALBI grade"] == ("1", "2", True)
    assert shown["Child-Pugh class"][:2] == ("A", "B")
    assert shown["Child-Pugh score"][:2] == ("5", "7")
    assert entered.record == "lab panel 2023-02-20"
    entered_shown = {c.field: (c.old, c.new, c.derived) for c in entered.changes}
    assert entered_shown["total bilirubin (µmol/L)"] == ("8.0", "60.0", False)
    assert entered_shown["ALBI grade"] == ("1", "2", True)


def test_the_history_screen_marks_derived_changes(client_for, manager, patient, panel):
    client = client_for(manager)
    change_bilirubin(client, patient, "60", "lab re-sent the value")

    page = client.get(change_url(patient)).content.decode()

    assert "ALBI grade (derived): 1 → 2" in page


def test_a_save_that_changes_no_derived_value_adds_no_derived_entry(
    client_for, manager, patient, panel
):
    """Bilirubin 8 → 9 µmol/L changes the ALBI score (−2.804 → −2.770, still grade 1): one
    derived entry. Saving 9.0 again derives nothing new: none."""
    client = client_for(manager)
    change_bilirubin(client, patient, "9", "typo")
    change_bilirubin(client, patient, "9.0", "saved again")

    history = client.get(change_url(patient)).context["history"]

    derived = [(e.reason, e.changes) for e in history if e.action == "derived values recomputed"]
    assert [reason for reason, _ in derived][:2] == ["typo", ""]  # "" : the lab panel added
    assert [(c.field, c.old, c.new) for c in derived[0][1]] == [("ALBI score", "-2.804", "-2.77")]


def test_derived_json_values_are_shown_in_words():
    from registry.admin.history import _display, _Lookups
    from registry.models import Patient

    lookups = _Lookups(terms={}, lab_dates={7: dt.date(2023, 2, 20)})
    field = Patient._meta.get_field

    refractoriness = {
        "jsh_lcsgj_2014": {
            "status": "refractory",
            "criterion": "a",
            "date": "2023-06-01",
            "version": "tace-refractoriness:2",
            "reason": "two consecutive insufficient responses",
        }
    }
    assert _display(field("tace_refractoriness"), refractoriness, lookups) == (
        "jsh_lcsgj_2014: refractory a 2023-06-01"
    )
    assert _display(field("missing_inputs"), {"albi": ["inr"]}, lookups) == "albi: inr"
    assert _display(field("missing_inputs"), {}, lookups) == "—"
    assert _display(field("baseline_lab"), 7, lookups) == "panel of 2023-02-20"
    assert _display(field("albi_score"), -2.8040000000000003, lookups) == "-2.804"
