"""Groupings as data: treatment-pattern arms and groups of a patient variable.

Two kinds of grouping, both plain data (JSON in ``GroupingDefinition.spec`` and
``ArmDefinition.pattern``) evaluated here, column-wise, for any number of patients at once:

* a **treatment pattern** (``TreatmentPattern``): clauses over the CRF's treatment vocabulary
  (``TERMS``: treatment types, drug classes, agents), each combined as ``all_of`` /
  ``any_of`` / ``none_of``, over the treatments started in a window of an anchor (the first
  TACE, the index date, or the TACE-refractoriness date of a rule set), optionally requiring
  a minimum number of TACE sessions before the anchor. A patient without the anchor is never
  a member. The four arms of the seed reports are four saved patterns (migration
  ``arm_treatment_patterns``; ``SEED_PATTERNS``).
* a **variable grouping** (``VariableGrouping``): the levels of a categorical patient-level
  column of the analysis dataset (each group one or more levels), or a continuous column cut
  at chosen points.

A window is inclusive at both ends: a treatment started on ``anchor + window_end_days`` is
in it, and so is one started on ``anchor + window_start_days``. The treatment frame is
``TREATMENT_COLUMNS`` (patient_id, modality, day as days since 1970-01-01, drug_class, agent);
``pattern_matches`` answers for a whole frame and ``matches`` for one patient by calling the
same function on a one-patient frame, so there is one implementation. Pure pandas/numpy, no
Django import.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

PATTERN_VERSION = "patterns-v1"
TREATMENT_COLUMNS = ["patient_id", "modality", "day", "drug_class", "agent"]
LOCAL_MODALITIES = ("tace", "haic", "radiotherapy", "local_procedure")
REFRACTORINESS_RULE_SETS = ("jsh_lcsgj_2014", "seed002_operational", "progression_after_n_cycles")
COMBINES = ("all_of", "any_of", "none_of")

_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


class DefinitionError(ValueError):
    """A grouping definition that cannot be evaluated; ``field`` names the part at fault."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class Term:
    """One word of the treatment vocabulary: rows of these modalities (and, for systemic
    therapy, of these drug classes or agents; empty = any)."""

    label: str
    modalities: tuple[str, ...]
    drug_classes: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()


# The CRF's vocabulary (CRF.md §4; registry.choices.DrugClass/SystemicAgent). "mtt" is
# molecular targeted therapy in the wide sense (TKIs and anti-VEGF antibodies); the seed
# report's "TACE + PD-(L)1 + MTT" arm is defined with "tki", as its paper's drugs were TKIs.
TERMS: dict[str, Term] = {
    "tace": Term("TACE", ("tace",)),
    "haic": Term("HAIC", ("haic",)),
    "radiotherapy": Term("radiotherapy", ("radiotherapy",)),
    "local_procedure": Term("other local procedure", ("local_procedure",)),
    "local_therapy": Term("any local therapy (TACE, HAIC, radiotherapy, other)", LOCAL_MODALITIES),
    "systemic": Term("any systemic therapy", ("systemic",)),
    "tki": Term("tyrosine-kinase inhibitor", ("systemic",), ("tki",)),
    "pd1": Term("PD-1 antibody", ("systemic",), ("pd1",)),
    "pdl1": Term("PD-L1 antibody", ("systemic",), ("pdl1",)),
    "pd1_pdl1": Term("PD-1/PD-L1 antibody", ("systemic",), ("pd1", "pdl1")),
    "ctla4": Term("CTLA-4 antibody", ("systemic",), ("ctla4",)),
    "anti_vegf": Term("anti-VEGF antibody", ("systemic",), ("anti_vegf",)),
    "mtt": Term(
        "molecular targeted therapy (TKI or anti-VEGF antibody)",
        ("systemic",),
        ("tki", "anti_vegf"),
    ),
}
AGENT_PREFIX = "agent:"  # "agent:lenvatinib": one systemic agent (registry.choices.SystemicAgent)


def term(name: str) -> Term:
    """The vocabulary term ``name`` (or ``agent:<agent>``)."""
    if name.startswith(AGENT_PREFIX) and len(name) > len(AGENT_PREFIX):
        agent = name[len(AGENT_PREFIX) :]
        return Term(agent, ("systemic",), agents=(agent,))
    try:
        return TERMS[name]
    except KeyError:
        raise DefinitionError(
            "terms",
            f"unknown treatment term {name!r}; known: {', '.join(TERMS)} or agent:<agent>",
        ) from None


@dataclass(frozen=True)
class Clause:
    combine: str  # all_of | any_of | none_of
    terms: tuple[str, ...]

    def text(self) -> str:
        words = {"all_of": "all of", "any_of": "any of", "none_of": "none of"}[self.combine]
        return f"{words} [{', '.join(term(t).label for t in self.terms)}]"


ANCHORS = ("first_tace", "index_date", *(f"refractoriness:{r}" for r in REFRACTORINESS_RULE_SETS))


@dataclass(frozen=True)
class TreatmentPattern:
    """Who is in a treatment-pattern arm: every clause holds over the treatments started in
    [anchor + window_start_days, anchor + window_end_days], and at least
    ``min_tace_before`` TACE sessions started before the anchor day (0: no requirement)."""

    anchor: str
    window_end_days: int
    clauses: tuple[Clause, ...] = ()
    window_start_days: int = 0
    min_tace_before: int = 0

    def __post_init__(self) -> None:
        if self.anchor not in ANCHORS:
            raise DefinitionError(
                "anchor", f"unknown anchor {self.anchor!r}; choose one of {', '.join(ANCHORS)}"
            )
        if self.window_end_days < self.window_start_days:
            raise DefinitionError(
                "window_end_days",
                f"the window ends (day {self.window_end_days}) before it starts "
                f"(day {self.window_start_days})",
            )
        if self.min_tace_before < 0:
            raise DefinitionError("min_tace_before", "must be 0 or more")
        for i, clause in enumerate(self.clauses):
            if clause.combine not in COMBINES:
                raise DefinitionError(
                    f"clauses[{i}].combine",
                    f"{clause.combine!r} is not one of {', '.join(COMBINES)}",
                )
            if not clause.terms:
                raise DefinitionError(f"clauses[{i}].terms", "a clause needs at least one term")
            for name in clause.terms:
                term(name)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TreatmentPattern:
        if not isinstance(data, Mapping):
            raise DefinitionError("pattern", "a treatment pattern is an object")
        unknown = set(data) - {
            "anchor",
            "window_start_days",
            "window_end_days",
            "clauses",
            "min_tace_before",
        }
        if unknown:
            raise DefinitionError("pattern", f"unknown key(s) {', '.join(sorted(unknown))}")
        clauses = []
        for i, clause in enumerate(data.get("clauses") or []):
            if not isinstance(clause, Mapping) or set(clause) != {"combine", "terms"}:
                raise DefinitionError(f"clauses[{i}]", 'each clause is {"combine", "terms"}')
            terms = clause["terms"]
            if isinstance(terms, str) or not isinstance(terms, Sequence):
                raise DefinitionError(f"clauses[{i}].terms", "a list of treatment terms")
            clauses.append(Clause(str(clause["combine"]), tuple(str(t) for t in terms)))
        if "anchor" not in data or "window_end_days" not in data:
            raise DefinitionError("pattern", "anchor and window_end_days are required")
        return cls(
            anchor=str(data["anchor"]),
            window_end_days=_integer("window_end_days", data["window_end_days"]),
            window_start_days=_integer("window_start_days", data.get("window_start_days", 0)),
            clauses=tuple(clauses),
            min_tace_before=_integer("min_tace_before", data.get("min_tace_before", 0)),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "anchor": self.anchor,
            "window_start_days": self.window_start_days,
            "window_end_days": self.window_end_days,
            "clauses": [{"combine": c.combine, "terms": list(c.terms)} for c in self.clauses],
            "min_tace_before": self.min_tace_before,
        }

    def text(self) -> str:
        anchor = {"first_tace": "the first TACE", "index_date": "the index date"}.get(
            self.anchor, f"the TACE-refractoriness date ({self.anchor.split(':', 1)[-1]})"
        )
        parts = [f"has {anchor}"]
        if self.min_tace_before:
            parts.append(f"at least {self.min_tace_before} TACE session(s) before it")
        if self.clauses:
            parts.append(
                f"started from day {self.window_start_days} to day {self.window_end_days} "
                f"after it (inclusive): " + "; ".join(c.text() for c in self.clauses)
            )
        return ", ".join(parts)


def _integer(name: str, value: object) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not float(value).is_integer()
    ):
        raise DefinitionError(name, f"{value!r} is not a whole number of days")
    return int(value)


# The four arms of the seed reports (CRF.md §4), as patterns. The migration
# ``arm_treatment_patterns`` stores these (written out there, frozen) in the four saved arms.
def seed_pattern(rule: str, window_days: int) -> TreatmentPattern:
    clauses = {
        "tace_alone": ("first_tace", (Clause("none_of", ("systemic",)),)),
        "tace_pd1_mtt": ("first_tace", (Clause("all_of", ("pd1_pdl1", "tki")),)),
        "systemic_alone": (
            "index_date",
            (Clause("all_of", ("systemic",)), Clause("none_of", ("local_therapy",))),
        ),
        "local_plus_systemic": ("index_date", (Clause("all_of", ("systemic", "local_therapy")),)),
    }
    if rule not in clauses:
        raise DefinitionError("rule", f"unknown seed rule {rule!r}")
    anchor, body = clauses[rule]
    return TreatmentPattern(anchor=anchor, window_end_days=window_days, clauses=body)


# --- evaluation, for all patients at once ---------------------------------------------------


def pattern_matches(
    pattern: TreatmentPattern,
    treatments: pd.DataFrame,
    patients: pd.DataFrame,
) -> np.ndarray:
    """Boolean per row of ``patients``: does the patient satisfy ``pattern``?

    ``patients`` has ``patient_id`` and the anchor days the pattern needs (NaN: none):
    ``index_day`` for the index date, ``refractory_<rule set>_day`` for a refractoriness
    date; the first TACE comes from ``treatments``. Rows of other patients in ``treatments``
    are ignored.
    """
    ids = patients["patient_id"]
    rows = treatments[treatments["patient_id"].isin(ids)]
    if "agent" not in rows.columns:
        rows = rows.assign(agent="")
    day = rows["day"].to_numpy(dtype=float)
    is_tace = (rows["modality"] == "tace").to_numpy()
    first_tace = rows.loc[is_tace].groupby("patient_id")["day"].min()
    if pattern.anchor == "first_tace":
        anchor = ids.map(first_tace).to_numpy(dtype=float)
    else:
        column = (
            "index_day"
            if pattern.anchor == "index_date"
            else f"refractory_{pattern.anchor.split(':', 1)[1]}_day"
        )
        if column not in patients.columns:
            raise DefinitionError("anchor", f"the patients frame has no {column} column")
        anchor = patients[column].to_numpy(dtype=float)
    by_patient = pd.Series(anchor, index=ids.to_numpy())
    row_anchor = rows["patient_id"].map(by_patient).to_numpy(dtype=float)
    # NaN anchors put no row in the window (comparisons with NaN are False).
    within = (day >= row_anchor + pattern.window_start_days) & (
        day <= row_anchor + pattern.window_end_days
    )
    hit = ~np.isnan(anchor)
    if pattern.min_tace_before:
        before = rows.loc[is_tace & (day < row_anchor), "patient_id"].value_counts()
        hit &= ids.map(before).fillna(0).to_numpy() >= pattern.min_tace_before
    for clause in pattern.clauses:
        present = [
            _any_per_patient(rows, within & _term_rows(rows, term(name)), ids)
            for name in clause.terms
        ]
        if clause.combine == "all_of":
            hit &= np.logical_and.reduce(present)
        elif clause.combine == "any_of":
            hit &= np.logical_or.reduce(present)
        else:
            hit &= ~np.logical_or.reduce(present)
    return hit


def _term_rows(rows: pd.DataFrame, word: Term) -> np.ndarray:
    mask = rows["modality"].isin(word.modalities).to_numpy()
    if word.drug_classes:
        mask &= rows["drug_class"].isin(word.drug_classes).to_numpy()
    if word.agents:
        mask &= rows["agent"].isin(word.agents).to_numpy()
    return mask


def _any_per_patient(rows: pd.DataFrame, mask: np.ndarray, ids: pd.Series) -> np.ndarray:
    return ids.isin(rows["patient_id"].to_numpy()[mask]).to_numpy()


def assign_pattern_groups(
    groups: Sequence[tuple[str, TreatmentPattern]],
    treatments: pd.DataFrame,
    patients: pd.DataFrame,
) -> pd.Series:
    """The group label of each patient (None: in no group). Groups are tried in the order
    given and the first that matches wins: list a combination arm before the arm it extends
    (a "systemic + local" patient also has systemic therapy)."""
    labels = np.full(len(patients), None, dtype=object)
    for label, pattern in reversed(list(groups)):
        labels = np.where(pattern_matches(pattern, treatments, patients), label, labels)
    return pd.Series(labels, index=patients.index, dtype=object)


# --- one patient ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TreatmentRow:
    modality: str  # tace | haic | radiotherapy | local_procedure | systemic
    start_date: dt.date
    drug_class: str = ""  # systemic only: tki | pd1 | pdl1 | ctla4 | anti_vegf
    agent: str = ""


def matches(
    pattern: TreatmentPattern,
    treatments: Sequence[TreatmentRow],
    *,
    index_date: dt.date | None = None,
    refractoriness_dates: Mapping[str, dt.date | None] | None = None,
) -> bool:
    """``pattern_matches`` for one patient's treatment rows (the web path)."""
    rows = pd.DataFrame(
        {
            "patient_id": np.zeros(len(treatments), dtype=np.int64),
            "modality": pd.Series([t.modality for t in treatments], dtype=object),
            "day": np.array([epoch_day(t.start_date) for t in treatments], dtype=float),
            "drug_class": pd.Series([t.drug_class for t in treatments], dtype=object),
            "agent": pd.Series([t.agent for t in treatments], dtype=object),
        },
        columns=TREATMENT_COLUMNS,
    )
    patient = {"patient_id": [0], "index_day": [epoch_day(index_date)]}
    for rule_set in REFRACTORINESS_RULE_SETS:
        day = (refractoriness_dates or {}).get(rule_set)
        patient[f"refractory_{rule_set}_day"] = [epoch_day(day)]
    return bool(pattern_matches(pattern, rows, pd.DataFrame(patient))[0])


def epoch_day(day: dt.date | None) -> float:
    return math.nan if day is None else float(day.toordinal() - _EPOCH_ORDINAL)


# --- groups of a patient variable -------------------------------------------------------------


@dataclass(frozen=True)
class VariableGroup:
    label: str
    values: tuple[str, ...] = ()  # categorical: the levels in this group


@dataclass(frozen=True)
class VariableGrouping:
    """Groups from one analysis-dataset column: ``groups`` of levels (categorical), or
    ``cuts`` of a continuous column into len(cuts) + 1 intervals, each closed below and open
    above ([−∞, c1), [c1, c2), …, [ck, ∞)), labelled "< c1", "c1 to < c2", …, "≥ ck"."""

    variable: str
    groups: tuple[VariableGroup, ...] = ()
    cuts: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if bool(self.groups) == bool(self.cuts):
            raise DefinitionError(
                "groups", f"{self.variable}: give either groups of levels or cut points"
            )
        if self.cuts and list(self.cuts) != sorted(set(self.cuts)):
            raise DefinitionError("cuts", f"cut points must increase: {list(self.cuts)}")
        if self.groups:
            if len(self.groups) < 2:
                raise DefinitionError("groups", "a grouping needs two or more groups")
            seen: dict[str, str] = {}
            for group in self.groups:
                if not group.values:
                    raise DefinitionError("groups", f"group {group.label!r} has no levels")
                for value in group.values:
                    if value in seen:
                        raise DefinitionError(
                            "groups",
                            f"level {value!r} is in both {seen[value]!r} and {group.label!r}",
                        )
                    seen[value] = group.label
            labels = [g.label for g in self.groups]
            if len(set(labels)) != len(labels):
                raise DefinitionError("groups", "group labels must differ")

    @property
    def labels(self) -> list[str]:
        if self.groups:
            return [g.label for g in self.groups]
        cuts = [f"{c:g}" for c in self.cuts]
        middle = [f"{a} to < {b}" for a, b in itertools.pairwise(cuts)]
        return [f"< {cuts[0]}", *middle, f"≥ {cuts[-1]}"]

    def assign(self, frame: pd.DataFrame) -> pd.Series:
        """The group label of each row of ``frame`` (None: missing or not in any group)."""
        if self.variable not in frame.columns:
            raise DefinitionError(
                "variable", f"{self.variable!r} is not a column of the analysis dataset"
            )
        values = frame[self.variable]
        if self.cuts:
            numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
            bins = np.searchsorted(np.asarray(self.cuts, dtype=float), numbers, side="right")
            labels = np.asarray(self.labels, dtype=object)[np.minimum(bins, len(self.cuts))]
            return pd.Series(np.where(np.isnan(numbers), None, labels), index=frame.index)
        text = values.astype(object).where(values.notna(), None).map(level_text)
        mapping = {value: g.label for g in self.groups for value in g.values}
        return text.map(mapping).astype(object).where(text.map(mapping).notna(), None)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VariableGrouping:
        if not isinstance(data, Mapping) or "variable" not in data:
            raise DefinitionError("variable", "a variable grouping names its variable")
        groups = tuple(
            VariableGroup(str(g["label"]), tuple(level_text(v) for v in g["values"]))
            for g in data.get("groups") or []
        )
        try:
            cuts = tuple(float(c) for c in data.get("cuts") or [])
        except (TypeError, ValueError):
            raise DefinitionError(
                "cuts", f"cut points must be numbers: {data.get('cuts')!r}"
            ) from None
        return cls(variable=str(data["variable"]), groups=groups, cuts=cuts)

    def to_dict(self) -> dict[str, Any]:
        if self.cuts:
            return {"variable": self.variable, "cuts": list(self.cuts)}
        return {
            "variable": self.variable,
            "groups": [{"label": g.label, "values": list(g.values)} for g in self.groups],
        }


def level_text(value: object) -> str | None:
    """A category value as text: 1, "1" and 1.0 are the same ECOG or ALBI grade."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


@dataclass(frozen=True)
class PatternGrouping:
    """Treatment-pattern arms, tried in order (the first matching arm wins)."""

    arms: tuple[tuple[str, TreatmentPattern], ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if len(self.arms) < 2:
            raise DefinitionError("arms", "a grouping needs two or more arms")
        labels = [label for label, _ in self.arms]
        if len(set(labels)) != len(labels):
            raise DefinitionError("arms", "arm labels must differ")

    @property
    def labels(self) -> list[str]:
        return [label for label, _ in self.arms]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PatternGrouping:
        arms = []
        for i, arm in enumerate((data or {}).get("arms") or []):
            if not isinstance(arm, Mapping) or "label" not in arm or "pattern" not in arm:
                raise DefinitionError(f"arms[{i}]", 'each arm is {"label", "pattern"}')
            try:
                arms.append((str(arm["label"]), TreatmentPattern.from_dict(arm["pattern"])))
            except DefinitionError as error:
                raise DefinitionError(f"arms[{i}].{error.field}", error.message) from None
        return cls(arms=tuple(arms))

    def to_dict(self) -> dict[str, Any]:
        return {"arms": [{"label": lab, "pattern": p.to_dict()} for lab, p in self.arms]}

    def assign(self, treatments: pd.DataFrame, patients: pd.DataFrame) -> pd.Series:
        return assign_pattern_groups(self.arms, treatments, patients)
