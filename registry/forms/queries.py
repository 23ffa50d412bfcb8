from __future__ import annotations

from django import forms


class QueryOpenForm(forms.Form):
    """A monitor's query on the patient record, one of its rows, or one field of a row."""

    target = forms.ChoiceField(label="on", required=False)
    field = forms.CharField(
        max_length=60, required=False, help_text="Field name, e.g. albumin_g_l (optional)."
    )
    text = forms.CharField(label="question", widget=forms.Textarea(attrs={"rows": 2, "cols": 60}))

    def __init__(self, *args, targets: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [("", "the patient record"), *targets]

    def target_parts(self) -> tuple[str, int | None]:
        target = self.cleaned_data.get("target") or ""
        if not target:
            return "patient", None
        record_type, _, record_id = target.partition(":")
        return record_type, int(record_id)


class QueryMessageForm(forms.Form):
    text = forms.CharField(label="message", widget=forms.Textarea(attrs={"rows": 2, "cols": 60}))
