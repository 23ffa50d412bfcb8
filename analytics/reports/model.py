"""The report as data: sections of tables and figures, rendered later to HTML, PDF, XLSX, CSV.

Computing a report and rendering it are separate steps so that every output format shows the
same numbers: the renderers only lay out what is here. Table cells are display-ready text,
formatted by ``analytics.stats.formatting`` (percent 2 decimals, statistics 3, p 3); cells
built with ``analytics.reports.cells`` also carry the unrounded numbers, which the XLSX and
CSV files store as numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class Table:
    """One table: ``key`` is unique in the report and names its CSV file and XLSX sheet.

    ``groups`` puts a spanning header above the columns, as (label, number of columns); the
    columns under a group are named "<label>: <column>" and printed as "<column>".
    ``in_document`` False keeps a table out of the PDF/HTML (its content is already drawn,
    e.g. the numbers at risk under a Kaplan–Meier curve) but in the XLSX and CSV files.
    """

    key: str
    title: str
    frame: pd.DataFrame = field(repr=False)
    footnotes: list[str] = field(default_factory=list)
    groups: tuple[tuple[str, int], ...] = ()
    in_document: bool = True


@dataclass(frozen=True)
class Figure:
    """One figure in both formats: PNG for the PDF and spreadsheets, SVG for the web page."""

    key: str
    title: str
    png: bytes = field(repr=False)
    svg: bytes = field(repr=False)


@dataclass
class Section:
    """A numbered part of a report.

    ``unavailable`` holds a human explanation when the data cannot support the section (an
    empty arm, no events, too few patients to match); such a section has no tables or
    figures, and the renderers print the explanation instead of failing the whole report.
    """

    key: str
    title: str
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unavailable: str | None = None
    # What a reader must know that the section could not compute as planned (a model not
    # estimable, a fallback method used); the run ends "Succeeded with warnings".
    warnings: list[str] = field(default_factory=list)

    @property
    def available(self) -> bool:
        return self.unavailable is None

    @property
    def explanation(self) -> str:
        return self.unavailable or ""

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)

    def figure(self, key: str) -> Figure:
        return next(f for f in self.figures if f.key == key)


@dataclass
class Report:
    """A computed report: provenance first (what was analysed, how), then its sections.

    ``study`` is what a reader needs first (cohort, arms with their sizes, data cut-off);
    ``methods`` are the paragraphs of the statistical methods, written to be pasted into a
    manuscript; ``flow`` the patient flow steps (``{"step", "n", "excluded", "by_arm"}``) and
    ``endpoint_exclusions`` the patients left out of each endpoint with the reason;
    ``dictionary`` describes the analysis dataset's columns. Methods, provenance and the
    dictionary close the report.
    """

    title: str
    provenance: dict[str, Any]
    sections: list[Section]
    template: str = "custom"
    methods: list[str] = field(default_factory=list)
    flow: list[dict[str, Any]] = field(default_factory=list)
    endpoint_exclusions: dict[str, dict[str, int]] = field(default_factory=dict)
    study: list[tuple[str, str]] = field(default_factory=list)
    dictionary: pd.DataFrame | None = field(default=None, repr=False)

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)

    def warnings(self) -> list[str]:
        """Every section that could not be computed, or not as planned, in one line each."""
        found = []
        for section in self.sections:
            if section.unavailable:
                found.append(f"{section.title}: not computed — {section.unavailable}")
            found.extend(f"{section.title}: {warning}" for warning in section.warnings)
        return found

    def tables(self) -> Iterator[Table]:
        for section in self.sections:
            yield from section.tables

    def figures(self) -> Iterator[Figure]:
        for section in self.sections:
            yield from section.figures

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (tables as rows of text, no figure bytes) for the run record."""
        return {
            "title": self.title,
            "template": self.template,
            "warnings": self.warnings(),
            "study": [{"label": label, "text": text} for label, text in self.study],
            "methods": list(self.methods),
            "sections": [
                {
                    "key": s.key,
                    "title": s.title,
                    "available": s.available,
                    "unavailable": s.unavailable,
                    "notes": list(s.notes),
                    "warnings": list(s.warnings),
                    "figures": [{"key": f.key, "title": f.title} for f in s.figures],
                    "tables": [_table_dict(t) for t in s.tables],
                }
                for s in self.sections
            ],
        }


def _table_dict(table: Table) -> dict[str, Any]:
    frame = table.frame.astype(object).where(table.frame.notna(), None)
    return {
        "key": table.key,
        "title": table.title,
        "columns": [str(c) for c in frame.columns],
        "rows": frame.to_numpy().tolist(),
        "footnotes": list(table.footnotes),
    }
