"""Lab entry with a unit choice: values are converted to the canonical unit before validation."""

from __future__ import annotations

import json

from django import forms
from django.core.exceptions import ValidationError

from registry.models import LabPanel
from registry.rules import RANGES, UNIT_FACTORS, describe, to_canonical, unit_field_name

from .base import RegistryModelForm, range_help_text
from .fields import DecimalTextField

UNIT_FIELDS = {name: unit_field_name(name) for name in UNIT_FACTORS}


def _unit_label(unit: str) -> str:
    return unit.replace("umol", "µmol")


def _unit_field(model_field: str) -> forms.ChoiceField:
    units = list(UNIT_FACTORS[model_field])
    return forms.ChoiceField(
        label="unit",
        choices=[(unit, _unit_label(unit)) for unit in units],
        initial=units[0],
        required=False,
        help_text="Converted to the stored unit on save.",
        widget=forms.Select(attrs={"data-value-field": model_field, "data-unit-hints": ""}),
    )


def _in_unit(bounds: tuple[float, float], factor: float) -> tuple[float, float]:
    # Three significant digits: a hint to read while typing; the rule itself is checked on the
    # converted value, in the stored unit.
    return tuple(float(f"{bound / factor:.3g}") for bound in bounds)


def unit_hints(model_field: str) -> dict[str, dict[str, str]]:
    """Per entry unit: the value's label and its allowed/expected ranges in that unit.

    Shown beside the value while the data manager types (``registry/workspace.js``), so the
    hint never says "g/L" above a value typed in g/dL.
    """
    field = LabPanel._meta.get_field(model_field)
    spec = RANGES[model_field]
    stored = _unit_label(next(iter(UNIT_FACTORS[model_field])))
    hints = {}
    for unit, factor in UNIT_FACTORS[model_field].items():
        shown = _unit_label(unit)
        label = str(field.verbose_name).replace(f"({stored})", f"({shown})")
        parts = [shown]
        if spec.hard:
            parts.append(f"allowed {describe(spec.label, '', _in_unit(spec.hard, factor))}")
        if spec.soft:
            expected = describe(spec.label, "", _in_unit(spec.soft, factor))
            parts.append(f"expected {expected} (outside: a warning)")
        if factor != 1:
            parts.append(f"stored in {stored} (× {factor:g})")
        hints[unit] = {"label": label, "help": " · ".join(parts)}
    return hints


class LabPanelForm(RegistryModelForm):
    albumin_unit = _unit_field("albumin_g_l")
    total_bilirubin_unit = _unit_field("total_bilirubin_umol_l")
    creatinine_unit = _unit_field("creatinine_umol_l")

    class Meta:
        model = LabPanel
        fields = "__all__"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, unit_name in UNIT_FIELDS.items():
            if unit_name in self.fields:
                attrs = self.fields[unit_name].widget.attrs
                attrs["data-unit-hints"] = json.dumps(unit_hints(name))
        for name in UNIT_FIELDS:
            if name not in self.fields:
                continue
            old = self.fields[name]
            # The entered number is in the chosen unit, so the stored field's decimal places
            # do not apply to it; the model validates the converted value.
            self.fields[name] = DecimalTextField(
                label=old.label,
                required=False,
                help_text=range_help_text(LabPanel._meta.get_field(name)),
            )

    def clean(self):
        cleaned = super().clean()
        for name, unit_field in UNIT_FIELDS.items():
            value = cleaned.get(name)
            if name not in self.fields or value is None:
                continue
            try:
                cleaned[name] = to_canonical(name, value, cleaned.get(unit_field) or None)
            except ValidationError as error:
                self.add_error(unit_field, error.message_dict.get(name, error.messages))
                continue
            cleaned[unit_field] = next(iter(UNIT_FACTORS[name]))
        return cleaned
