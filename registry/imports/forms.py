from __future__ import annotations

from django import forms

from registry.imports.sections import sections


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class ImportForm(forms.Form):
    site = forms.ModelChoiceField(queryset=None, empty_label=None)
    files = MultipleFileField(
        help_text="One workbook with a sheet per section, or one CSV per section (named after "
        "the section, e.g. labs.csv), or a ZIP of CSVs."
    )
    section = forms.ChoiceField(
        required=False,
        choices=[("", "— from the file or sheet names —")]
        + [(name, s.title) for name, s in sections().items()],
        help_text="Only for a single CSV whose name does not say its section.",
    )
    dry_run = forms.BooleanField(
        required=False,
        initial=True,
        label="Dry run (validate and count, write nothing)",
    )

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites

    def clean_files(self):
        from registry.imports.services import upload_refusal

        files = self.cleaned_data["files"]
        refused = upload_refusal(files)
        if refused:
            raise forms.ValidationError(refused)
        return files
