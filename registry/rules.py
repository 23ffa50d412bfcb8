"""Ranges of the case report form (CRF.md), the one place where they are written down.

A *hard* range rejects the value with a message naming the field, the value and the range; a
*soft* range accepts it and raises a data-quality flag. Model fields take their validators from
here and the data-quality pass reads the soft ranges from here, so the two can never disagree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible


@dataclass(frozen=True)
class Range:
    label: str
    unit: str
    hard: tuple[float, float] | None = None
    soft: tuple[float, float] | None = None


def fmt(value: float | Decimal | int) -> str:
    number = float(value)
    return f"{number:,.0f}" if number.is_integer() and abs(number) >= 10000 else f"{number:g}"


def describe(label: str, unit: str, bounds: tuple[float, float]) -> str:
    unit_text = f" {unit}" if unit else ""
    return f"{fmt(bounds[0])}–{fmt(bounds[1])}{unit_text}"


@deconstructible
class HardRange:
    """Field validator for a hard range; ``key`` names an entry of ``RANGES``."""

    def __init__(self, key: str) -> None:
        self.key = key

    def __call__(self, value) -> None:
        if value is None:
            return
        spec = RANGES[self.key]
        low, high = spec.hard
        if not (low <= float(value) <= high):
            unit_text = f" {spec.unit}" if spec.unit else ""
            message = (
                f"{spec.label} {fmt(value)}{unit_text} is outside the allowed range "
                f"{describe(spec.label, spec.unit, spec.hard)}."
            )
            # With params, Django %-formats the message: a "%" unit must be escaped.
            raise ValidationError(
                message.replace("%", "%%"), code="hard_range", params={"value": value}
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HardRange) and other.key == self.key


def soft_range_message(key: str, value) -> str | None:
    """The data-quality warning for ``value``, or None when it is inside the soft range."""
    spec = RANGES[key]
    if value is None or spec.soft is None:
        return None
    low, high = spec.soft
    if low <= float(value) <= high:
        return None
    unit_text = f" {spec.unit}" if spec.unit else ""
    return (
        f"{spec.label} {fmt(value)}{unit_text} is outside the expected range "
        f"{describe(spec.label, spec.unit, spec.soft)}; please check it."
    )


RANGES: dict[str, Range] = {
    "birth_year": Range("Birth year", "", hard=(1900, 2100)),
    "age_at_index": Range("Age at index", "years", soft=(18, 95)),
    "body_weight_kg": Range("Body weight", "kg", hard=(25, 250)),
    "ecog_ps": Range("ECOG performance status", "", hard=(0, 4)),
    "albumin_g_l": Range("Albumin", "g/L", hard=(10, 60), soft=(25, 55)),
    "total_bilirubin_umol_l": Range("Total bilirubin", "µmol/L", hard=(1, 1000), soft=(3, 100)),
    "inr": Range("INR", "", hard=(0.5, 10), soft=(0.8, 3)),
    "platelets_10e9_l": Range("Platelets", "×10^9/L", hard=(1, 2000), soft=(30, 600)),
    "alt_u_l": Range("ALT", "U/L", hard=(1, 10000), soft=(5, 500)),
    "ast_u_l": Range("AST", "U/L", hard=(1, 10000), soft=(5, 500)),
    "creatinine_umol_l": Range("Creatinine", "µmol/L", hard=(10, 2000), soft=(40, 200)),
    "afp_ng_ml": Range("AFP", "ng/mL", hard=(0.1, 10_000_000)),
    "pivka_ii_mau_ml": Range("PIVKA-II", "mAU/mL", hard=(1, 1_000_000)),
    "hbv_dna_iu_ml": Range("HBV DNA", "IU/mL", hard=(0, 10_000_000_000)),
    "max_diameter_cm": Range("Maximum tumour diameter", "cm", hard=(0.5, 30)),
    "tumour_number": Range("Number of tumours", "", hard=(1, 100)),
    "tace_dose_mg": Range("Chemotherapy dose", "mg", hard=(0, 150)),
    "lipiodol_ml": Range("Lipiodol", "mL", hard=(0, 50)),
    "microsphere_size_um": Range("Microsphere size", "µm", hard=(10, 1500)),
    "fu_g_m2": Range("5-FU", "g/m²", hard=(0, 10)),
    "platinum_mg_m2": Range("Cisplatin/oxaliplatin", "mg/m²", hard=(0, 300)),
    "infusion_hours": Range("Infusion duration", "h", hard=(0, 168)),
    "rt_total_dose_gy": Range("Total radiotherapy dose", "Gy", hard=(1, 100)),
    "rt_fractions": Range("Fractions", "", hard=(1, 60)),
    "systemic_dose": Range("Dose", "", hard=(0, 5000)),
    "lesion_diameter_mm": Range("Lesion diameter", "mm", hard=(0, 300)),
    "treated_viable_fraction_pct": Range(
        "Viable fraction of the treated tumour", "%", hard=(0, 100)
    ),
    "ae_grade": Range("CTCAE grade", "", hard=(1, 5)),
    "hbv_dna_untreated_limit": Range("HBV DNA without antiviral therapy", "IU/mL", soft=(0, 1e5)),
}

# Unit conversion on entry: the registry stores the canonical unit only. Model field → the
# name it is entered under (an import column; ``<name>_unit`` holds its unit) and unit → factor
# to the canonical unit, the canonical unit first (CRF.md §2).
UNIT_NAMES: dict[str, str] = {
    "total_bilirubin_umol_l": "total_bilirubin",
    "albumin_g_l": "albumin",
    "creatinine_umol_l": "creatinine",
}
UNIT_FACTORS: dict[str, dict[str, Decimal]] = {
    "total_bilirubin_umol_l": {"umol/L": Decimal(1), "mg/dL": Decimal("17.1")},
    "albumin_g_l": {"g/L": Decimal(1), "g/dL": Decimal(10)},
    "creatinine_umol_l": {"umol/L": Decimal(1), "mg/dL": Decimal("88.4")},
}


def unit_field_name(field: str) -> str:
    """The name of the form/API field that carries the unit of ``field`` (e.g. albumin_unit)."""
    return f"{UNIT_NAMES[field]}_unit"


def _unit_code(field: str, unit: str | None) -> str:
    """The accepted unit ``unit`` names: the micro sign or letter u, any letter case."""
    factors = UNIT_FACTORS[field]
    if unit is None or not str(unit).strip():
        return next(iter(factors))
    text = str(unit).strip().replace("µ", "u").replace("μ", "u")
    for code in factors:
        if code.lower() == text.lower():
            return code
    raise ValidationError(
        {field: f"Unit {unit!r} is not accepted; use one of {', '.join(factors)}."}
    )


def stored_places(field: str) -> int:
    """Decimal places the lab panel stores ``field`` with: the model field is the one place."""
    from django.apps import apps  # the models import this module

    return apps.get_model("registry", "LabPanel")._meta.get_field(field).decimal_places


def to_canonical(
    field: str, value: float | Decimal | str | None, unit: str | None
) -> Decimal | None:
    """An entered value of ``field`` in ``unit``, as the registry stores it (CRF.md §2).

    Converted at full precision (decimal arithmetic: 1.997 mg/dL bilirubin is 34.1487 µmol/L)
    and rounded once, half away from zero, to the stored precision (34.1): rounding twice, first
    to two places (34.15) and then to one (34.2), would change a Child-Pugh point. Web form, API
    and import all call this; the scores are computed from what it returns. An empty unit means
    the canonical one (a value with more places than stored is rounded the same way, once); an
    unknown unit is refused naming the field and the accepted units.
    """
    if value is None:
        return None
    factor = UNIT_FACTORS[field][_unit_code(field, unit)]
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    step = Decimal(1).scaleb(-stored_places(field))
    return (number * factor).quantize(step, rounding=ROUND_HALF_UP)


def not_in_future(value: dt.date | None) -> None:
    if value is not None and value > dt.date.today():
        raise ValidationError(f"Date {value.isoformat()} is in the future.", code="future_date")
