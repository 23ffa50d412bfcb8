"""Scans with their target lesions on the patient page: one row per scan, its lesions in it.

The lesion diameters are form fields of the scan's row (``target_lesions_mm``); they are saved
as ``LesionMeasurement`` rows with the scan (``registry.admin.inlines.save_scans``). A baseline
scan and its follow-ups submitted together are validated together
(``registry.validation.scans_submitted_together``): the follow-ups see the baseline and its
lesions before anything is written.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from registry.models import ImagingAssessment, LesionMeasurement
from registry.models.imaging import MAX_TARGETS
from registry.validation import BaselineScan, scans_submitted_together

from .base import RegistryModelForm, add_service_error
from .fields import DecimalTextField, NumberTextInput

MAX_LESIONS = max(MAX_TARGETS.values())
# Lesions shown for every criterion; the rest only for RECIST 1.1 (up to 5).
ALWAYS_SHOWN = min(MAX_TARGETS.values())


class TargetLesionsWidget(forms.MultiWidget):
    def __init__(self) -> None:
        widgets = [
            NumberTextInput(
                attrs={
                    "size": 4,
                    "placeholder": f"L{n}",
                    "aria-label": f"target lesion {n} (mm)",
                    "class": "lesion-mm" + ("" if n <= ALWAYS_SHOWN else " lesion-recist-only"),
                }
            )
            for n in range(1, MAX_LESIONS + 1)
        ]
        super().__init__(widgets)

    def decompress(self, value):
        return list(value) if value else [None] * MAX_LESIONS


class TargetLesionsField(forms.MultiValueField):
    """Longest (viable) diameter in mm of target lesions 1..5, empty where not measured."""

    widget = TargetLesionsWidget

    def __init__(self, **kwargs) -> None:
        fields = [
            DecimalTextField(required=False, max_digits=5, decimal_places=1)
            for _ in range(MAX_LESIONS)
        ]
        super().__init__(fields, require_all_fields=False, required=False, **kwargs)

    def compress(self, data_list):
        return list(data_list) if data_list else [None] * MAX_LESIONS


class ScanForm(RegistryModelForm):
    target_lesions_mm = TargetLesionsField(
        label="target lesions (mm)",
        help_text="Lesion 1, 2 (… 5 for RECIST 1.1): the same number for the same lesion at "
        "every scan. mRECIST: longest viable diameter.",
    )

    class Meta:
        model = ImagingAssessment
        fields = "__all__"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            diameters = {m.lesion_number: m.diameter_mm for m in self.instance.measurements.all()}
            self.initial["target_lesions_mm"] = [
                diameters.get(n) for n in range(1, MAX_LESIONS + 1)
            ]

    def lesions(self) -> dict[int, object]:
        """Lesion number → diameter typed on this row (None where left empty)."""
        values = (getattr(self, "cleaned_data", None) or {}).get("target_lesions_mm") or []
        return dict(enumerate(values, start=1))

    def _post_clean(self) -> None:
        super()._post_clean()
        if not self.has_changed():
            return  # stored as they are, checked when they were saved
        # Each lesion is checked by its own model's rules, against this scan as typed.
        for number, diameter in self.lesions().items():
            if diameter is None:
                continue
            lesion = LesionMeasurement(
                assessment=self.instance, lesion_number=number, diameter_mm=diameter
            )
            try:
                lesion.full_clean(exclude=["assessment"], validate_unique=False)
            except ValidationError as error:
                messages = [f"Lesion {number}: {m}" for m in error.messages]
                self.add_error("target_lesions_mm", messages)


def _raw(form: forms.BaseForm, name: str):
    """A field's submitted value as the field reads it, or None if it does not read."""
    field = form.fields[name]
    value = field.widget.value_from_datadict(form.data, form.files, form.add_prefix(name))
    try:
        return field.clean(value)
    except ValidationError:
        return None


class ScanFormSet(BaseInlineFormSet):
    """Validates a patient's scans as one submission (see the module's docstring)."""

    def full_clean(self) -> None:
        if not self.is_bound or self.instance.pk is None:
            super().full_clean()
            return
        baselines: list[BaselineScan] = []
        rewritten: set[int] = set()
        for index, form in enumerate(self.forms):
            if form.instance.pk is None:
                form.instance.submission_key = -(index + 1)
            if not form.has_changed():
                continue
            if form.instance.pk is not None:
                rewritten.add(form.instance.pk)
            if self.can_delete and _raw(form, "DELETE"):
                continue
            day = _raw(form, "assessment_date")
            if not (_raw(form, "is_baseline") and day):
                continue
            lesions = _raw(form, "target_lesions_mm") or []
            baselines.append(
                BaselineScan(
                    form.instance.pk or form.instance.submission_key,
                    day,
                    {n: d for n, d in enumerate(lesions, start=1) if d is not None},
                )
            )
        with scans_submitted_together(self.instance.pk, baselines, rewritten):
            super().full_clean()


__all__ = ["ScanForm", "ScanFormSet", "TargetLesionsField", "add_service_error"]
