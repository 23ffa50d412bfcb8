from __future__ import annotations

from django.db import models

from registry import choices as c
from registry.derivations.albi import ALBI_VERSION, derive_albi
from registry.derivations.child_pugh import CHILD_PUGH_VERSION, derive_child_pugh
from registry.rules import HardRange

from .base import CrfRecord
from .indexes import keyset_indexes


def lab_value(
    key: str, label: str, digits: int = 8, places: int = 2, **extra
) -> models.DecimalField:
    return models.DecimalField(
        label,
        max_digits=digits,
        decimal_places=places,
        null=True,
        blank=True,
        validators=[HardRange(key)],
        **extra,
    )


class LabPanel(CrfRecord):
    """A dated laboratory panel (CRF.md §2), stored in canonical units.

    The panel closest before the index date is the patient's baseline. ALBI and Child-Pugh are
    derived per panel on every save.
    """

    patient = models.ForeignKey(
        "registry.Patient", on_delete=models.CASCADE, related_name="lab_panels"
    )
    sample_date = models.DateField()
    albumin_g_l = lab_value("albumin_g_l", "albumin (g/L)", 5, 1)
    total_bilirubin_umol_l = lab_value("total_bilirubin_umol_l", "total bilirubin (µmol/L)", 6, 1)
    inr = lab_value("inr", "INR", 4, 2)
    platelets_10e9_l = lab_value("platelets_10e9_l", "platelets (×10^9/L)", 6, 0)
    alt_u_l = lab_value("alt_u_l", "ALT (U/L)", 6, 0)
    ast_u_l = lab_value("ast_u_l", "AST (U/L)", 6, 0)
    creatinine_umol_l = lab_value("creatinine_umol_l", "creatinine (µmol/L)", 6, 1)
    afp_ng_ml = lab_value("afp_ng_ml", "AFP (ng/mL)", 12, 2)
    pivka_ii_mau_ml = lab_value("pivka_ii_mau_ml", "PIVKA-II (mAU/mL)", 10, 1)
    hbv_dna_iu_ml = lab_value("hbv_dna_iu_ml", "HBV DNA (IU/mL)", 14, 0)
    ascites = models.CharField(max_length=16, choices=c.Ascites.choices, blank=True)
    encephalopathy = models.CharField(max_length=16, choices=c.Encephalopathy.choices, blank=True)

    albi_score = models.FloatField("ALBI score", null=True, blank=True, editable=False)
    albi_grade = models.CharField("ALBI grade", max_length=2, blank=True, editable=False)
    malbi_grade = models.CharField("mALBI grade", max_length=2, blank=True, editable=False)
    child_pugh_score = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    child_pugh_class = models.CharField(
        max_length=1, choices=c.ChildPughClass.choices, blank=True, editable=False
    )
    child_pugh_points = models.JSONField(default=dict, blank=True, editable=False)
    missing_inputs = models.JSONField(default=dict, blank=True, editable=False)
    derivation_versions = models.JSONField(default=dict, blank=True, editable=False)

    event_date_fields = ("sample_date",)

    class Meta:
        ordering = ["patient", "sample_date"]
        indexes = keyset_indexes("lab", "sample_date", "albi_grade", "child_pugh_class")
        verbose_name = "lab panel"

    def __str__(self) -> str:
        return f"Labs {self.sample_date}"

    def derive(self) -> None:
        bilirubin = _float(self.total_bilirubin_umol_l)
        albumin = _float(self.albumin_g_l)
        albi = derive_albi(bilirubin_umol_l=bilirubin, albumin_g_l=albumin)
        self.albi_score = round(albi.score, 3) if albi.score is not None else None
        self.albi_grade = albi.grade or ""
        self.malbi_grade = albi.malbi_grade or ""
        cp = derive_child_pugh(
            bilirubin_umol_l=bilirubin,
            albumin_g_l=albumin,
            inr=_float(self.inr),
            ascites=self.ascites or None,
            encephalopathy=self.encephalopathy or None,
        )
        self.child_pugh_points = dict(cp.points)
        self.child_pugh_score = cp.score
        self.child_pugh_class = cp.child_pugh_class or ""
        self.missing_inputs = {
            key: list(missing)
            for key, missing in (("albi", albi.missing), ("child_pugh", cp.missing))
            if missing
        }
        self.derivation_versions = {"albi": ALBI_VERSION, "child_pugh": CHILD_PUGH_VERSION}


def _float(value) -> float | None:
    return None if value is None else float(value)
