"""Treatments (CRF.md §4): one row per session, cycle, course or regimen.

Each modality is its own model with the fields that belong to it, sharing the common fields of
``Treatment``. Arms are never typed by hand: ``analytics`` derives them from these rows.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from registry import choices as c
from registry.derivations.drugs import drug_class
from registry.derivations.radiotherapy import RADIOTHERAPY_VERSION, derive_radiotherapy_dose
from registry.rules import HardRange

from .base import CrfRecord
from .indexes import keyset_indexes


class Treatment(CrfRecord):
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    intent = models.CharField(
        max_length=24, choices=c.TreatmentIntent.choices, default=c.TreatmentIntent.INITIAL
    )
    line_number = models.PositiveSmallIntegerField(null=True, blank=True)
    notes = models.TextField(blank=True)

    event_date_fields = ("start_date", "end_date")

    class Meta:
        abstract = True
        ordering = ["patient", "start_date"]

    def clean(self) -> None:
        super().clean()
        if self.end_date and self.start_date and self.end_date < self.start_date:
            raise ValidationError(
                {
                    "end_date": f"End date {self.end_date} is before the start date {self.start_date}."
                }
            )


class TaceSession(Treatment):
    patient = models.ForeignKey(
        "registry.Patient", on_delete=models.CASCADE, related_name="tace_sessions"
    )
    technique = models.CharField(max_length=10, choices=c.TaceTechnique.choices)
    session_number = models.PositiveSmallIntegerField(null=True, blank=True)
    chemo_agent = models.CharField(max_length=12, choices=c.ChemoAgent.choices, blank=True)
    chemo_dose_mg = models.DecimalField(
        "chemotherapy dose (mg)",
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[HardRange("tace_dose_mg")],
    )
    lipiodol_ml = models.DecimalField(
        "lipiodol (mL)",
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[HardRange("lipiodol_ml")],
    )
    gelatin_sponge = models.BooleanField(default=False)
    microspheres = models.BooleanField(default=False)
    microsphere_size_um = models.CharField("microsphere size (µm)", max_length=20, blank=True)
    selectivity = models.CharField(max_length=16, choices=c.Selectivity.choices, blank=True)
    embolization_endpoint = models.CharField(
        max_length=12, choices=c.EmbolizationEndpoint.choices, blank=True
    )
    technically_adequate = models.BooleanField(null=True, blank=True)

    class Meta(Treatment.Meta):
        verbose_name = "TACE session"
        indexes = keyset_indexes("tace", "start_date", "technique", "intent")

    def __str__(self) -> str:
        return f"TACE {self.session_number or ''} {self.start_date}".replace("  ", " ")


class HaicCycle(Treatment):
    patient = models.ForeignKey(
        "registry.Patient", on_delete=models.CASCADE, related_name="haic_cycles"
    )
    regimen = models.CharField(max_length=16, choices=c.HaicRegimen.choices)
    fluorouracil_g_m2 = models.DecimalField(
        "5-FU (g/m²)",
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[HardRange("fu_g_m2")],
    )
    platinum_mg_m2 = models.DecimalField(
        "cisplatin/oxaliplatin (mg/m²)",
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[HardRange("platinum_mg_m2")],
    )
    infusion_hours = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[HardRange("infusion_hours")],
    )
    cycle_number = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta(Treatment.Meta):
        verbose_name = "HAIC cycle"
        indexes = keyset_indexes("haic", "start_date", "regimen", "intent")

    def __str__(self) -> str:
        return f"HAIC {self.get_regimen_display()} {self.start_date}"


class RadiotherapyCourse(Treatment):
    patient = models.ForeignKey(
        "registry.Patient", on_delete=models.CASCADE, related_name="radiotherapy_courses"
    )
    technique = models.CharField(max_length=8, choices=c.RadiotherapyTechnique.choices)
    total_dose_gy = models.DecimalField(
        "total dose (Gy)",
        max_digits=5,
        decimal_places=1,
        validators=[HardRange("rt_total_dose_gy")],
    )
    fractions = models.PositiveSmallIntegerField(validators=[HardRange("rt_fractions")])
    dose_per_fraction_gy = models.FloatField(null=True, blank=True, editable=False)
    bed10_gy = models.FloatField("BED10 (Gy)", null=True, blank=True, editable=False)
    derivation_versions = models.JSONField(default=dict, blank=True, editable=False)

    class Meta(Treatment.Meta):
        verbose_name = "radiotherapy course"
        indexes = keyset_indexes("rt", "start_date", "technique", "intent")

    def __str__(self) -> str:
        return f"{self.get_technique_display()} {self.total_dose_gy} Gy/{self.fractions} fx"

    def derive(self) -> None:
        dose = derive_radiotherapy_dose(
            total_dose_gy=None if self.total_dose_gy is None else float(self.total_dose_gy),
            fractions=self.fractions,
        )
        self.dose_per_fraction_gy = dose.dose_per_fraction_gy
        self.bed10_gy = dose.bed10_gy
        self.derivation_versions = {"radiotherapy": RADIOTHERAPY_VERSION}


class LocalProcedure(Treatment):
    patient = models.ForeignKey(
        "registry.Patient", on_delete=models.CASCADE, related_name="local_procedures"
    )
    procedure = models.CharField(max_length=10, choices=c.LocalProcedureType.choices)
    technique = models.CharField(max_length=200, blank=True)

    class Meta(Treatment.Meta):
        verbose_name = "ablation / resection / TARE"
        verbose_name_plural = "ablations / resections / TARE"
        indexes = keyset_indexes("localproc", "start_date", "procedure", "intent")

    def __str__(self) -> str:
        return f"{self.get_procedure_display()} {self.start_date}"


class SystemicTherapy(Treatment):
    patient = models.ForeignKey(
        "registry.Patient", on_delete=models.CASCADE, related_name="systemic_therapies"
    )
    agent = models.CharField(max_length=16, choices=c.SystemicAgent.choices)
    agent_other = models.CharField("other agent", max_length=100, blank=True)
    drug_class = models.CharField(
        max_length=10,
        choices=c.DrugClass.choices,
        blank=True,
        help_text="Derived from the agent; typed only for 'other'.",
    )
    dose = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[HardRange("systemic_dose")],
    )
    dose_unit = models.CharField(max_length=10, choices=c.DoseUnit.choices, blank=True)
    schedule = models.CharField(max_length=100, blank=True, help_text="e.g. once daily, q3w")
    stop_reason = models.CharField(max_length=16, choices=c.StopReason.choices, blank=True)

    class Meta(Treatment.Meta):
        verbose_name = "systemic therapy"
        indexes = keyset_indexes("systemic", "start_date", "agent", "drug_class", "intent")
        verbose_name_plural = "systemic therapies"

    def __str__(self) -> str:
        # Shown to every role: never the free-text other agent (registry.disclosure).
        return f"{self.get_agent_display()} from {self.start_date}"

    def derive(self) -> None:
        derived = drug_class(self.agent) if self.agent else None
        if derived is not None:
            self.drug_class = derived

    def clean(self) -> None:
        super().clean()
        if self.agent == c.SystemicAgent.OTHER and not self.agent_other.strip():
            raise ValidationError({"agent_other": "Name the agent when the agent is 'other'."})
        if self.dose is not None and not self.dose_unit:
            raise ValidationError({"dose_unit": f"Dose {self.dose} needs a unit."})
