"""The analysis variables: which patient-level columns of the analysis dataset an investigator
may group patients by or put in a Cox or propensity model, and with which codings.

Each ``Variable`` declares its kind — continuous, ordinal (a few ordered numbers, e.g. ECOG),
categorical or binary (0/1) — and its levels where the CRF fixes them. The kind decides the
codings a model may use (``CODINGS_BY_KIND``) and the groupings allowed (levels or cut
points). Labels and units are the data dictionary's (``analytics.reports.dictionary``).

A covariate chosen from this dictionary (``covariate_from_spec``) is an
``analytics.covariates.Covariate`` — the one place a coding is implemented and described: an
equal covariate already registered (the seed's "male", "age", "log10_afp"…) is reused, a new
one gets a name derived from the variable and coding and is registered. ``materialise``
adds the coded columns to a dataset frame; ``check_covariates`` / ``check_grouping`` refuse,
with a message naming the problem, what cannot be fitted in a given cohort (unknown variable,
reference level absent, a constant covariate, an empty group).

Outcome columns (OS/PFS times and events, best response, progression dates) are not
variables here: a baseline model or grouping must not use what happens after the index date.
Pure pandas, no Django.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import pandas as pd

from analytics import covariates as registry
from analytics.covariates import Coding, Covariate
from analytics.groupings import DefinitionError, VariableGrouping, level_text


class Kind(StrEnum):
    CONTINUOUS = "continuous"
    ORDINAL = "ordinal"  # a few ordered numbers: continuous or categorical as chosen
    CATEGORICAL = "categorical"
    BINARY = "binary"  # 0 / 1


CODINGS_BY_KIND: dict[Kind, tuple[Coding, ...]] = {
    Kind.CONTINUOUS: (Coding.CONTINUOUS, Coding.LOG10, Coding.BINARY),
    Kind.ORDINAL: (Coding.CONTINUOUS, Coding.CATEGORICAL, Coding.BINARY),
    Kind.CATEGORICAL: (Coding.CATEGORICAL, Coding.BINARY),
    Kind.BINARY: (Coding.BINARY,),
}
YES_NO = ("0", "1")
REFRACTORY_LEVELS = ("not_refractory", "refractory", "indeterminate")


@dataclass(frozen=True)
class Variable:
    name: str
    kind: Kind
    levels: tuple[str, ...] = ()  # empty for a categorical variable: the levels in the data

    @property
    def label(self) -> str:
        return _describe(self.name).label

    @property
    def unit(self) -> str:
        return _describe(self.name).unit

    @property
    def codings(self) -> tuple[Coding, ...]:
        return CODINGS_BY_KIND[self.kind]

    def levels_in(self, frame: pd.DataFrame | None) -> tuple[str, ...]:
        """The declared levels, or (site, …) those present in ``frame``, sorted."""
        if self.levels or frame is None or self.name not in frame.columns:
            return self.levels
        values = frame[self.name].map(level_text).dropna()
        return tuple(sorted(set(values)))

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "kind": str(self.kind),
            "unit": self.unit,
            "levels": list(self.levels),
            "codings": [str(c) for c in self.codings],
        }


def _describe(name: str):
    # Imported here: analytics.reports imports the report sections, which import this module.
    from analytics.reports.dictionary import describe_column

    return describe_column(name)


_VARIABLES = [
    Variable("sex", Kind.CATEGORICAL, ("female", "male")),
    Variable("age", Kind.CONTINUOUS),
    Variable("site", Kind.CATEGORICAL),
    Variable("ecog_ps", Kind.ORDINAL, ("0", "1", "2", "3", "4")),
    Variable("chronic_hepatitis", Kind.BINARY, YES_NO),
    Variable("hbv", Kind.BINARY, YES_NO),
    Variable("hcv", Kind.BINARY, YES_NO),
    Variable("albi_score", Kind.CONTINUOUS),
    Variable("albi_grade", Kind.CATEGORICAL, ("1", "2", "3")),
    Variable("child_pugh_score", Kind.ORDINAL, tuple(str(i) for i in range(5, 16))),
    Variable("child_pugh_class", Kind.CATEGORICAL, ("A", "B", "C")),
    Variable("bclc_stage", Kind.CATEGORICAL, ("0", "A", "B", "C", "D")),
    Variable("bclc_stage_derived", Kind.CATEGORICAL, ("0", "A", "B", "C", "D")),
    Variable("up_to_seven_within", Kind.BINARY, YES_NO),
    Variable("albumin_g_l", Kind.CONTINUOUS),
    Variable("total_bilirubin_umol_l", Kind.CONTINUOUS),
    Variable("afp_ng_ml", Kind.CONTINUOUS),
    Variable("tumour_number", Kind.CONTINUOUS),
    Variable("max_diameter_cm", Kind.CONTINUOUS),
    Variable("macrovascular_invasion", Kind.BINARY, YES_NO),
    Variable("extrahepatic_spread", Kind.BINARY, YES_NO),
    Variable("arteriovenous_fistula", Kind.BINARY, YES_NO),
    Variable("extrahepatic_blood_supply", Kind.BINARY, YES_NO),
    Variable("refractory_jsh_lcsgj_2014", Kind.CATEGORICAL, REFRACTORY_LEVELS),
    Variable("refractory_seed002_operational", Kind.CATEGORICAL, REFRACTORY_LEVELS),
    Variable("refractory_progression_after_n_cycles", Kind.CATEGORICAL, REFRACTORY_LEVELS),
]
VARIABLES: dict[str, Variable] = {v.name: v for v in _VARIABLES}


def get(name: str) -> Variable:
    try:
        return VARIABLES[name]
    except KeyError:
        raise DefinitionError(
            "variable",
            f"unknown variable {name!r}; a grouping or covariate uses one of "
            f"{', '.join(VARIABLES)}",
        ) from None


# --- covariates from the dictionary -----------------------------------------------------------

SPEC_KEYS = {"variable", "coding", "reference", "above", "positive"}


def covariate_from_spec(spec: Mapping[str, Any], frame: pd.DataFrame | None = None) -> Covariate:
    """The covariate a model spec asks for, e.g. {"variable": "ecog_ps", "coding":
    "categorical", "reference": "0"}, {"variable": "afp_ng_ml", "coding": "log10"},
    {"variable": "age", "coding": "binary", "above": 65} or {"variable": "bclc_stage",
    "coding": "binary", "positive": ["C", "D"]} (the other levels are 0).

    ``frame`` supplies the levels of a variable whose levels are the data's (site). Raises
    ``DefinitionError`` naming the field for an unknown variable, a coding its kind does
    not allow, or a reference / positive level that is not one of its levels.
    """
    if isinstance(spec, str):
        spec = {"variable": spec}
    unknown = set(spec) - SPEC_KEYS
    if unknown:
        raise DefinitionError("covariates", f"unknown key(s) {', '.join(sorted(unknown))}")
    variable = get(str(spec.get("variable")))
    coding_name = spec.get("coding") or variable.codings[0]
    try:
        coding = Coding(coding_name)
    except ValueError:
        coding = None
    if coding not in variable.codings:
        raise DefinitionError(
            "coding",
            f"{variable.name} ({variable.kind}) may be coded "
            f"{' / '.join(variable.codings)}, not {coding_name!r}",
        )
    levels = variable.levels_in(frame)
    label, unit = variable.label, variable.unit
    if coding == Coding.CONTINUOUS:
        candidate = Covariate(
            variable.name, label + (f" ({unit})" if unit else ""), coding, variable.name, unit=unit
        )
    elif coding == Coding.LOG10:
        candidate = Covariate(
            f"log10_{variable.name}", f"{label} (log10 {unit})".replace(" )", ")"), coding,
            variable.name, unit=unit,
        )  # fmt: skip
    elif coding == Coding.CATEGORICAL:
        reference = level_text(spec.get("reference", levels[0] if levels else None))
        if reference not in levels:
            raise DefinitionError(
                "reference",
                f"{reference!r} is not a level of {variable.name} ({', '.join(levels) or 'none'})",
            )
        # Deterministic names (runs record them): the variable, the reference, and for levels
        # read from the data (site) a digest of them.
        name = f"{variable.name}_cat_ref_{_slug(reference)}"
        if not variable.levels:
            name += "_" + hashlib.sha256("\x1f".join(levels).encode()).hexdigest()[:8]
        candidate = Covariate(
            name, label, coding, variable.name, levels=levels, reference=reference
        )
    else:
        candidate = _binary(variable, spec, levels)
    return _registered(candidate)


def _binary(variable: Variable, spec: Mapping[str, Any], levels: tuple[str, ...]) -> Covariate:
    if spec.get("above") is not None:
        if variable.kind not in (Kind.CONTINUOUS, Kind.ORDINAL):
            raise DefinitionError("above", f"{variable.name} is not a number to split")
        try:
            above = float(spec["above"])
        except (TypeError, ValueError):
            raise DefinitionError("above", f"{spec['above']!r} is not a number") from None
        unit = variable.unit
        return Covariate(
            f"{variable.name}_gt_{_slug(f'{above:g}')}",
            f"{variable.label} > {above:g}{f' {unit}' if unit else ''} (vs ≤ {above:g})",
            Coding.BINARY,
            variable.name,
            unit=unit,
            positive=(f"> {above:g}",),
            negative=(f"≤ {above:g}",),
            above=above,
        )
    if variable.kind == Kind.BINARY and not spec.get("positive"):
        positive = ("1",)
    else:
        positive = tuple(level_text(v) for v in spec.get("positive") or ())
    if not positive:
        raise DefinitionError(
            "positive", f"a binary {variable.name} needs the levels coded 1 or a value to split at"
        )
    outside = [p for p in positive if p not in levels]
    if outside:
        raise DefinitionError(
            "positive", f"{', '.join(outside)} not a level of {variable.name} ({', '.join(levels)})"
        )
    negative = tuple(level for level in levels if level not in positive)
    if not negative:
        raise DefinitionError("positive", f"every level of {variable.name} would be coded 1")
    if variable.kind == Kind.BINARY:
        name, label = variable.name, variable.label
    else:
        name = f"{variable.name}_{_slug('_'.join(positive))}"
        label = f"{variable.label}: {' or '.join(positive)} (vs {'/'.join(negative)})"
    return Covariate(
        name, label, Coding.BINARY, variable.name, positive=positive, negative=negative
    )


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower().replace("-", "m").replace(".", "p")).strip("_")


def _same_coding(a: Covariate, b: Covariate) -> bool:
    fields = ("coding", "source", "positive", "negative", "above", "levels", "reference")
    return all(getattr(a, f) == getattr(b, f) for f in fields)


def _registered(candidate: Covariate) -> Covariate:
    """An equal covariate already in the registry (its name and label: the seed's "male",
    "age", "log10_afp"…), else ``candidate``, registered."""
    for existing in registry.COVARIATES.values():
        if _same_coding(existing, candidate):
            return existing
    return registry.register(candidate)


def materialise(frame: pd.DataFrame, covariates: Iterable[Covariate]) -> pd.DataFrame:
    """``frame`` with each covariate's coded column (a categorical one: its source column
    under the covariate's name), computed by the covariate itself. Returns a copy."""
    frame = frame.copy()
    for covariate in covariates:
        if covariate.source not in frame.columns:
            raise DefinitionError(
                "covariates", f"{covariate.source!r} is not a column of the analysis dataset"
            )
        if covariate.coding == Coding.CATEGORICAL:
            if covariate.name != covariate.source:
                frame[covariate.name] = frame[covariate.source]
        else:
            frame[covariate.name] = covariate.derive(frame)
    return frame


def check_covariates(frame: pd.DataFrame, covariates: Sequence[Covariate]) -> list[str]:
    """What makes these covariates unusable in this cohort (empty: nothing), each message
    naming the covariate: not in the dataset, no known value, constant, reference level absent."""
    problems = []
    data = materialise(frame, covariates)
    for covariate in covariates:
        design = covariate.design(data)
        if covariate.coding == Coding.CATEGORICAL:
            seen = set(data[covariate.name].map(level_text).dropna())
            if covariate.reference not in seen:
                problems.append(
                    f"{covariate.label}: no patient in the cohort has the reference level "
                    f"{covariate.reference!r} (levels present: {', '.join(sorted(seen)) or 'none'})"
                )
                continue
            if len(seen & set(covariate.levels)) < 2:
                problems.append(f"{covariate.label}: only one level in the cohort")
            continue
        values = design[covariate.name].dropna()
        if values.empty:
            problems.append(f"{covariate.label}: no patient in the cohort has a value")
        elif values.nunique() < 2:
            problems.append(
                f"{covariate.label}: constant in the cohort (every known value is "
                f"{values.iloc[0]:g})"
            )
    return problems


# --- groupings over variables -----------------------------------------------------------------


def check_grouping_variable(grouping: VariableGrouping) -> None:
    """A variable grouping fits its variable's kind: levels that exist, cut points on numbers."""
    variable = get(grouping.variable)
    if grouping.cuts and variable.kind not in (Kind.CONTINUOUS, Kind.ORDINAL):
        raise DefinitionError("cuts", f"{variable.name} ({variable.kind}) is not cut at points")
    if grouping.groups and variable.kind == Kind.CONTINUOUS:
        raise DefinitionError("groups", f"{variable.name} is continuous: group it by cut points")
    if grouping.groups and variable.levels:
        unknown = [v for g in grouping.groups for v in g.values if v not in variable.levels]
        if unknown:
            raise DefinitionError(
                "groups",
                f"{', '.join(unknown)} not a level of {variable.name} "
                f"({', '.join(variable.levels)})",
            )


def check_groups(labels: pd.Series, expected: Sequence[str]) -> list[str]:
    """Every group must hold a patient: the empty ones, named (empty list: none)."""
    counts = labels.value_counts()
    return [
        f"group {label!r} has no patient in the cohort"
        for label in expected
        if int(counts.get(label, 0)) == 0
    ]


def group_sizes(labels: pd.Series, expected: Sequence[str]) -> dict[str, int]:
    """Patients per group, in the grouping's order, plus those in no group (the preview)."""
    counts = labels.value_counts()
    sizes = {label: int(counts.get(label, 0)) for label in expected}
    sizes["(in no group)"] = int(labels.isna().sum())
    return sizes


__all__ = [
    "CODINGS_BY_KIND",
    "VARIABLES",
    "Kind",
    "Variable",
    "check_covariates",
    "check_grouping_variable",
    "check_groups",
    "covariate_from_spec",
    "get",
    "group_sizes",
    "materialise",
]
