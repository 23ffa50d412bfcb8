from __future__ import annotations

from django import forms

from registry.models import Patient

from .base import REASON_MAX_LENGTH, RegistryModelForm


def reason_field(required: bool = False, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label="reason for change",
        max_length=REASON_MAX_LENGTH,
        required=required,
        help_text=help_text or "Why the data changed; kept in the audit trail with your name.",
        widget=forms.TextInput(attrs={"size": 60}),
    )


class PatientForm(RegistryModelForm):
    change_reason = reason_field()

    class Meta:
        model = Patient
        fields = "__all__"


class ReasonForm(forms.Form):
    """The reason a status change (unlock, reopen) needs."""

    reason = reason_field()
