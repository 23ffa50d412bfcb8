"""The covariate registry: every covariate a model may use, declared once, as data.

A hazard ratio means nothing without its coding, and the coding printed in a report must be
the coding the dataset used. So each covariate is one ``Covariate`` record — name, label,
coding (continuous, log10, binary split, categorical with a reference level), source column —
and the analysis dataset (``selectors``), the report's frame (``reports.context``), the Cox
section, the propensity-score model, the run form, the API and the data dictionary all read
it from ``COVARIATES``. Nothing else derives or describes a covariate.

Investigator-defined analyses add covariates by adding records (``register``); no code path
branches on a covariate's name. Pure pandas, no Django: the report layer imports it.

Seed 002 (ANALYSIS.md): age (continuous), gender, Child-Pugh (A vs B), BCLC (A/B vs C), maximum
tumour diameter (continuous), number of tumours (single vs multiple), log-transformed AFP,
ALBI score (continuous). The seed had no Child-Pugh C or BCLC D patients; a registry does, so
the binary splits say where they go: "B or C vs A", "C or D vs 0/A/B".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

COVARIATES_VERSION = "1.0"


class Coding(StrEnum):
    CONTINUOUS = "continuous"
    LOG10 = "log10"  # log10 of a positive value; ≤ 0 is missing
    BINARY = "binary"  # a split of a categorical or numeric source into 1 / 0
    CATEGORICAL = "categorical"  # k − 1 indicators against the reference level


@dataclass(frozen=True)
class Covariate:
    """One model covariate.

    ``name`` is the analysis-dataset column holding the coded value (for a categorical
    covariate, the source column itself: its design columns are ``name[level]``).
    Binary: ``positive`` source values are 1 and ``negative`` ones 0 (anything else is
    missing), or, with ``above``, a number > ``above`` is 1 (``positive``/``negative`` then
    name the two groups). Categorical: ``levels`` in
    order and the ``reference`` level every other level is compared with.
    """

    name: str
    label: str
    coding: Coding
    source: str
    unit: str = ""
    positive: tuple[str, ...] = ()
    negative: tuple[str, ...] = ()
    above: float | None = None
    levels: tuple[str, ...] = ()
    reference: str | None = None

    def __post_init__(self) -> None:
        if self.coding == Coding.CATEGORICAL and (
            self.reference is None or self.reference not in self.levels
        ):
            raise ValueError(f"{self.name}: a categorical covariate needs a reference level")
        if self.coding == Coding.BINARY and not (self.positive and self.negative):
            raise ValueError(f"{self.name}: a binary covariate needs the values coded 1 and 0")

    @property
    def coding_text(self) -> str:
        """The coding as a report prints it next to the hazard ratio."""
        if self.coding == Coding.CONTINUOUS:
            return f"continuous, per {self.unit or 'unit'}"
        if self.coding == Coding.LOG10:
            return f"log10 of {self.unit}, continuous (per 10-fold increase)"
        if self.coding == Coding.BINARY:
            if self.above is not None:
                return (
                    f"{self.positive[0]} (> {self.above:g} {self.unit}) = 1, {self.negative[0]} = 0"
                )
            return f"{' or '.join(self.positive)} = 1, {'/'.join(self.negative)} = 0"
        others = ", ".join(level for level in self.levels if level != self.reference)
        return f"categorical: {others} each vs {self.reference} (reference)"

    def derive(self, frame: pd.DataFrame, source: str | None = None) -> pd.Series:
        """The coded column from its source column (``source`` overrides ``self.source``,
        e.g. the cohort's choice of BCLC stage used or derived). Not for categorical."""
        values = frame[source or self.source]
        if self.coding == Coding.CONTINUOUS:
            return pd.to_numeric(values, errors="coerce").astype(float)
        if self.coding == Coding.LOG10:
            numbers = pd.to_numeric(values, errors="coerce").astype(float)
            return np.log10(numbers.where(numbers > 0))
        if self.coding == Coding.BINARY:
            if self.above is not None:
                numbers = pd.to_numeric(values, errors="coerce").astype(float)
                return (numbers > self.above).astype(float).where(numbers.notna())
            text = values.astype(object).where(values.notna(), None).map(_text)
            mapping = {**dict.fromkeys(self.positive, 1.0), **dict.fromkeys(self.negative, 0.0)}
            return text.map(mapping).astype(float)
        raise ValueError(f"{self.name} is categorical: use design_columns()")

    def design_columns(self) -> list[str]:
        """The numeric model columns of this covariate (k − 1 indicators if categorical)."""
        if self.coding != Coding.CATEGORICAL:
            return [self.name]
        return [f"{self.name}[{level}]" for level in self.levels if level != self.reference]

    def design(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The design columns from ``frame`` (which holds ``name``); missing stays missing."""
        if self.coding != Coding.CATEGORICAL:
            return pd.DataFrame({self.name: pd.to_numeric(frame[self.name], errors="coerce")})
        text = frame[self.name].astype(object).where(frame[self.name].notna(), None).map(_text)
        known = text.isin(self.levels)
        return pd.DataFrame(
            {
                f"{self.name}[{level}]": (text == level).astype(float).where(known)
                for level in self.levels
                if level != self.reference
            },
            index=frame.index,
        )

    def column_label(self, column: str) -> str:
        """The printed label of one design column: the level for a categorical covariate."""
        if self.coding == Coding.CATEGORICAL and column != self.name:
            level = column[len(self.name) + 1 : -1]
            return f"{self.label}: {level} (vs {self.reference})"
        return self.label

    def describe(self) -> dict[str, object]:
        """What a run records about the covariate (parameters and provenance)."""
        return {
            "name": self.name,
            "label": self.label,
            "coding": self.coding_text,
            "kind": str(self.coding),
            "source": self.source,
            "reference": self.reference,
        }


def _text(value: object) -> str | None:
    """Category values as text: 1 and "1" and 1.0 are the same ALBI grade."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


COVARIATES: dict[str, Covariate] = {}


def register(covariate: Covariate) -> Covariate:
    """Add a covariate to the registry (names are unique and never reused for another
    coding: runs record them)."""
    if covariate.name in COVARIATES and COVARIATES[covariate.name] != covariate:
        raise ValueError(f"covariate {covariate.name!r} is already registered differently")
    COVARIATES[covariate.name] = covariate
    return covariate


for _covariate in (
    Covariate("age", "Age (years)", Coding.CONTINUOUS, "age", unit="year"),
    Covariate(
        "male",
        "Male gender (vs female)",
        Coding.BINARY,
        "sex",
        positive=("male",),
        negative=("female",),
    ),
    Covariate(
        "child_pugh_b",
        "Child-Pugh B or C (vs A)",
        Coding.BINARY,
        "child_pugh_class",
        positive=("B", "C"),
        negative=("A",),
    ),
    Covariate(
        "bclc_c",
        "BCLC stage C or D (vs 0/A/B)",
        Coding.BINARY,
        "bclc_stage",
        positive=("C", "D"),
        negative=("0", "A", "B"),
    ),
    Covariate(
        "max_diameter_cm",
        "Maximum tumour diameter (cm)",
        Coding.CONTINUOUS,
        "max_diameter_cm",
        unit="cm",
    ),
    Covariate(
        "tumour_multiple",
        "Multiple tumours (vs single)",
        Coding.BINARY,
        "tumour_number",
        positive=("multiple",),
        negative=("single",),
        above=1,
        unit="tumours",
    ),
    Covariate("log10_afp", "AFP (log10 ng/mL)", Coding.LOG10, "afp_ng_ml", unit="ng/mL"),
    Covariate("albi_score", "ALBI score", Coding.CONTINUOUS, "albi_score", unit="point"),
    Covariate(
        "child_pugh_class",
        "Child-Pugh class",
        Coding.CATEGORICAL,
        "child_pugh_class",
        levels=("A", "B", "C"),
        reference="A",
    ),
    Covariate(
        "albi_grade",
        "ALBI grade",
        Coding.CATEGORICAL,
        "albi_grade",
        levels=("1", "2", "3"),
        reference="1",
    ),
):
    register(_covariate)

# Seed 002's Cox covariates, in the order of its methods section: the default of a run.
SEED002_COVARIATES: tuple[str, ...] = (
    "age",
    "male",
    "child_pugh_b",
    "bclc_c",
    "max_diameter_cm",
    "tumour_multiple",
    "log10_afp",
    "albi_score",
)


def get(name: str) -> Covariate:
    try:
        return COVARIATES[name]
    except KeyError:
        raise ValueError(f"unknown covariate {name!r}; known: {', '.join(COVARIATES)}") from None


def for_column(column: str) -> Covariate | None:
    """The covariate a design column belongs to (``child_pugh_class[B]`` → Child-Pugh class)."""
    return COVARIATES.get(column) or COVARIATES.get(column.split("[", 1)[0])


def column_label(column: str) -> str:
    covariate = for_column(column)
    return covariate.column_label(column) if covariate else column


def derived_covariates() -> list[Covariate]:
    """The covariates stored as a coded column of the analysis dataset (not categorical)."""
    return [c for c in COVARIATES.values() if c.coding != Coding.CATEGORICAL and c.name != c.source]


def derive_columns(
    frame: pd.DataFrame,
    *,
    sources: Mapping[str, str] | None = None,
    only_missing: bool = False,
) -> pd.DataFrame:
    """Add every derived covariate's coded column to ``frame`` (in place, returned).

    ``sources`` overrides a covariate's source column (the cohort's BCLC source);
    ``only_missing`` keeps columns already present (a dataset exported with them).
    Covariates whose source is absent are skipped.
    """
    sources = dict(sources or {})
    for covariate in derived_covariates():
        source = sources.get(covariate.name, covariate.source)
        if only_missing and covariate.name in frame.columns:
            continue
        if source in frame.columns:
            frame[covariate.name] = covariate.derive(frame, source)
    return frame


@dataclass(frozen=True)
class Design:
    """Model columns built from covariates: ``frame`` holds them, ``terms`` maps each
    covariate to its columns (for the per-term PH test), ``labels`` gives each column's
    printed label and ``missing`` the covariates not in the data."""

    frame: pd.DataFrame
    terms: dict[str, list[str]]
    labels: dict[str, str]
    missing: list[str]

    @property
    def columns(self) -> list[str]:
        return [column for columns in self.terms.values() for column in columns]


def design(frame: pd.DataFrame, names: Iterable[str]) -> Design:
    """The numeric design of ``names`` over ``frame``'s rows (same index)."""
    parts = []
    terms: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    missing = []
    for name in dict.fromkeys(names):
        covariate = get(name)
        if covariate.name not in frame.columns:
            missing.append(name)
            continue
        part = covariate.design(frame)
        parts.append(part)
        terms[name] = list(part.columns)
        labels.update({column: covariate.column_label(column) for column in part.columns})
    data = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=frame.index)
    return Design(frame=data, terms=terms, labels=labels, missing=missing)


def choices(names: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """(name, "label — coding") pairs for a form or an API schema."""
    return [
        (c.name, f"{c.label} — {c.coding_text}")
        for c in COVARIATES.values()
        if names is None or c.name in names
    ]
