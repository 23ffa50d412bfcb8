from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from registry import choices as c
from registry.rules import HardRange

from .base import DecimalInput, RecordLocked
from .indexes import keyset_indexes, patient_list_indexes


def validate_birth_year(value: int) -> None:
    this_year = dt.date.today().year
    if value is not None and not (1900 <= value <= this_year):
        raise ValidationError(
            f"Birth year {value} is outside the allowed range 1900–{this_year}.",
            code="hard_range",
        )


class Patient(DecimalInput):
    """Enrolment (CRF.md §1) plus the patient-level values the registry derives.

    Derived fields are written only by ``registry.services.patient_refresh_derived``.
    """

    site = models.ForeignKey("registry.Site", on_delete=models.PROTECT, related_name="patients")
    study_id = models.CharField(max_length=20, unique=True, editable=False)
    # Identifying: visible to the patient's own site only (see registry.access).
    site_patient_ref = models.CharField(
        "site patient reference",
        max_length=64,
        help_text="Your hospital's own reference. Identifying: never leaves your site.",
    )
    status = models.CharField(
        max_length=16, choices=c.RecordStatus.choices, default=c.RecordStatus.DRAFT, editable=False
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    sex = models.CharField(max_length=8, choices=c.Sex.choices)
    birth_year = models.PositiveSmallIntegerField(validators=[validate_birth_year])
    body_weight_kg = models.DecimalField(
        "body weight (kg)",
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[HardRange("body_weight_kg")],
    )
    etiology_hbv = models.BooleanField("HBV", default=False)
    etiology_hcv = models.BooleanField("HCV", default=False)
    etiology_alcohol = models.BooleanField("alcohol", default=False)
    etiology_masld = models.BooleanField("MASLD/NASH", default=False)
    etiology_other = models.BooleanField("other etiology", default=False)
    etiology_unknown = models.BooleanField("unknown etiology", default=False)
    chronic_hepatitis_history = models.BooleanField(null=True, blank=True)
    antiviral_therapy = models.BooleanField(null=True, blank=True)
    cirrhosis = models.CharField(max_length=8, choices=c.YesNoUnknown.choices, blank=True)
    diabetes = models.BooleanField(null=True, blank=True)
    hypertension = models.BooleanField(null=True, blank=True)
    other_comorbidities = models.CharField(max_length=500, blank=True)
    diagnosis_date = models.DateField(null=True, blank=True)
    diagnosis_basis = models.CharField(max_length=16, choices=c.DiagnosisBasis.choices, blank=True)
    histology_subtype = models.CharField(
        max_length=20, choices=c.HistologySubtype.choices, blank=True
    )
    index_date = models.DateField(
        null=True,
        blank=True,
        help_text="Day 1 of the treatment line being studied (start of OS and PFS).",
    )
    ecog_ps = models.PositiveSmallIntegerField(
        "ECOG PS",
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(4), HardRange("ecog_ps")],
    )
    bclc_stage_override = models.CharField(
        "BCLC stage (override)", max_length=1, choices=c.BclcStage.choices, blank=True
    )
    bclc_override_reason = models.CharField(max_length=500, blank=True)

    # --- derived ---------------------------------------------------------------------------
    age_at_index = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    baseline_lab = models.ForeignKey(
        "registry.LabPanel",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    albi_score = models.FloatField("ALBI score", null=True, blank=True, editable=False)
    albi_grade = models.CharField("ALBI grade", max_length=2, blank=True, editable=False)
    malbi_grade = models.CharField("mALBI grade", max_length=2, blank=True, editable=False)
    child_pugh_score = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    child_pugh_class = models.CharField(
        max_length=1, choices=c.ChildPughClass.choices, blank=True, editable=False
    )
    bclc_stage_derived = models.CharField(
        "BCLC stage (derived)",
        max_length=1,
        choices=c.BclcStage.choices,
        blank=True,
        editable=False,
    )
    bclc_stage = models.CharField(
        "BCLC stage (used)", max_length=1, choices=c.BclcStage.choices, blank=True, editable=False
    )
    up_to_seven_within = models.BooleanField(null=True, blank=True, editable=False)
    best_overall_response = models.CharField(
        max_length=2, choices=c.Response.choices, blank=True, editable=False
    )
    objective_response = models.BooleanField(null=True, blank=True, editable=False)
    disease_control = models.BooleanField(null=True, blank=True, editable=False)
    first_progression_date = models.DateField(null=True, blank=True, editable=False)
    tace_refractoriness = models.JSONField(
        default=dict, blank=True, editable=False, help_text="Rule set → status, criterion, date."
    )
    eligibility_flags = models.JSONField(default=list, blank=True, editable=False)
    missing_inputs = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text="Derived value → the inputs it still needs.",
    )
    derivation_versions = models.JSONField(default=dict, blank=True, editable=False)
    completeness_pct = models.PositiveSmallIntegerField(default=0, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["study_id"]
        # The API pages and the admin sorts patients by study id: (filter, study_id) indexes.
        indexes = (
            keyset_indexes(
                "patient",
                "site",
                "status",
                "sex",
                "bclc_stage",
                "child_pugh_class",
                "albi_grade",
                "index_date",
                key="study_id",
            )
            + patient_list_indexes()
        )
        constraints = [
            models.UniqueConstraint(
                fields=["site", "site_patient_ref"], name="unique_site_patient_ref"
            ),
        ]
        permissions = [
            ("mark_complete", "Can mark a patient record complete"),
            ("verify_patient", "Can verify a patient record"),
            ("lock_patient", "Can lock and unlock a patient record"),
        ]

    def __str__(self) -> str:
        return self.study_id or "(new patient)"

    # The status transition services set this for the one save that changes the lock.
    _status_transition = False

    def assert_editable(self) -> None:
        if self.pk is None:
            return
        stored = Patient.objects.filter(pk=self.pk).values_list("status", flat=True).first()
        if stored == c.RecordStatus.LOCKED and not self._status_transition:
            raise RecordLocked(
                f"Patient {self.study_id} is locked: unlock it with a reason before changing it.",
                code="locked",
            )

    def save(self, *args, **kwargs) -> None:
        self.assert_editable()
        if self.pk is not None:
            self.version = (self.version or 0) + 1
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self.assert_editable()
        return super().delete(*args, **kwargs)

    @property
    def etiologies(self) -> list[str]:
        names = ["hbv", "hcv", "alcohol", "masld", "other", "unknown"]
        return [name for name in names if getattr(self, f"etiology_{name}")]

    @property
    def death_date(self) -> dt.date | None:
        death = getattr(self, "death", None)
        return death.death_date if death is not None else None

    def clean(self) -> None:
        super().clean()
        from registry.validation import death_date_of, typed_date_errors

        errors: dict[str, str | ValidationError] = dict(typed_date_errors(self))
        if not self.etiologies:
            errors["etiology_unknown"] = (
                "Etiology: tick at least one of HBV, HCV, alcohol, MASLD/NASH, other, unknown."
            )
        known = [
            str(Patient._meta.get_field(f"etiology_{name}").verbose_name)
            for name in self.etiologies
            if name != "unknown"
        ]
        if self.etiology_unknown and known:
            errors["etiology_unknown"] = (
                f"Etiology is ticked as unknown and as {', '.join(known)}: an etiology is either "
                "known or unknown; untick one."
            )
        death_date = death_date_of(self) if self.index_date else None
        if death_date and self.index_date > death_date and "index_date" not in errors:
            errors["index_date"] = (
                f"Index date {self.index_date} is after the death date {death_date}: the "
                "treatment line studied must start before the death."
            )
        if (self.etiology_hbv or self.etiology_hcv) and self.antiviral_therapy is None:
            errors["antiviral_therapy"] = (
                "Antiviral therapy is required when the etiology is HBV or HCV."
            )
        if self.diagnosis_date and self.index_date and self.diagnosis_date > self.index_date:
            errors["diagnosis_date"] = (
                f"Diagnosis date {self.diagnosis_date} is after the index date {self.index_date}: "
                "the diagnosis must come on or before the index date."
            )
        if self.bclc_stage_override and not self.bclc_override_reason.strip():
            errors["bclc_override_reason"] = "Overriding the derived BCLC stage needs a reason."
        if self.birth_year and self.index_date and self.birth_year > self.index_date.year:
            errors["birth_year"] = f"Birth year {self.birth_year} is after the index date."
        if errors:
            raise ValidationError(errors)
