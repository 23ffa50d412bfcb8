"""Derived values of the patient page as the data manager types, before anything is saved.

The page posts its whole form here (``registry/static/registry/workspace.js``). The rows are
validated by the same forms and model rules as a save, applied to copies in memory, and the
derived values are computed by the same functions a save runs (``LabPanel.derive``, the
patient refresh of ``registry.services``, the data-quality rules), then shown with the same
display methods as the saved page. Nothing is written; the answer is what a save would store.
"""

from __future__ import annotations

from django.contrib.admin.utils import display_for_field, display_for_value, lookup_field
from django.core.exceptions import ObjectDoesNotExist
from django.http import JsonResponse
from django.utils.safestring import SafeData

from registry import services
from registry.derived_rows import MANY_RELATIONS, ONE_RELATIONS, patients_with_rows
from registry.models import LesionMeasurement, Patient

# Readonly fields of the patient's own fieldsets refreshed while typing.
PATIENT_FIELDS = (
    "albi",
    "child_pugh",
    "age_at_index",
    "bclc_stage_derived",
    "bclc_used",
    "up_to_seven",
    "completeness",
    "critical_missing",
    "missing_inputs_text",
)


def preview_response(model_admin, request, patient: Patient) -> JsonResponse:
    working = Patient.objects.get(pk=patient.pk)
    form_class = model_admin.get_form(request, working, change=True)
    form = form_class(request.POST, request.FILES, instance=working)
    form.is_valid()  # sets the typed values on ``working``; errors are reported below
    errors = {"": _errors(form)} if form.errors else {}

    stored = patients_with_rows([patient.pk])[0]
    for relation in MANY_RELATIONS:
        setattr(working, f"rows_{relation}", list(getattr(stored, f"rows_{relation}")))
    for relation in ONE_RELATIONS:
        field = Patient._meta.get_field(relation)
        field.set_cached_value(working, _one(stored, relation))

    rows: list[tuple[str, object, object]] = []  # (prefix, inline, instance)
    for formset, inline in _formsets(model_admin, request, working):
        formset.is_valid()
        relation = formset.fk.remote_field.get_accessor_name()
        for row_form in formset.forms:
            instance = row_form.instance
            if instance.pk is None and not row_form.has_changed():
                continue  # an empty "add another" row
            if row_form.errors and row_form.has_changed():
                errors[row_form.prefix] = _errors(row_form)
            deleted = (getattr(row_form, "cleaned_data", None) or {}).get("DELETE")
            _replace(working, relation, instance, deleted)
            if deleted:
                continue
            instance.derive()
            if hasattr(row_form, "lesions"):
                instance.rows_measurements = [
                    LesionMeasurement(assessment=instance, lesion_number=n, diameter_mm=d)
                    for n, d in row_form.lesions().items()
                    if d is not None
                ]
            rows.append((row_form.prefix, inline, instance))

    services._derive_patient(working)  # the refresh's own derivations, in memory only
    working._entry_labs = working.rows_lab_panels
    values = [
        {"prefix": "", "field": name, "text": _shown(model_admin, name, working)}
        for name in PATIENT_FIELDS
    ]
    for prefix, inline, instance in rows:
        for name in inline.get_readonly_fields(request, working):
            text = _shown(inline, name, instance)
            if text is not None:
                values.append({"prefix": prefix, "field": name, "text": text})
    warnings = [f.message for f in working._findings]
    return JsonResponse({"values": values, "warnings": warnings, "errors": errors})


def _formsets(model_admin, request, working):
    """The page's inline formsets bound to the POST, with the prefixes the page gave them."""
    seen: dict[str, int] = {}
    for formset_class, inline in model_admin.get_formsets_with_inlines(request, working):
        prefix = formset_class.get_default_prefix()
        seen[prefix] = seen.get(prefix, 0) + 1
        if seen[prefix] > 1:
            prefix = f"{prefix}-{seen[prefix]}"
        yield (
            formset_class(
                data=request.POST,
                files=request.FILES,
                instance=working,
                prefix=prefix,
                queryset=inline.get_queryset(request),
            ),
            inline,
        )


def _replace(working: Patient, relation: str, instance, deleted: bool) -> None:
    if relation in ONE_RELATIONS:
        Patient._meta.get_field(relation).set_cached_value(working, None if deleted else instance)
        return
    current = getattr(working, f"rows_{relation}")
    kept = [row for row in current if instance.pk is None or row.pk != instance.pk]
    date_field = next(iter(type(instance).event_date_fields), None)
    # A row without its date cannot be placed in the patient's history: left out until typed.
    if not deleted and (date_field is None or getattr(instance, date_field) is not None):
        kept.append(instance)
    if date_field:
        # The derivations expect the stored order (date, then id); a new row after its equals.
        kept.sort(key=lambda row: (getattr(row, date_field), row.pk is None, row.pk or 0))
    setattr(working, f"rows_{relation}", kept)


def _shown(model_admin, name: str, obj) -> str | None:
    """A readonly field as the admin page shows it (``AdminReadonlyField.contents``)."""
    field, attr, value = lookup_field(name, obj, model_admin)
    empty = model_admin.get_empty_value_display()
    if field is None:
        shown = display_for_value(value, empty, getattr(attr, "boolean", False))
    else:
        shown = display_for_field(value, field, empty)
    # Markup (a link to the scan's page) is left as the page drew it: the page shows text only.
    return None if isinstance(value, SafeData) else str(shown)


def _one(patient: Patient, relation: str):
    try:
        return getattr(patient, relation)
    except ObjectDoesNotExist:
        return None


def _errors(form) -> dict[str, list[str]]:
    return {field or "__all__": [str(e) for e in errs] for field, errs in form.errors.items()}
