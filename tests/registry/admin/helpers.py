"""Build admin POST data from a rendered change page, as a browser would submit it."""

from __future__ import annotations

import datetime as dt
import decimal

from django import forms

from registry import services
from registry.models import FollowUp, LabPanel, TaceSession, TumourAssessment


def _encode(field, value):
    if isinstance(field.widget, forms.NullBooleanSelect):
        return {True: "true", False: "false"}.get(value, "unknown")
    if isinstance(field, forms.BooleanField):
        return "on" if value else None
    if value is None:
        return ""
    if isinstance(value, dt.date | decimal.Decimal | int | float):
        return str(value)
    return value


def _add_form(data: dict, form) -> None:
    for name, field in form.fields.items():
        if isinstance(field, forms.MultiValueField):  # one input per part: name_0, name_1...
            parts = form[name].value() or []
            for index, (part_field, value) in enumerate(zip(field.fields, parts, strict=False)):
                data[f"{form.add_prefix(name)}_{index}"] = _encode(part_field, value) or ""
            continue
        value = _encode(field, form[name].value())
        if value is not None:
            data[form.add_prefix(name)] = value


def page_data(response) -> dict:
    """Every field of the main form and the inline formsets, with their current values."""
    data: dict = {}
    _add_form(data, response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        for form in formset.forms:
            _add_form(data, form)
    return data


def add_row(data: dict, prefix: str, **values) -> dict:
    """Append a new inline row (as 'Add another' does) with ``values``."""
    total = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(total + 1)
    for name, value in values.items():
        data[f"{prefix}-{total}-{name}"] = value
    return data


def complete_case(patient, user=None) -> None:
    """Everything a record needs before it can be marked complete."""
    services.crf_record_save(
        record=LabPanel(
            patient=patient,
            sample_date=dt.date(2023, 2, 20),
            albumin_g_l=40,
            total_bilirubin_umol_l=17,
            inr=1.1,
            ascites="none",
            encephalopathy="none",
        ),
        user=user,
    )
    services.crf_record_save(
        record=TumourAssessment(
            patient=patient, imaging_date=dt.date(2023, 2, 15), tumour_number=2, max_diameter_cm=4
        ),
        user=user,
    )
    services.crf_record_save(
        record=TaceSession(patient=patient, start_date=dt.date(2023, 3, 1), technique="ctace"),
        user=user,
    )
    services.crf_record_save(
        record=FollowUp(patient=patient, contact_date=dt.date(2023, 9, 1), vital_status="alive"),
        user=user,
    )
