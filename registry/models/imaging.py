"""Imaging response assessments with per-lesion target measurements (CRF.md §5).

A target lesion is identified by its number within the patient: lesion 1 at baseline is lesion
1 at every later assessment, so the same lesions are followed over time.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from registry import choices as c
from registry.rules import HardRange
from registry.validation import (
    baseline_scan_on,
    governing_baseline,
    other_target_lesions,
    scan_key,
)

from .base import CrfRecord
from .indexes import keyset_indexes

MEASURABLE_MM = 10
MAX_TARGETS = {c.ResponseCriteria.MRECIST: 2, c.ResponseCriteria.RECIST11: 5}
MAX_TARGETS_PER_ORGAN = 2  # RECIST 1.1; mRECIST's 2 intrahepatic targets meet it too


class ImagingAssessment(CrfRecord):
    patient = models.ForeignKey(
        "registry.Patient", on_delete=models.CASCADE, related_name="imaging_assessments"
    )
    assessment_date = models.DateField()
    is_baseline = models.BooleanField(
        "baseline scan",
        default=False,
        help_text="The scan the target lesions were chosen on; one per treatment line. Later "
        "assessments are compared with the latest baseline scan before them.",
    )
    modality = models.CharField(max_length=4, choices=c.ImagingModality.choices)
    criteria = models.CharField(
        max_length=10, choices=c.ResponseCriteria.choices, default=c.ResponseCriteria.MRECIST
    )
    treated_viable_fraction_pct = models.DecimalField(
        "viable fraction of treated tumour (%)",
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[HardRange("treated_viable_fraction_pct")],
    )
    new_lesion = models.BooleanField(default=False)
    new_lesion_site = models.CharField(max_length=16, choices=c.NewLesionSite.choices, blank=True)
    non_target_progression = models.BooleanField(default=False)
    new_vascular_invasion = models.BooleanField(default=False)
    intrahepatic_lesion_count = models.PositiveSmallIntegerField(null=True, blank=True)
    reviewer = models.CharField(max_length=24, choices=c.Reviewer.choices, blank=True)
    reader_response = models.CharField(
        "response recorded by the reader", max_length=2, choices=c.Response.choices, blank=True
    )

    # Derived by registry.services from the whole series of the patient's assessments.
    target_sum_mm = models.FloatField(null=True, blank=True, editable=False)
    nadir_before_mm = models.FloatField(null=True, blank=True, editable=False)
    change_from_baseline_pct = models.FloatField(null=True, blank=True, editable=False)
    change_from_nadir_pct = models.FloatField(null=True, blank=True, editable=False)
    response = models.CharField(
        "derived response", max_length=2, choices=c.Response.choices, blank=True, editable=False
    )
    response_reason = models.CharField(max_length=300, blank=True, editable=False)
    reader_disagrees = models.BooleanField(default=False, editable=False)
    derivation_versions = models.JSONField(default=dict, blank=True, editable=False)

    event_date_fields = ("assessment_date",)

    class Meta:
        ordering = ["patient", "assessment_date"]
        indexes = keyset_indexes(
            "imaging", "assessment_date", "is_baseline", "response", "criteria"
        )

    def __str__(self) -> str:
        kind = "Baseline scan" if self.is_baseline else "Assessment"
        return f"{kind} {self.assessment_date}"

    def clean(self) -> None:
        super().clean()
        if self.new_lesion_site and not self.new_lesion:
            raise ValidationError({"new_lesion": "A new-lesion site is given: tick new lesion."})
        if not self._owner_is_set() or self.patient.pk is None or self.assessment_date is None:
            return
        if self.is_baseline:
            if baseline_scan_on(self.patient, self.assessment_date, exclude_pk=scan_key(self)):
                raise ValidationError(
                    {
                        "assessment_date": f"There is already a baseline scan on {self.assessment_date}."
                    }
                )
            return
        baseline = governing_baseline(self.patient, self.assessment_date, exclude_pk=scan_key(self))
        if baseline is None:
            raise ValidationError(
                {
                    "assessment_date": f"A response assessment on {self.assessment_date} needs a "
                    "baseline scan on or before that date (tick 'baseline scan' on it)."
                }
            )
        if not any(diameter >= MEASURABLE_MM for diameter in baseline.lesions.values()):
            raise ValidationError(
                f"The baseline scan of {baseline.assessment_date} has no measurable target lesion "
                f"(≥ {MEASURABLE_MM} mm): response cannot be assessed."
            )


class LesionMeasurement(CrfRecord):
    assessment = models.ForeignKey(
        ImagingAssessment, on_delete=models.CASCADE, related_name="measurements"
    )
    lesion_number = models.PositiveSmallIntegerField(
        help_text="Same number for the same lesion at every assessment."
    )
    organ = models.CharField(
        max_length=12, choices=c.LesionOrgan.choices, default=c.LesionOrgan.LIVER
    )
    location = models.CharField(max_length=100, blank=True, help_text="e.g. segment VII")
    diameter_mm = models.DecimalField(
        "longest (viable) diameter (mm)",
        max_digits=5,
        decimal_places=1,
        validators=[HardRange("lesion_diameter_mm")],
        help_text="mRECIST: longest viable (arterially enhancing) diameter; RECIST 1.1: longest diameter.",
    )

    class Meta:
        ordering = ["assessment", "lesion_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "lesion_number"], name="one_measurement_per_lesion"
            ),
        ]

    def __str__(self) -> str:
        return f"Lesion {self.lesion_number}: {self.diameter_mm} mm"

    def owner_patient(self):
        return self.assessment.patient

    def clean(self) -> None:
        super().clean()
        if not self._assessment_set():
            return
        assessment = self.assessment
        limit = MAX_TARGETS.get(assessment.criteria, 5)
        if self.lesion_number is not None and not (1 <= self.lesion_number <= limit):
            raise ValidationError(
                {
                    "lesion_number": f"Lesion number {self.lesion_number} is outside 1–{limit}: "
                    f"{assessment.get_criteria_display()} follows at most {limit} target lesions."
                }
            )
        if assessment.criteria == c.ResponseCriteria.MRECIST and self.organ != c.LesionOrgan.LIVER:
            raise ValidationError({"organ": "mRECIST target lesions are intrahepatic."})
        self._check_per_organ_limit(assessment)
        if (
            assessment.is_baseline
            and self.diameter_mm is not None
            and self.diameter_mm < MEASURABLE_MM
        ):
            raise ValidationError(
                {
                    "diameter_mm": f"Baseline target lesion {self.diameter_mm} mm is not measurable: "
                    f"a target lesion must be ≥ {MEASURABLE_MM} mm at baseline."
                }
            )
        if not assessment.is_baseline and assessment.patient_id and assessment.assessment_date:
            baseline = governing_baseline(assessment.patient, assessment.assessment_date)
            if baseline is None or self.lesion_number not in baseline.lesions:
                raise ValidationError(
                    {
                        "lesion_number": f"Lesion {self.lesion_number} was not measured on the baseline "
                        "scan: follow the same target lesions as at baseline."
                    }
                )

    def _check_per_organ_limit(self, assessment: ImagingAssessment) -> None:
        """RECIST 1.1 (Eisenhauer 2009 §3.3; CRF.md §5): at most 2 target lesions per organ
        (and 5 in all: ``lesion_number`` 1-5). "Other" stands for several organs, so it is
        not counted as one."""
        if (
            assessment.pk is None
            or self.organ in ("", c.LesionOrgan.OTHER)
            or self.lesion_number is None
        ):
            return
        others = other_target_lesions(assessment.pk, self.lesion_number)
        same = sorted(n for n, organ in others.items() if organ == self.organ)
        if len(same) >= MAX_TARGETS_PER_ORGAN:
            listed = ", ".join(str(n) for n in same)
            raise ValidationError(
                {
                    "organ": f"Lesion {self.lesion_number} would be target lesion "
                    f"{len(same) + 1} in {self.get_organ_display().lower()} (lesions {listed} "
                    f"already are): {assessment.get_criteria_display()} takes at most "
                    f"{MAX_TARGETS_PER_ORGAN} target lesions per organ."
                }
            )

    def _assessment_set(self) -> bool:
        try:
            return self.assessment is not None
        except models.ObjectDoesNotExist:
            return False
