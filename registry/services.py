"""Writes to the case report form. Every entry path (admin, API, import) goes through here.

Each service runs ``full_clean()`` before saving, records who made the change and why in the
audit trail, and recomputes the patient's derived values.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import connections, router, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from registry import choices as c
from registry.access import Action, can
from registry.copying import copy_rows
from registry.derivations.bclc import BCLC_VERSION, derive_bclc
from registry.derivations.refractoriness import (
    MarkerValue,
    PostTaceAssessment,
    evaluate_refractoriness,
)
from registry.derivations.refractoriness import (
    TaceSession as TaceSessionInput,
)
from registry.derivations.response import (
    RESPONSE_VERSION,
    AssessmentInput,
    best_overall_response,
    derive_responses,
    disease_control,
    objective_response,
)
from registry.derivations.tumour import up_to_seven
from registry.derived_rows import TREATMENT_RELATIONS, HeldRows, patients_with_rows
from registry.models import (
    CrfRecord,
    DataQualityFlag,
    FollowUp,
    ImagingAssessment,
    LabPanel,
    Patient,
    Site,
)
from registry.quality import age_at, patient_findings

CRITICAL_FIELDS = ("sex", "birth_year", "diagnosis_date", "index_date", "ecog_ps")


_deferred_refresh: ContextVar[set[int] | None] = ContextVar("deferred_refresh", default=None)


@contextmanager
def patient_refresh_deferred() -> Iterator[None]:
    """Save many rows of the same patients, then refresh each patient's derivations once.

    Inside the block every write is validated exactly as usual; only the recomputation of the
    patient-level derived values (which reads all of the patient's rows) waits until the end.
    All of it is one transaction: an error anywhere leaves nothing written.
    """
    if _deferred_refresh.get() is not None:  # nested: the outer block refreshes
        yield
        return
    pending: set[int] = set()
    token = _deferred_refresh.set(pending)
    try:
        with transaction.atomic():
            yield
            _deferred_refresh.set(None)
            patients_refresh_derived(pending)
    finally:
        _deferred_refresh.reset(token)


def _refresh(patient: Patient) -> None:
    pending = _deferred_refresh.get()
    if pending is None:
        patient_refresh_derived(patient)
    else:
        pending.add(patient.pk)


def _attribute(record, user, reason: str) -> None:
    if user is not None and user.is_authenticated:
        record._history_user = user
    if reason:
        record._change_reason = reason


def _require(user, action: Action, site) -> None:
    if user is not None and not can(user, action, site):
        raise PermissionDenied(
            f"You may not {action.value.replace('_', ' ')} records of this site."
        )


@transaction.atomic
def patient_enrol(*, site: Site, user=None, reason: str = "", **fields) -> Patient:
    """Register a new patient; the registry assigns the study id (site code + sequence)."""
    _require(user, Action.ADD, site)
    patient = Patient(site=site, **fields)
    patient.study_id = "pending"
    patient.full_clean(exclude=["study_id"])
    Site.objects.filter(pk=site.pk).update(last_sequence=F("last_sequence") + 1)
    sequence = (
        Site.objects.select_for_update().values_list("last_sequence", flat=True).get(pk=site.pk)
    )
    patient.study_id = f"{site.code}-{sequence:04d}"
    _attribute(patient, user, reason or "Enrolment")
    patient.save()
    _refresh(patient)
    return patient


@transaction.atomic
def patient_update(*, patient: Patient, user=None, reason: str = "", **fields) -> Patient:
    _require(user, Action.CHANGE, patient.site_id)
    for name, value in fields.items():
        setattr(patient, name, value)
    patient.full_clean(exclude=["study_id"])
    _attribute(patient, user, reason)
    patient.save()
    _refresh(patient)
    return patient


@transaction.atomic
def crf_record_save(*, record: CrfRecord, user=None, reason: str = "") -> CrfRecord:
    """Validate and save one CRF row (new or changed), then refresh the patient's derivations."""
    patient = record.owner_patient()
    _require(user, Action.CHANGE if record.pk else Action.ADD, patient.site_id)
    patient.assert_editable()
    record.full_clean()
    _attribute(record, user, reason)
    record.save()
    _refresh(patient)
    return record


@transaction.atomic
def crf_record_delete(*, record: CrfRecord, user=None, reason: str = "") -> None:
    patient = record.owner_patient()
    _require(user, Action.DELETE, patient.site_id)
    _attribute(record, user, reason)
    record.delete()
    _refresh(patient)


# --- derived values -------------------------------------------------------------------------


def baseline_lab(patient: Patient, labs: Iterable[LabPanel]) -> LabPanel | None:
    """The panel closest before (or on) the index date; without an index date, the first one."""
    labs = sorted(labs, key=lambda lab: lab.sample_date)
    if not labs:
        return None
    if patient.index_date is None:
        return labs[0]
    before = [lab for lab in labs if lab.sample_date <= patient.index_date]
    return before[-1] if before else None


REFRESH_CHUNK = 500


def patient_refresh_derived(patient: Patient) -> Patient:
    """Recompute every patient-level derived value and the data-quality flags of one patient.

    The patient's rows are read afresh from the database, so a stale in-memory instance never
    feeds a derivation; the recomputed values are copied onto ``patient``.
    """
    fresh = patients_refresh_derived([patient.pk])[patient.pk]
    for name in DERIVED:
        setattr(patient, name, getattr(fresh, name))
    return patient


def patients_refresh_derived(
    patient_ids: Iterable[int], held: HeldRows | None = None
) -> dict[int, Patient]:
    """Recompute the derived values of many patients with a fixed number of queries per chunk.

    ``held``: rows the caller already holds as saved instances (the bulk import), used instead
    of reading them back; see ``registry.derived_rows``. Stored with bulk updates: derived
    values are a function of audited inputs, so they neither bump the record version nor add
    audit rows of their own.
    """
    ids = sorted(set(patient_ids))
    refreshed: dict[int, Patient] = {}
    for start in range(0, len(ids), REFRESH_CHUNK):
        refreshed.update(_refresh_chunk(ids[start : start + REFRESH_CHUNK], held))
    return refreshed


def _one(patient: Patient, name: str):
    try:
        return getattr(patient, name)
    except ObjectDoesNotExist:
        return None


def _refresh_chunk(ids: list[int], held: HeldRows | None) -> dict[int, Patient]:
    patients = patients_with_rows(ids, held)
    changed_scans: list[ImagingAssessment] = []
    stale_flags: list[int] = []
    new_flags: list[DataQualityFlag] = []
    for patient in patients:
        changed_scans += _derive_patient(patient)
        stale, new = _flag_changes(patient, patient._findings)
        stale_flags += stale
        new_flags += new
    _write_fields(Patient, patients, DERIVED)
    _write_fields(ImagingAssessment, changed_scans, SCAN_DERIVED)
    if stale_flags:
        DataQualityFlag.objects.filter(pk__in=stale_flags).update(
            status=c.FlagStatus.RESOLVED, resolved_at=timezone.now()
        )
    DataQualityFlag.objects.bulk_create(new_flags, batch_size=REFRESH_CHUNK)
    return {patient.pk: patient for patient in patients}


def _write_fields(model, objects: list, names: tuple[str, ...]) -> None:
    """UPDATE the named fields of many rows: one plain UPDATE per row, or on PostgreSQL one
    UPDATE joined to the COPYed values (``_update_from_copy``).

    ``bulk_update`` builds a CASE expression per field and row, which costs more Python time
    than the rows' derivations; an executemany of one plain UPDATE does not (and, like
    ``bulk_update``, bypasses ``save()``: no version bump, no audit row).
    """
    if not objects:
        return
    connection = connections[router.db_for_write(model)]
    fields = [model._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    sql = (
        f"UPDATE {quote(model._meta.db_table)} SET "
        + ", ".join(f"{quote(field.column)} = %s" for field in fields)
        + f" WHERE {quote(model._meta.pk.column)} = %s"
    )
    rows = [
        [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in fields]
        + [obj.pk]
        for obj in objects
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(rows) >= JOINED_UPDATE_ROWS:
            _update_from_copy(cursor, model, fields, rows)
        else:
            cursor.executemany(sql, rows)


# From this many rows, the COPY + joined UPDATE costs less than one UPDATE per row; a single
# patient's refresh (the web and API path) keeps the plain statement.
JOINED_UPDATE_ROWS = 50


def _update_from_copy(cursor, model, fields, rows: list[list]) -> None:
    """The same UPDATE for many rows on PostgreSQL: the values COPYed into a scratch table and
    joined, one statement instead of one per row (each of which the server plans and runs)."""
    quote = cursor.db.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    scratch = "pg_temp." + quote(f"derived_{model._meta.db_table}")  # never a real table
    columns = [quote(field.column) for field in fields]
    listed = ", ".join([*columns, pk])
    cursor.execute(f"DROP TABLE IF EXISTS {scratch}")  # left behind by a failed autocommit call
    # Columns of the same types as the table's, without its constraints or rows.
    cursor.execute(f"CREATE TEMPORARY TABLE {scratch} AS SELECT {listed} FROM {table} WITH NO DATA")
    copy_rows(cursor.cursor, f"COPY {scratch} ({listed}) FROM STDIN", rows)
    assignments = ", ".join(f"{column} = s.{column}" for column in columns)
    cursor.execute(f"UPDATE {table} SET {assignments} FROM {scratch} s WHERE {table}.{pk} = s.{pk}")
    cursor.execute(f"DROP TABLE {scratch}")


def _derive_patient(patient: Patient) -> list[ImagingAssessment]:
    """Set the derived fields of a patient whose rows are prefetched; return the changed scans."""
    labs = list(patient.rows_lab_panels)
    tumour = _one(patient, "tumour_assessment")
    death = _one(patient, "death")
    missing: dict[str, list[str]] = {}

    baseline = baseline_lab(patient, labs)
    patient.baseline_lab = baseline
    patient.age_at_index = age_at(patient.birth_year, patient.index_date)
    if patient.age_at_index is None:
        missing["age_at_index"] = [
            n for n in ("birth_year", "index_date") if not getattr(patient, n)
        ]
    if baseline is None:
        missing["albi"] = missing["child_pugh"] = ["baseline lab panel"]
        patient.albi_score, patient.albi_grade, patient.malbi_grade = None, "", ""
        patient.child_pugh_score, patient.child_pugh_class = None, ""
    else:
        patient.albi_score, patient.albi_grade = baseline.albi_score, baseline.albi_grade
        patient.malbi_grade = baseline.malbi_grade
        patient.child_pugh_score, patient.child_pugh_class = (
            baseline.child_pugh_score,
            baseline.child_pugh_class,
        )
        missing.update(baseline.missing_inputs)

    bclc = derive_bclc(
        ecog_ps=patient.ecog_ps,
        child_pugh_class=patient.child_pugh_class or None,
        tumour_number=tumour.tumour_number if tumour else None,
        max_diameter_cm=float(tumour.max_diameter_cm) if tumour else None,
        macrovascular_invasion=tumour.has_macrovascular_invasion if tumour else None,
        extrahepatic_spread=tumour.extrahepatic_spread if tumour else None,
    )
    patient.bclc_stage_derived = bclc.stage or ""
    patient.bclc_stage = patient.bclc_stage_override or patient.bclc_stage_derived
    if bclc.missing:
        missing["bclc"] = list(bclc.missing)
    patient.up_to_seven_within = (
        up_to_seven(
            max_diameter_cm=float(tumour.max_diameter_cm), tumour_number=tumour.tumour_number
        )
        if tumour
        else None
    )

    imaging, changed_scans = _refresh_responses(patient)
    studied = index_series(patient, response_series(imaging))
    follow_ups = studied[1] if studied else []
    responses = [a.response or None for a in follow_ups]
    patient.best_overall_response = best_overall_response(responses) or ""
    patient.objective_response = objective_response(patient.best_overall_response or None)
    patient.disease_control = disease_control(patient.best_overall_response or None)
    patient.first_progression_date = next(
        (a.assessment_date for a in follow_ups if a.response == c.Response.PD), None
    )
    if not responses:
        missing["best_overall_response"] = ["response assessment"]
    patient.tace_refractoriness = _refractoriness(patient, labs, imaging)
    patient.derivation_versions = {
        **(baseline.derivation_versions if baseline else {}),
        "bclc": BCLC_VERSION,
        "response": RESPONSE_VERSION,
    }
    patient.missing_inputs = missing
    patient.completeness_pct = _completeness(patient, labs, tumour, death)

    systemic = list(patient.rows_systemic_therapies)
    adverse_events = list(patient.rows_adverse_events)
    findings = patient_findings(
        patient,
        labs=labs,
        tumour=tumour,
        systemic=systemic,
        imaging=imaging,
        adverse_events=adverse_events,
        death=death,
    )
    patient.eligibility_flags = sorted(
        {f.code for f in findings if f.severity == c.FlagSeverity.ELIGIBILITY}
    )
    patient._findings = findings
    return changed_scans


DERIVED = (
    "age_at_index",
    "baseline_lab",
    "albi_score",
    "albi_grade",
    "malbi_grade",
    "child_pugh_score",
    "child_pugh_class",
    "bclc_stage_derived",
    "bclc_stage",
    "up_to_seven_within",
    "best_overall_response",
    "objective_response",
    "disease_control",
    "first_progression_date",
    "tace_refractoriness",
    "eligibility_flags",
    "missing_inputs",
    "derivation_versions",
    "completeness_pct",
)


def _refetch_one_to_one(patient: Patient, name: str):
    model = Patient._meta.get_field(name).related_model
    return model.objects.filter(patient=patient).first()


def response_series(
    assessments: list[ImagingAssessment],
) -> list[tuple[ImagingAssessment | None, list[ImagingAssessment]]]:
    """Split a patient's scans (in date order) into series: a baseline and the follow-ups after it.

    Each treatment line may have its own baseline scan; a follow-up belongs to the latest baseline
    before it. Follow-ups before any baseline form a series without a baseline.
    """
    series: list[tuple[ImagingAssessment | None, list[ImagingAssessment]]] = []
    for assessment in assessments:
        if assessment.is_baseline:
            series.append((assessment, []))
        elif series:
            series[-1][1].append(assessment)
        else:
            series.append((None, [assessment]))
    return series


def index_series(patient: Patient, series):
    """The series of the studied treatment line: the latest baseline on or before the index date."""
    with_baseline = [s for s in series if s[0] is not None]
    if not with_baseline:
        return None
    if patient.index_date is None:
        return with_baseline[-1]
    before = [s for s in with_baseline if s[0].assessment_date <= patient.index_date]
    return before[-1] if before else with_baseline[0]


def _refresh_responses(
    patient: Patient,
) -> tuple[list[ImagingAssessment], list[ImagingAssessment]]:
    """Derive every scan's response; return the scans in date order and those that changed."""
    # Baselines sort before follow-ups of the same day, so a same-day follow-up joins the new series.
    assessments = sorted(
        patient.rows_imaging_assessments,
        key=lambda a: (a.assessment_date, not a.is_baseline, a.pk),
    )
    before = {a.pk: _scan_values(a) for a in assessments}
    for assessment in assessments:
        values = [float(m.diameter_mm) for m in assessment.rows_measurements]
        assessment.target_sum_mm = sum(values) if values else None
    for baseline, follow_ups in response_series(assessments):
        criteria = baseline.criteria if baseline else c.ResponseCriteria.MRECIST
        results = derive_responses(
            criteria=criteria,
            baseline_sum_mm=baseline.target_sum_mm if baseline else None,
            assessments=[
                AssessmentInput(
                    assessment_date=a.assessment_date,
                    target_sum_mm=a.target_sum_mm,
                    new_lesion=a.new_lesion,
                    non_target_progression=a.non_target_progression,
                )
                for a in follow_ups
            ],
        )
        # derive_responses keeps the given order, which is already by date.
        for assessment, result in zip(follow_ups, results, strict=True):
            assessment.response = result.response or ""
            assessment.response_reason = (result.reason or "")[:300]
            assessment.nadir_before_mm = result.nadir_before_mm
            assessment.change_from_baseline_pct = result.change_from_baseline_pct
            assessment.change_from_nadir_pct = result.change_from_nadir_pct
            assessment.reader_disagrees = bool(
                assessment.reader_response
                and assessment.response
                and assessment.reader_response != assessment.response
            )
    for assessment in assessments:
        assessment.derivation_versions = {"response": RESPONSE_VERSION}
    changed = [a for a in assessments if _scan_values(a) != before[a.pk]]
    return assessments, changed


SCAN_DERIVED = (
    "target_sum_mm",
    "response",
    "response_reason",
    "nadir_before_mm",
    "change_from_baseline_pct",
    "change_from_nadir_pct",
    "reader_disagrees",
    "derivation_versions",
)


def _scan_values(assessment: ImagingAssessment) -> tuple:
    return tuple(getattr(assessment, name) for name in SCAN_DERIVED)


def tace_session_inputs(sessions: Iterable) -> list[TaceSessionInput]:
    """The TACE sessions a refractoriness rule set reads, in date order (ties by id).

    ``sessions`` are ``TaceSession`` rows or anything with ``start_date``,
    ``technically_adequate`` and ``pk``: the analysis dataset hands over fetched values, so the
    stored derivation and the analysis-time one (resistance after a run's N cycles) read the
    rows the same way.
    """
    return [
        TaceSessionInput(session_date=s.start_date, technically_adequate=s.technically_adequate)
        for s in sorted(sessions, key=lambda s: (s.start_date, s.pk))
    ]


def post_tace_assessments(imaging: Iterable) -> list[PostTaceAssessment]:
    """The follow-up scans (baselines left out) as a refractoriness rule set reads them.

    ``imaging`` are ``ImagingAssessment`` rows or anything with the same attribute names; see
    ``tace_session_inputs``.
    """
    return [
        PostTaceAssessment(
            assessment_date=a.assessment_date,
            response=a.response or None,
            target_sum_mm=a.target_sum_mm,
            treated_viable_fraction_pct=(
                None
                if a.treated_viable_fraction_pct is None
                else float(a.treated_viable_fraction_pct)
            ),
            new_intrahepatic_lesion=bool(a.new_lesion)
            and a.new_lesion_site in ("intrahepatic", "both", ""),
            intrahepatic_lesion_count=a.intrahepatic_lesion_count,
            new_vascular_invasion=bool(a.new_vascular_invasion),
            new_extrahepatic_spread=bool(a.new_lesion)
            and a.new_lesion_site in ("extrahepatic", "both"),
        )
        for a in imaging
        if not a.is_baseline
    ]


def _refractoriness(patient: Patient, labs, imaging) -> dict:
    sessions = tace_session_inputs(patient.rows_tace_sessions)
    if not sessions:
        return {}
    # Progression after TACE is judged against the baseline of the TACE series.
    baseline = next(
        (
            b
            for b, _ in reversed(response_series(imaging))
            if b is not None and b.assessment_date <= sessions[0].session_date
        ),
        None,
    )
    assessments = post_tace_assessments(imaging)
    markers = [
        MarkerValue(sample_date=lab.sample_date, afp_ng_ml=float(lab.afp_ng_ml))
        for lab in labs
        if lab.afp_ng_ml is not None
    ]
    inputs = {
        "jsh_lcsgj_2014": {"sessions": sessions, "assessments": assessments, "markers": markers},
        "seed002_operational": {
            "sessions": sessions,
            "assessments": assessments,
            "baseline_sum_mm": baseline.target_sum_mm if baseline else None,
        },
        "progression_after_n_cycles": {
            "sessions": sessions,
            "assessments": assessments,
            "n_cycles": 3,
        },
    }
    results = {}
    for rule_set, kwargs in inputs.items():
        result = evaluate_refractoriness(rule_set, **kwargs)
        results[rule_set] = {
            "status": result.status,
            "criterion": result.criterion,
            "date": result.criterion_date.isoformat() if result.criterion_date else None,
            "version": result.version,
            "reason": result.reason,
        }
    return results


_LOAD = object()


def critical_missing(patient: Patient, labs=None, tumour=_LOAD, death=_LOAD) -> list[str]:
    """What a record still needs before it can be marked complete.

    Callers that already hold the patient's rows pass them (``None`` meaning "there is none").
    """
    return _critical_missing(
        patient,
        labs=list(patient.lab_panels.all()) if labs is None else labs,
        tumour=_refetch_one_to_one(patient, "tumour_assessment") if tumour is _LOAD else tumour,
        death=_refetch_one_to_one(patient, "death") if death is _LOAD else death,
        has_treatment=any(m.objects.filter(patient=patient).exists() for m in _treatment_models()),
        has_follow_up=patient.follow_ups.exists(),
    )


def patients_critical_missing(patient_ids: Iterable[int]) -> dict[int, list[str]]:
    """``critical_missing`` of many patients (a list page, the dashboard) in two queries per chunk.

    Whether a patient has any treatment or follow-up row is asked of the database (EXISTS), so
    only the lab panels, which the baseline choice needs, are fetched.
    """
    ids = sorted(set(patient_ids))
    found: dict[int, list[str]] = {}
    for start in range(0, len(ids), REFRESH_CHUNK):
        found.update(_critical_missing_chunk(ids[start : start + REFRESH_CHUNK]))
    return found


def _critical_missing_chunk(ids: list[int]) -> dict[int, list[str]]:
    def exists(model) -> Exists:
        return Exists(model.objects.filter(patient=OuterRef("pk")))

    treated = {f"_treated_{i}": exists(m) for i, m in enumerate(_treatment_models())}
    patients = (
        Patient.objects.filter(pk__in=ids)
        .select_related("tumour_assessment", "death")
        .prefetch_related("lab_panels")
        .annotate(_followed_up=exists(FollowUp), **treated)
    )
    return {
        patient.pk: _critical_missing(
            patient,
            labs=list(patient.lab_panels.all()),
            tumour=_one(patient, "tumour_assessment"),
            death=_one(patient, "death"),
            has_treatment=any(getattr(patient, name) for name in treated),
            has_follow_up=patient._followed_up,
        )
        for patient in patients
    }


def _critical_missing(
    patient: Patient, *, labs, tumour, death, has_treatment: bool, has_follow_up: bool
) -> list[str]:
    missing = [
        name.replace("_", " ") for name in CRITICAL_FIELDS if getattr(patient, name) in (None, "")
    ]
    if baseline_lab(patient, labs) is None:
        missing.append("baseline lab panel")
    if tumour is None:
        missing.append("baseline tumour assessment")
    if not has_treatment:
        missing.append("treatment")
    if death is None and not has_follow_up:
        missing.append("survival status (follow-up contact or death)")
    return missing


def _completeness(patient: Patient, labs, tumour, death) -> int:
    """Share of the critical items present, for a patient whose rows are prefetched."""
    missing = _critical_missing(
        patient,
        labs=labs,
        tumour=tumour,
        death=death,
        has_treatment=any(getattr(patient, f"rows_{name}") for name in TREATMENT_RELATIONS),
        has_follow_up=bool(patient.rows_follow_ups),
    )
    total = len(CRITICAL_FIELDS) + 4
    return round(100 * (total - len(missing)) / total)


def _treatment_models():
    from registry.validation import treatment_models

    return treatment_models()


def _flag_changes(patient: Patient, findings) -> tuple[list[int], list[DataQualityFlag]]:
    """Open flags no longer found (to resolve) and findings not yet flagged (to create)."""
    open_flags = {f.key: f for f in patient.open_quality_flags}
    current = {f.key: f for f in findings}
    stale = [flag.pk for key, flag in open_flags.items() if key not in current]
    new = [
        DataQualityFlag(
            patient=patient,
            record_type=f.record_type,
            record_id=f.record_id,
            field=f.field,
            code=f.code,
            severity=f.severity,
            message=f.message[:500],
        )
        for key, f in current.items()
        if key not in open_flags
    ]
    return stale, new


# --- record status --------------------------------------------------------------------------


def _transition(patient: Patient, user, to: str, reason: str) -> Patient:
    patient._status_transition = True
    patient.status = to
    _attribute(patient, user, reason or f"Status → {to}")
    try:
        patient.save()
    finally:
        patient._status_transition = False
    return patient


@transaction.atomic
def patient_mark_complete(*, patient: Patient, user=None, reason: str = "") -> Patient:
    _require(user, Action.MARK_COMPLETE, patient.site_id)
    if patient.status != c.RecordStatus.DRAFT:
        raise ValidationError(
            f"Only a draft can be marked complete; this record is {patient.status}."
        )
    missing = critical_missing(patient)
    inconsistent = list(
        patient.quality_flags.filter(
            status=c.FlagStatus.OPEN, severity=c.FlagSeverity.INCONSISTENCY
        ).values_list("message", flat=True)
    )
    if missing or inconsistent:
        problems = [f"missing {name}" for name in missing] + inconsistent
        raise ValidationError("The record cannot be marked complete: " + "; ".join(problems) + ".")
    return _transition(patient, user, c.RecordStatus.COMPLETE, reason)


@transaction.atomic
def patient_verify(*, patient: Patient, user=None, reason: str = "") -> Patient:
    _require(user, Action.VERIFY, patient.site_id)
    if patient.status != c.RecordStatus.COMPLETE:
        raise ValidationError(
            f"Only a complete record can be verified; this record is {patient.status}."
        )
    return _transition(patient, user, c.RecordStatus.VERIFIED, reason)


@transaction.atomic
def patient_lock(*, patient: Patient, user=None, reason: str = "") -> Patient:
    _require(user, Action.LOCK, patient.site_id)
    if patient.status != c.RecordStatus.VERIFIED:
        raise ValidationError(
            f"Only a verified record can be locked; this record is {patient.status}."
        )
    return _transition(patient, user, c.RecordStatus.LOCKED, reason)


@transaction.atomic
def patient_unlock(*, patient: Patient, user=None, reason: str) -> Patient:
    _require(user, Action.UNLOCK, patient.site_id)
    if patient.status != c.RecordStatus.LOCKED:
        raise ValidationError("The record is not locked.")
    if not reason or not reason.strip():
        raise ValidationError({"reason": "Unlocking a record needs a reason."})
    return _transition(patient, user, c.RecordStatus.VERIFIED, reason)


@transaction.atomic
def patient_reopen(*, patient: Patient, user=None, reason: str) -> Patient:
    """Return a complete or verified record to draft, e.g. to answer a data query."""
    _require(user, Action.CHANGE, patient.site_id)
    if patient.status not in (c.RecordStatus.COMPLETE, c.RecordStatus.VERIFIED):
        raise ValidationError(f"A {patient.status} record cannot be reopened.")
    if not reason or not reason.strip():
        raise ValidationError({"reason": "Reopening a record needs a reason."})
    return _transition(patient, user, c.RecordStatus.DRAFT, reason)
