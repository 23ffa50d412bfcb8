"""Render a computed report: HTML (page or fragment), PDF, XLSX, CSV, figure and dataset files.

Every format is laid out from the same :class:`~analytics.reports.model.Report`, so they show
the same numbers. HTML is generated here in Python (escaped with ``html.escape``) rather than
with Django templates, so reports render in a worker or a test without Django. A report
reads like a manuscript's results: the study (cohort, arms, cut-off) first, then the tables
and figures, and last the methods and provenance (settings, versions, hashes, dictionary).
The XLSX and CSV files hold every number as a number (see ``analytics.reports.cells``), and
all their text passes through ``registry.spreadsheets.safe_cell``, the project's one rule
against spreadsheet formula injection.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from analytics.reports.cells import SUB_ROW, Cell, as_cell
from analytics.reports.datasets import dataset_files
from analytics.reports.dictionary import default_dictionary
from analytics.reports.model import Figure, Report, Section, Table
from registry.spreadsheets import safe_cell

__all__ = [
    "dataset_files",
    "default_dictionary",
    "figure_files",
    "render_csvs",
    "render_html",
    "render_pdf",
    "render_xlsx",
]

# Provenance keys in reading order with their labels; other keys follow under their own name.
PROVENANCE_FIELDS: tuple[tuple[str, str], ...] = (
    ("run_id", "Run"),
    ("template", "Report template"),
    ("registry_version", "Registry version"),
    ("cutoff_date", "Data cut-off date"),
    ("cohort", "Cohort definition"),
    ("control_arm", "Control arm definition"),
    ("treatment_arm", "Treatment arm definition"),
    ("rule_sets", "Rule sets"),
    ("endpoints", "Endpoints"),
    ("covariates", "Covariates and coding"),
    ("matching", "Matching"),
    ("resistance_cycles", "TACE resistance assessed after (cycles)"),
    ("package_versions", "Package versions"),
    ("dataset_sha256", "Analysis dataset SHA-256"),
    ("dataset_rows", "Analysis dataset rows"),
    ("started_by", "Started by"),
    ("created_by", "Started by"),
    ("created_at", "Created at"),
    ("started_at", "Started at"),
)
# Printed elsewhere in the report (flow section, title) or bookkeeping of the run.
PROVENANCE_SKIP = frozenset({"title", "patient_flow", "endpoint_exclusions", "attempts", "timings"})
METHODS_TITLE = "Methods and provenance"

CSS = """
.hcc-report { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; color: #222; }
.hcc-report h1 { font-size: 16pt; margin: 0 0 0.4em; }
.hcc-report h2 { font-size: 13pt; margin: 1.2em 0 0.4em; border-bottom: 1px solid #999; }
.hcc-report h3 { font-size: 11pt; margin: 1em 0 0.3em; }
.hcc-report table { border-collapse: collapse; margin: 0.4em 0 1em; width: 100%; }
.hcc-report caption { text-align: left; font-weight: bold; padding: 0.2em 0; }
.hcc-report th, .hcc-report td { border-top: 1px solid #ccc; padding: 2px 5px;
  text-align: left; vertical-align: top; }
.hcc-report thead th { border-bottom: 1px solid #333; background: #f2f2f2; }
.hcc-report thead tr.groups th { text-align: center; border-bottom: 1px solid #999; }
.hcc-report tfoot td { border-top: 1px solid #333; font-size: 0.85em; color: #444; }
.hcc-report td.sub { padding-left: 1.5em; }
.hcc-report dl.study, .hcc-report dl.provenance { display: grid;
  grid-template-columns: max-content auto; gap: 2px 12px; }
.hcc-report dl dt { font-weight: bold; }
.hcc-report dl dd { margin: 0; overflow-wrap: anywhere; }
.hcc-report dl.study { margin: 0 0 1em; }
.hcc-report .unavailable { background: #fff4e5; border-left: 4px solid #e69500;
  padding: 0.4em 0.8em; }
.hcc-report figure { margin: 0.5em 0 1.2em; page-break-inside: avoid; }
.hcc-report figure svg, .hcc-report figure img { max-width: 100%; height: auto; }
.hcc-report figcaption { font-size: 0.9em; font-weight: bold; }
.hcc-report .notes { font-size: 0.9em; color: #333; }
.hcc-report td.num { white-space: nowrap; }
.hcc-report p.methods { text-align: justify; }
"""
PRINT_CSS = """
@page { size: A4; margin: 14mm 12mm 16mm;
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font-size: 8pt;
    font-family: "DejaVu Sans", Arial, sans-serif; }
  @bottom-left { content: string(report-title); font-size: 8pt;
    font-family: "DejaVu Sans", Arial, sans-serif; } }
.hcc-report { font-size: 8.5pt; }
.hcc-report h1 { string-set: report-title content(); font-size: 15pt; }
.hcc-report h2 { page-break-after: avoid; font-size: 12pt; margin-top: 1em; }
.hcc-report caption { page-break-after: avoid; }
.hcc-report table { page-break-inside: auto; }
.hcc-report tr { page-break-inside: avoid; }
.hcc-report dl.study, .hcc-report dl.provenance { display: block; }
.hcc-report dl dt { float: left; clear: left; width: 38mm; }
.hcc-report dl dd { margin-left: 40mm; }
.hcc-report dl.provenance ul { margin: 0; padding-left: 1.2em; }
/* Wide tables (Table 1 has eight columns) wrap inside their cells rather than run off the page. */
.hcc-report table { font-size: 7.5pt; }
.hcc-report td.num { white-space: normal; }
.hcc-report th, .hcc-report td { overflow-wrap: break-word; padding: 1.5px 3px; }
/* A Kaplan–Meier figure with its risk table is 7 × 4.6 in: at 140 mm wide, two figures with
   their median tables fit on one page. */
.hcc-report figure { margin: 0.3em 0 0.8em; }
.hcc-report figure img { width: 140mm; max-width: 100%; }
.hcc-report figure.wide img { width: 100%; }
.hcc-report table.dictionary { font-size: 6.5pt; }
"""


# --- HTML ----------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return html.escape(str(value))


def _value_text(value: Any) -> str:
    """A provenance value as one line of text: mappings as "key: value; …", a named item
    ({"name", "coding"}) as "name (coding)", lists joined by commas, empty as "—"."""
    if isinstance(value, Mapping):
        if set(value) == {"name", "coding"}:
            return f"{value['name']} ({value['coding']})"
        if not value:
            return "—"
        return "; ".join(f"{k}: {_value_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        if not value:
            return "—"
        separator = "; " if any(isinstance(v, Mapping) for v in value) else ", "
        return separator.join(_value_text(v) for v in value)
    if value is None or value == "":
        return "—"
    return str(value)


def _value_html(value: Any) -> str:
    return _text(_value_text(value))


def provenance_items(provenance: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(label, value) in the order of ``PROVENANCE_FIELDS``, then any other key."""
    known = dict(PROVENANCE_FIELDS)
    items = [(known[k], provenance[k]) for k, _ in PROVENANCE_FIELDS if k in provenance]
    items += [(k, v) for k, v in provenance.items() if k not in known and k not in PROVENANCE_SKIP]
    return items


# Numbers, estimates with CIs and "< 0.001" must not wrap mid-value in a narrow column.
NUMERIC_CELL = re.compile(r"^[-−<>=\d.,±() NR]{1,24}$")


def _cell_html(value: Any, *, sub: bool = False) -> str:
    text = _text(value)
    if NUMERIC_CELL.match(html.unescape(text)):
        return f'<td class="num">{text}</td>'
    return f'<td class="sub">{text}</td>' if sub else f"<td>{text}</td>"


def _header_html(table: Table) -> str:
    """One header row, or two when the table has column groups (e.g. "Any grade")."""
    columns = [str(c) for c in table.frame.columns]
    if not table.groups:
        return "<tr>" + "".join(f"<th>{_text(c)}</th>" for c in columns) + "</tr>"
    top, bottom, position = [], [], 0
    for label, span in table.groups:
        while position < len(columns) and not columns[position].startswith(f"{label}: "):
            top.append('<th rowspan="2">' + _text(columns[position]) + "</th>")
            position += 1
        top.append(f'<th colspan="{span}">{_text(label)}</th>')
        for column in columns[position : position + span]:
            bottom.append(f"<th>{_text(column.removeprefix(f'{label}: '))}</th>")
        position += span
    top += ['<th rowspan="2">' + _text(c) + "</th>" for c in columns[position:]]
    return f'<tr class="groups">{"".join(top)}</tr><tr>{"".join(bottom)}</tr>'


def table_html(table: Table) -> str:
    frame = table.frame
    body = "".join(
        "<tr>"
        + "".join(_cell_html(v, sub=(i == 0 and _is_sub_row(row))) for i, v in enumerate(row))
        + "</tr>"
        for row in frame.itertuples(index=False, name=None)
    )
    foot = ""
    if table.footnotes:
        notes = "<br>".join(_text(n) for n in table.footnotes)
        foot = f'<tfoot><tr><td colspan="{max(len(frame.columns), 1)}">{notes}</td></tr></tfoot>'
    return (
        f'<table id="table-{_text(table.key)}"><caption>{_text(table.title)}</caption>'
        f"<thead>{_header_html(table)}</thead><tbody>{body}</tbody>{foot}</table>"
    )


def _is_sub_row(row: tuple) -> bool:
    return bool(row) and isinstance(row[0], str) and row[0].startswith(SUB_ROW)


def _inline_svg(svg: bytes) -> str:
    """The SVG element alone: the XML declaration and DOCTYPE are invalid inside HTML."""
    text = svg.decode("utf-8")
    start = text.find("<svg")
    return text[start:] if start >= 0 else text


WIDE_FIGURE_PREFIXES = ("forest", "love", "balance")


def figure_html(figure: Figure, *, embed: str = "svg", number: int | None = None) -> str:
    if embed == "png":
        data = base64.b64encode(figure.png).decode("ascii")
        body = f'<img alt="{_text(figure.title)}" src="data:image/png;base64,{data}">'
    else:
        body = _inline_svg(figure.svg)
    wide = any(part in figure.key for part in WIDE_FIGURE_PREFIXES)
    css = ' class="wide"' if wide else ""
    label = f"Figure {number}. " if number is not None else ""
    return (
        f'<figure id="figure-{_text(figure.key)}"{css}>{body}'
        f"<figcaption>{label}{_text(figure.title)}</figcaption></figure>"
    )


def _notes_html(notes: Iterable[str]) -> str:
    items = "".join(f"<li>{_text(n)}</li>" for n in notes)
    return f'<ul class="notes">{items}</ul>' if items else ""


def section_items(section: Section) -> list[Table | Figure]:
    """Tables and figures in reading order: grouped by the first word of their key ("os",
    "pfs"), groups in order of first appearance, each group's tables before its figures. So
    an OS table is followed by the OS figure, then the PFS table and figure."""
    items: list[Table | Figure] = [t for t in section.tables if t.in_document]
    items += section.figures
    groups: dict[str, int] = {}
    for item in items:
        groups.setdefault(item.key.split("_", 1)[0], len(groups))
    return sorted(
        items,
        key=lambda item: (groups[item.key.split("_", 1)[0]], isinstance(item, Figure)),
    )


def section_html(
    section: Section, number: int, *, embed: str = "svg", first_figure: int = 1
) -> str:
    """A numbered section; its figures are numbered from ``first_figure``."""
    parts = [f'<section id="section-{_text(section.key)}">']
    parts.append(f"<h2>{number}. {_text(section.title)}</h2>")
    if section.unavailable:
        parts.append(f'<p class="unavailable">Not available: {_text(section.unavailable)}</p>')
        parts.append(_notes_html(section.notes))
        return "".join(parts) + "</section>"
    figure_number = first_figure
    for item in section_items(section):
        if isinstance(item, Figure):
            parts.append(figure_html(item, embed=embed, number=figure_number))
            figure_number += 1
        else:
            parts.append(table_html(item))
    parts.append(_notes_html(section.notes))
    return "".join(parts) + "</section>"


def study_html(report: Report) -> str:
    if not report.study:
        return ""
    items = "".join(
        f"<dt>{_text(label)}</dt><dd>{_text(text)}</dd>" for label, text in report.study
    )
    return f'<dl class="study" id="study">{items}</dl>'


def dictionary_html(report: Report) -> str:
    if report.dictionary is None or report.dictionary.empty:
        return ""
    frame = report.dictionary[["column", "label", "unit", "coding"]]
    table = Table("dictionary", "Data dictionary of the analysis dataset", frame)
    return table_html(table).replace("<table ", '<table class="dictionary" ', 1)


def methods_provenance_html(report: Report, number: int) -> str:
    """The closing section: methods to paste, then what was run (provenance), then the
    dictionary of the analysis dataset."""
    methods = "".join(f'<p class="methods">{_text(m)}</p>' for m in report.methods)
    items = "".join(
        f"<dt>{_text(label)}</dt><dd>{_value_html(value)}</dd>"
        for label, value in provenance_items(report.provenance)
    )
    return (
        f'<section id="methods-provenance"><h2>{number}. {METHODS_TITLE}</h2>'
        f"<h3>Statistical methods</h3>{methods}"
        f'<h3 id="provenance">Provenance</h3><dl class="provenance">{items}</dl>'
        f"{dictionary_html(report)}</section>"
    )


def _sections_html(report: Report, embed: str) -> list[str]:
    parts, first_figure = [], 1
    for number, section in enumerate(report.sections, start=1):
        parts.append(section_html(section, number, embed=embed, first_figure=first_figure))
        if section.available:
            first_figure += len(section.figures)
    return parts


def render_html(report: Report, *, fragment: bool = False, embed: str = "svg") -> str:
    """The report as HTML: a full page, or with ``fragment=True`` a ``<div>`` with its own
    scoped style, to place inside the web app's page. ``embed`` = "svg" inlines the SVG
    figures (sharp at any zoom), "png" embeds PNG data URIs.

    Order: title, the study (cohort, arms, cut-off), the numbered sections, and last the
    methods and provenance section."""
    body = "".join(
        [
            f'<div class="hcc-report"><style>{CSS}</style>',
            f"<h1>{_text(report.title)}</h1>",
            study_html(report),
            *_sections_html(report, embed),
            methods_provenance_html(report, len(report.sections) + 1),
            "</div>",
        ]
    )
    if fragment:
        return body
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{_text(report.title)}</title></head><body>{body}</body></html>"
    )


# --- PDF -----------------------------------------------------------------------------------


def render_pdf(report: Report) -> bytes:
    """A4 PDF with page numbers, from the HTML with PNG figures (WeasyPrint)."""
    import weasyprint

    page = render_html(report, embed="png")
    return weasyprint.HTML(string=page).write_pdf(stylesheets=[weasyprint.CSS(string=PRINT_CSS)])


# --- spreadsheets and CSV ------------------------------------------------------------------

SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
SHEET_MAX = 31


def sheet_names(keys: Iterable[str], reserved: Iterable[str] = ()) -> list[str]:
    """Excel sheet names: no []:*?/\\, at most 31 characters, unique ignoring case."""
    taken = {r.lower() for r in reserved}
    names = []
    for key in keys:
        base = SHEET_FORBIDDEN.sub("_", key).strip("'") or "table"
        name, number = base[:SHEET_MAX], 2
        while name.lower() in taken:
            suffix = f"_{number}"
            name = base[: SHEET_MAX - len(suffix)] + suffix
            number += 1
        taken.add(name.lower())
        names.append(name)
    return names


def _flat(value: Any) -> str:
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=str)
    return "" if value is None else str(value)


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value == ""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


# Sub-column names in a fixed order, so a Table 1 arm column reads "n / mean / median",
# "% / SD / Q1", "Q3" whichever row comes first.
PART_ORDER = ("n", "mean", "median", "estimate", "%", "SD", "Q1", "95% CI lower")


def _part_rank(name: str) -> int:
    return PART_ORDER.index(name) if name in PART_ORDER else len(PART_ORDER)


class Sheet:
    """A table as spreadsheet columns: every number its own cell, with its number format.

    A column of :class:`~analytics.reports.cells.Cell` values becomes one column per part of
    the cells ("<column> n", "<column> %"; a column of one number keeps its name); a column
    without numbers stays text, and so does the first column, which labels the rows.
    ``rows`` hold numbers as numbers and text passed through
    ``registry.spreadsheets.safe_cell``; ``formats`` the Excel number format of each value.
    """

    def __init__(self, table: Table) -> None:
        self.headers: list[str] = []
        columns: list[tuple[list[Any], list[str | None]]] = []
        for number, column in enumerate(table.frame.columns):
            # The first column labels the rows ("BCLC stage 0", "Step"): text, never parsed.
            raw = table.frame[column].tolist()
            values = raw if number == 0 else [as_cell(v) for v in raw]
            width = max((len(v.parts) for v in values if isinstance(v, Cell)), default=0)
            if width == 0:
                self.headers.append(str(column))
                columns.append(
                    (
                        [None if _missing(v) else safe_cell(str(v)) for v in values],
                        [None] * len(values),
                    )
                )
                continue
            names: list[list[str]] = [[] for _ in range(width)]
            for value in values:
                if isinstance(value, Cell):
                    for position, (name, _, _) in enumerate(value.parts):
                        if name and name not in names[position]:
                            names[position].append(name)
            for position in range(width):
                ordered = sorted(names[position], key=_part_rank)
                label = " / ".join(ordered) if width > 1 else ""
                self.headers.append(f"{column} {label}" if label else str(column))
                cells, formats = [], []
                for value in values:
                    if isinstance(value, Cell):
                        part = value.parts[position] if position < len(value.parts) else None
                        cells.append(part[1] if part else None)
                        formats.append(part[2] if part else None)
                    elif position == 0 and not _missing(value):
                        cells.append(safe_cell(str(value)))  # text in a numeric column ("NR")
                        formats.append(None)
                    else:
                        cells.append(None)
                        formats.append(None)
                columns.append((cells, formats))
        self.headers = [safe_cell(h) for h in self.headers]
        count = len(table.frame)
        self.rows = [[c[0][i] for c in columns] for i in range(count)]
        self.formats = [[c[1][i] for c in columns] for i in range(count)]


def render_xlsx(report: Report) -> bytes:
    """One sheet per table (title, frozen header row, numbers as numbers with their formats,
    footnotes), then "Methods and provenance" and the data dictionary."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    tables = list(report.tables())
    reserved = [METHODS_SHEET, DICTIONARY_SHEET]
    for table, name in zip(tables, sheet_names((t.key for t in tables), reserved), strict=True):
        _table_sheet(workbook.create_sheet(name), table, Font)
    _provenance_sheet(workbook.create_sheet(METHODS_SHEET), report, Font, Alignment)
    if report.dictionary is not None:
        dictionary = Table(
            DICTIONARY_SHEET, "Data dictionary of the analysis dataset", report.dictionary
        )
        _table_sheet(workbook.create_sheet(DICTIONARY_SHEET), dictionary, Font)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


METHODS_SHEET = "Methods and provenance"
DICTIONARY_SHEET = "Dictionary"
HEADER_ROW = 3


def _provenance_sheet(sheet, report: Report, font, alignment) -> None:
    sheet.append([safe_cell(report.title)])
    sheet["A1"].font = font(bold=True, size=13)
    for label, text in report.study:
        sheet.append([safe_cell(label), safe_cell(text)])
    sheet.append([])
    for paragraph in report.methods:
        sheet.append(["Statistical methods", safe_cell(paragraph)])
    sheet.append([])
    for label, value in provenance_items(report.provenance):
        sheet.append([safe_cell(label), safe_cell(_flat(value))])
    for step in report.flow:
        sheet.append(["Patient flow", safe_cell(_flat(step))])
    for number, section in enumerate(report.sections, start=1):
        status = f"Not available: {section.unavailable}" if section.unavailable else "available"
        sheet.append([f"Section {number}", safe_cell(f"{section.title} — {status}")])
    sheet.column_dimensions["A"].width = 30
    sheet.column_dimensions["B"].width = 110
    for row in sheet.iter_rows(min_row=2, min_col=2, max_col=2):
        row[0].alignment = alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"


def _table_sheet(sheet, table: Table, font) -> None:
    """Title in A1, header on row 3 (frozen with the first column), rows below, footnotes
    after a blank row."""
    layout = Sheet(table)
    sheet.append([safe_cell(table.title)])
    sheet["A1"].font = font(bold=True)
    sheet.append([])
    sheet.append(layout.headers)
    for cell in sheet[HEADER_ROW]:
        cell.font = font(bold=True)
    for values, formats in zip(layout.rows, layout.formats, strict=True):
        sheet.append(values)
        for cell, number_format in zip(sheet[sheet.max_row], formats, strict=False):
            if number_format and isinstance(cell.value, int | float):
                cell.number_format = number_format
    if table.footnotes:
        sheet.append([])
        for note in table.footnotes:
            sheet.append([safe_cell(note)])
    sheet.freeze_panes = sheet.cell(HEADER_ROW + 1, 2).coordinate
    for number, header in enumerate(layout.headers, start=1):
        texts = [
            str(header),
            *(str(r[number - 1]) for r in layout.rows if r[number - 1] is not None),
        ]
        width = max(len(t) for t in texts)
        sheet.column_dimensions[sheet.cell(HEADER_ROW, number).column_letter].width = min(
            width + 2, 60
        )


def _unique_files(keys: Iterable[str], suffix: str) -> list[str]:
    seen: set[str] = set()
    names = []
    for key in keys:
        base = re.sub(r"[^A-Za-z0-9_.-]", "_", key) or "file"
        name, number = base, 2
        while name in seen:
            name, number = f"{base}_{number}", number + 1
        seen.add(name)
        names.append(f"{name}{suffix}")
    return names


def render_csvs(report: Report) -> dict[str, bytes]:
    """``<table key>.csv`` (UTF-8) for every table: the columns of the XLSX sheet, numbers
    unrounded and machine-readable (no "< 0.001", no "n (%)" text), text made safe."""
    tables = list(report.tables())
    files = {}
    for table, name in zip(tables, _unique_files((t.key for t in tables), ".csv"), strict=True):
        layout = Sheet(table)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(layout.headers)
        writer.writerows([["" if v is None else v for v in row] for row in layout.rows])
        files[name] = buffer.getvalue().encode("utf-8")
    return files


def figure_files(report: Report) -> dict[str, bytes]:
    """``<figure key>.png`` and ``.svg`` for every figure of the report."""
    figures = list(report.figures())
    files: dict[str, bytes] = {}
    for figure, stem in zip(figures, _unique_files((f.key for f in figures), ""), strict=True):
        files[f"{stem}.png"] = figure.png
        files[f"{stem}.svg"] = figure.svg
    return files
