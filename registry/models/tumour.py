from __future__ import annotations

from django.db import models

from registry import choices as c
from registry.rules import HardRange

from .base import CrfRecord
from .indexes import keyset_indexes


class TumourAssessment(CrfRecord):
    """Baseline tumour burden on contrast CT or MRI at the index date (CRF.md §3)."""

    patient = models.OneToOneField(
        "registry.Patient", on_delete=models.CASCADE, related_name="tumour_assessment"
    )
    imaging_date = models.DateField()
    modality = models.CharField(max_length=4, choices=c.ImagingModality.choices, blank=True)
    tumour_number = models.PositiveSmallIntegerField(validators=[HardRange("tumour_number")])
    max_diameter_cm = models.DecimalField(
        "maximum diameter (cm)",
        max_digits=4,
        decimal_places=1,
        validators=[HardRange("max_diameter_cm")],
    )
    distribution = models.CharField(max_length=10, choices=c.Distribution.choices, blank=True)
    macrovascular_invasion = models.CharField(
        max_length=16, choices=c.MacrovascularInvasion.choices, default=c.MacrovascularInvasion.NONE
    )
    extrahepatic_spread = models.BooleanField(default=False)
    ehs_lung = models.BooleanField("lung", default=False)
    ehs_bone = models.BooleanField("bone", default=False)
    ehs_lymph_node = models.BooleanField("lymph node", default=False)
    ehs_adrenal = models.BooleanField("adrenal", default=False)
    ehs_peritoneum = models.BooleanField("peritoneum", default=False)
    ehs_other = models.BooleanField("other site", default=False)
    arteriovenous_fistula = models.BooleanField(null=True, blank=True)
    extrahepatic_blood_supply = models.BooleanField(null=True, blank=True)

    event_date_fields = ("imaging_date",)

    class Meta:
        verbose_name = "baseline tumour assessment"
        indexes = keyset_indexes("tumour", "imaging_date")

    def __str__(self) -> str:
        return f"Baseline imaging {self.imaging_date}"

    @property
    def has_macrovascular_invasion(self) -> bool:
        return self.macrovascular_invasion not in ("", c.MacrovascularInvasion.NONE)

    @property
    def tumour_burden(self) -> str:
        return "single" if self.tumour_number == 1 else "multiple"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        super().clean()
        sites = [self.ehs_lung, self.ehs_bone, self.ehs_lymph_node, self.ehs_adrenal]
        sites += [self.ehs_peritoneum, self.ehs_other]
        if any(sites) and not self.extrahepatic_spread:
            raise ValidationError(
                {
                    "extrahepatic_spread": "Sites of extrahepatic spread are ticked: tick extrahepatic spread too."
                }
            )
