"""The data-management workflow on the demo patients, done by the demo users through the services.

So that a newcomer sees every step of CRF.md §10 and the query cycle on real records rather than
an empty screen: records marked complete by the data manager, verified and some locked by the
monitor; data queries opened by the monitor, some answered by the data manager and one closed;
and an import job (a small workbook of new patients, committed). Everything goes through the
same services as the web pages, with the same permission checks.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError

from registry import query_services, services
from registry.imports.services import import_upload
from registry.imports.synthetic import as_workbook, synthetic_rows
from registry.models import ImportJob, LabPanel, Patient, Site

IMPORT_PATIENTS = 6


@dataclass(frozen=True)
class WorkflowSummary:
    complete: int
    verified: int
    locked: int
    queries_open: int
    queries_answered: int
    queries_closed: int
    import_status: str


def demo_workflow(*, site: Site, data_manager, monitor) -> WorkflowSummary:
    """Walk some of ``site``'s patients through the record states and the query cycle, and
    import a small workbook into the site. Patients whose record cannot be completed (a
    critical item missing, an open inconsistency) are skipped: that is the rule, not an error.
    """
    patients = list(Patient.objects.filter(site=site).order_by("study_id"))
    complete = []
    for patient in patients[: max(1, len(patients) * 2 // 5)]:
        try:
            services.patient_mark_complete(
                patient=patient, user=data_manager, reason="Demo: CRF entered"
            )
        except ValidationError:
            continue
        complete.append(patient)
    # The first records are verified by the monitor; half of the verified ones are locked.
    verified = complete[: len(complete) * 2 // 3]
    for patient in verified:
        services.patient_verify(patient=patient, user=monitor, reason="Demo: source data checked")
    locked = verified[: len(verified) // 2]
    for patient in locked:
        services.patient_lock(patient=patient, user=monitor, reason="Demo: ready for analysis")
    counts = _queries(patients[len(complete) :], data_manager=data_manager, monitor=monitor)
    job = import_upload(
        site=site,
        user=data_manager,
        filename="demo-import.xlsx",
        data=as_workbook(
            synthetic_rows(IMPORT_PATIENTS, ref_prefix=f"{site.code}-IMPORT", seed=11)
        ),
        dry_run=False,
    )
    return WorkflowSummary(
        complete=len(complete) - len(verified),
        verified=len(verified) - len(locked),
        locked=len(locked),
        queries_open=counts[0],
        queries_answered=counts[1],
        queries_closed=counts[2],
        import_status=ImportJob.Status(job.status).label,
    )


QUESTIONS = [
    ("labpanel", "albumin_g_l", "Albumin looks low for Child-Pugh A: please check the lab report."),
    ("patient", "ecog_ps", "ECOG at index is not in the clinic letter: please confirm."),
    ("labpanel", "afp_ng_ml", "AFP differs from the referral letter: which value is right?"),
    ("patient", "birth_year", "Birth year differs from the ID document: please confirm."),
    ("labpanel", "inr", "INR sample taken on anticoagulation? Please add a note."),
]
ANSWERS = [
    "Checked against the laboratory report: the value is correct.",
    "Confirmed with the treating physician; value unchanged.",
]


def _queries(patients: list[Patient], *, data_manager, monitor) -> tuple[int, int, int]:
    """Open a query on each of a few draft records; answer some; close one answered query."""
    opened = []
    for patient, (record_type, field, text) in zip(patients, QUESTIONS, strict=False):
        record_id = None
        if record_type == "labpanel":
            lab = LabPanel.objects.filter(patient=patient).order_by("sample_date").first()
            if lab is None:
                continue
            record_id = lab.pk
        opened.append(
            query_services.query_open(
                patient=patient,
                user=monitor,
                text=text,
                record_type=record_type,
                record_id=record_id,
                field=field,
            )
        )
    answered = opened[: len(opened) // 2 + 1]
    for query, text in zip(answered, ANSWERS * len(answered), strict=False):
        query_services.query_answer(query=query, user=data_manager, text=text)
    closed = answered[:1]
    for query in closed:
        query_services.query_close(query=query, user=monitor, text="Thank you, resolved.")
    return len(opened) - len(answered), len(answered) - len(closed), len(closed)
