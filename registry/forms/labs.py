"""Lab entry with a unit choice: values are converted to the canonical unit before validation."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from registry.models import LabPanel
from registry.rules import UNIT_FACTORS, to_canonical, unit_field_name

from .base import RegistryModelForm, range_help_text

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
    )


class LabPanelForm(RegistryModelForm):
    albumin_unit = _unit_field("albumin_g_l")
    total_bilirubin_unit = _unit_field("total_bilirubin_umol_l")
    creatinine_unit = _unit_field("creatinine_umol_l")

    class Meta:
        model = LabPanel
        fields = "__all__"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in UNIT_FIELDS:
            if name not in self.fields:
                continue
            old = self.fields[name]
            # The entered number is in the chosen unit, so the stored field's decimal places
            # do not apply to it; the model validates the converted value.
            self.fields[name] = forms.DecimalField(
                label=old.label,
                required=False,
                help_text=range_help_text(LabPanel._meta.get_field(name)),
                widget=forms.NumberInput(attrs={"step": "any"}),
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
