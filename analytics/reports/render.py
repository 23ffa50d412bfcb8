"""Render a computed report: HTML (page or fragment), PDF, XLSX, CSV, figure and dataset files.

Every format is laid out from the same :class:`~analytics.reports.model.Report`, so they show
the same numbers. HTML is generated here in Python (escaped with ``html.escape``) rather than
with Django templates, so reports render in a worker or a test without Django. The
provenance block comes first in every format: a reader sees what was analysed, with which
definitions and software, before any result.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from analytics.reports.datasets import dataset_files
from analytics.reports.dictionary import default_dictionary
from analytics.reports.model import Figure, Report, Section, Table

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
# Printed elsewhere in the report (flow) or only in the title.
PROVENANCE_SKIP = frozenset({"title", "patient_flow", "endpoint_exclusions", "attempts"})

CSS = """
.hcc-report { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; color: #222; }
.hcc-report h1 { font-size: 16pt; margin: 0 0 0.5em; }
.hcc-report h2 { font-size: 13pt; margin: 1.2em 0 0.4em; border-bottom: 1px solid #999; }
.hcc-report h3 { font-size: 11pt; margin: 1em 0 0.3em; }
.hcc-report table { border-collapse: collapse; margin: 0.4em 0 1em; width: 100%; }
.hcc-report caption { text-align: left; font-weight: bold; padding: 0.2em 0; }
.hcc-report th, .hcc-report td { border-top: 1px solid #ccc; padding: 2px 5px;
  text-align: left; vertical-align: top; }
.hcc-report thead th { border-bottom: 1px solid #333; background: #f2f2f2; }
.hcc-report tfoot td { border-top: 1px solid #333; font-size: 0.85em; color: #444; }
.hcc-report dl.provenance { display: grid; grid-template-columns: max-content auto;
  gap: 2px 12px; }
.hcc-report dl.provenance dt { font-weight: bold; }
.hcc-report dl.provenance dd { margin: 0; overflow-wrap: anywhere; }
.hcc-report .unavailable { background: #fff4e5; border-left: 4px solid #e69500;
  padding: 0.4em 0.8em; }
.hcc-report figure { margin: 0.5em 0 1.2em; page-break-inside: avoid; }
.hcc-report figure svg, .hcc-report figure img { max-width: 100%; height: auto; }
.hcc-report figcaption { font-size: 0.9em; font-weight: bold; }
.hcc-report .notes { font-size: 0.9em; color: #333; }
.hcc-report td.num { white-space: nowrap; }
"""
PRINT_CSS = """
@page { size: A4; margin: 16mm 12mm 18mm;
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font-size: 8pt;
    font-family: "DejaVu Sans", Arial, sans-serif; }
  @bottom-left { content: string(report-title); font-size: 8pt;
    font-family: "DejaVu Sans", Arial, sans-serif; } }
.hcc-report { font-size: 8pt; }
.hcc-report h1 { string-set: report-title content(); }
.hcc-report h2 { page-break-after: avoid; }
.hcc-report table { page-break-inside: auto; }
.hcc-report tr { page-break-inside: avoid; }
.hcc-report dl.provenance { display: block; }
.hcc-report dl.provenance dt { float: left; clear: left; width: 45mm; }
.hcc-report dl.provenance dd { margin-left: 48mm; }
/* Wide tables (Table 1 has eight columns) wrap inside their cells rather than run off the page. */
.hcc-report table { font-size: 7.5pt; }
.hcc-report td.num { white-space: normal; }
.hcc-report th, .hcc-report td { overflow-wrap: break-word; padding: 2px 3px; }
"""


# --- HTML ----------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return html.escape(str(value))


def _value_html(value: Any) -> str:
    """A provenance value: nested mappings as definition lists, lists as bullet lists."""
    if isinstance(value, Mapping):
        if not value:
            return "—"
        items = "".join(f"<li><b>{_text(k)}</b>: {_value_html(v)}</li>" for k, v in value.items())
        return f"<ul>{items}</ul>"
    if isinstance(value, list | tuple):
        if not value:
            return "—"
        return "<ul>" + "".join(f"<li>{_value_html(v)}</li>" for v in value) + "</ul>"
    return _text(value) or "—"


def provenance_items(provenance: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(label, value) in the order of ``PROVENANCE_FIELDS``, then any other key."""
    known = dict(PROVENANCE_FIELDS)
    items = [(known[k], provenance[k]) for k, _ in PROVENANCE_FIELDS if k in provenance]
    items += [(k, v) for k, v in provenance.items() if k not in known and k not in PROVENANCE_SKIP]
    return items


# Numbers, estimates with CIs and "< 0.001" must not wrap mid-value in a narrow column.
NUMERIC_CELL = re.compile(r"^[-−<>=\d.,±() NR]{1,24}$")


def _cell_html(value: Any) -> str:
    text = _text(value)
    if NUMERIC_CELL.match(html.unescape(text)):
        return f'<td class="num">{text}</td>'
    return f"<td>{text}</td>"


def table_html(table: Table) -> str:
    frame = table.frame
    head = "".join(f"<th>{_text(c)}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(_cell_html(v) for v in row) + "</tr>"
        for row in frame.itertuples(index=False, name=None)
    )
    foot = ""
    if table.footnotes:
        notes = "<br>".join(_text(n) for n in table.footnotes)
        foot = f'<tfoot><tr><td colspan="{max(len(frame.columns), 1)}">{notes}</td></tr></tfoot>'
    return (
        f'<table id="table-{_text(table.key)}"><caption>{_text(table.title)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody>{foot}</table>"
    )


def _inline_svg(svg: bytes) -> str:
    """The SVG element alone: the XML declaration and DOCTYPE are invalid inside HTML."""
    text = svg.decode("utf-8")
    start = text.find("<svg")
    return text[start:] if start >= 0 else text


def figure_html(figure: Figure, *, embed: str = "svg") -> str:
    if embed == "png":
        data = base64.b64encode(figure.png).decode("ascii")
        body = f'<img alt="{_text(figure.title)}" src="data:image/png;base64,{data}">'
    else:
        body = _inline_svg(figure.svg)
    return (
        f'<figure id="figure-{_text(figure.key)}">{body}'
        f"<figcaption>{_text(figure.title)}</figcaption></figure>"
    )


def _notes_html(notes: Iterable[str]) -> str:
    items = "".join(f"<li>{_text(n)}</li>" for n in notes)
    return f'<ul class="notes">{items}</ul>' if items else ""


def section_html(section: Section, number: int, *, embed: str = "svg") -> str:
    parts = [f'<section id="section-{_text(section.key)}">']
    parts.append(f"<h2>{number}. {_text(section.title)}</h2>")
    if section.unavailable:
        parts.append(f'<p class="unavailable">Not available: {_text(section.unavailable)}</p>')
        parts.append(_notes_html(section.notes))
        return "".join(parts) + "</section>"
    parts += [table_html(t) for t in section.tables]
    parts += [figure_html(f, embed=embed) for f in section.figures]
    parts.append(_notes_html(section.notes))
    return "".join(parts) + "</section>"


def flow_html(report: Report) -> str:
    if not report.flow:
        return ""
    rows = "".join(
        f"<tr><td>{_text(step.get('step'))}</td><td>{_text(step.get('n'))}</td>"
        f"<td>{_text('; '.join(f'{r}: {n}' for r, n in (step.get('excluded') or {}).items()))}</td>"
        f"<td>{_text('; '.join(f'{a}: {n}' for a, n in (step.get('by_arm') or {}).items()))}</td></tr>"
        for step in report.flow
    )
    exclusions = "".join(
        f"<li>{_text(endpoint)}: {_text(reason)} ({_text(count)})</li>"
        for endpoint, reasons in report.endpoint_exclusions.items()
        for reason, count in reasons.items()
    )
    extra = f"<p>Left out of an endpoint:</p><ul>{exclusions}</ul>" if exclusions else ""
    return (
        "<h3>Patient flow</h3><table><thead><tr><th>Step</th><th>n</th>"
        "<th>Excluded (reason: n)</th><th>By arm</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>{extra}"
    )


def provenance_html(report: Report) -> str:
    items = "".join(
        f"<dt>{_text(label)}</dt><dd>{_value_html(value)}</dd>"
        for label, value in provenance_items(report.provenance)
    )
    methods = "".join(f"<p>{_text(m)}</p>" for m in report.methods)
    return (
        '<section id="provenance"><h2>Provenance</h2>'
        f'<dl class="provenance">{items}</dl>'
        f"<h3>Methods</h3>{methods}{flow_html(report)}</section>"
    )


def render_html(report: Report, *, fragment: bool = False, embed: str = "svg") -> str:
    """The report as HTML: a full page, or with ``fragment=True`` a ``<div>`` with its own
    scoped style, to place inside the web app's page. ``embed`` = "svg" inlines the SVG
    figures (sharp at any zoom), "png" embeds PNG data URIs."""
    body = "".join(
        [
            f'<div class="hcc-report"><style>{CSS}</style>',
            f"<h1>{_text(report.title)}</h1>",
            provenance_html(report),
            *(section_html(s, n, embed=embed) for n, s in enumerate(report.sections, start=1)),
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


def _cell(value: Any) -> Any:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if hasattr(value, "item"):  # numpy scalar → Python number for openpyxl
        return value.item()
    return value


def _flat(value: Any) -> str:
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=str)
    return "" if value is None else str(value)


def render_xlsx(report: Report) -> bytes:
    """A "Provenance" sheet (provenance, methods, flow, sections), then one sheet per table."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Provenance"
    sheet.append([report.title])
    sheet["A1"].font = Font(bold=True, size=13)
    for label, value in provenance_items(report.provenance):
        sheet.append([label, _flat(value)])
    sheet.append([])
    for sentence in report.methods:
        sheet.append(["Methods", sentence])
    for step in report.flow:
        sheet.append(["Patient flow", _flat(step)])
    for number, section in enumerate(report.sections, start=1):
        status = f"Not available: {section.unavailable}" if section.unavailable else "available"
        sheet.append([f"Section {number}", f"{section.title} — {status}"])
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 100

    tables = list(report.tables())
    for table, name in zip(
        tables, sheet_names((t.key for t in tables), ["Provenance"]), strict=True
    ):
        _table_sheet(workbook.create_sheet(name), table, Font)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _table_sheet(sheet, table: Table, font) -> None:
    """Title in A1, header on row 3, rows below, footnotes after a blank row."""
    sheet.append([table.title])
    sheet["A1"].font = font(bold=True)
    sheet.append([])
    sheet.append([str(c) for c in table.frame.columns])
    for cell in sheet[3]:
        cell.font = font(bold=True)
    for row in table.frame.itertuples(index=False, name=None):
        sheet.append([_cell(v) for v in row])
    if table.footnotes:
        sheet.append([])
        for note in table.footnotes:
            sheet.append([note])
    for number, column in enumerate(table.frame.columns, start=1):
        width = max([len(str(column)), *(len(str(v)) for v in table.frame.iloc[:, number - 1])])
        sheet.column_dimensions[sheet.cell(3, number).column_letter].width = min(width + 2, 60)


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
    """``<table key>.csv`` (UTF-8) for every table of the report."""
    tables = list(report.tables())
    return {
        name: table.frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
        for table, name in zip(tables, _unique_files((t.key for t in tables), ".csv"), strict=True)
    }


def figure_files(report: Report) -> dict[str, bytes]:
    """``<figure key>.png`` and ``.svg`` for every figure of the report."""
    figures = list(report.figures())
    files: dict[str, bytes] = {}
    for figure, stem in zip(figures, _unique_files((f.key for f in figures), ""), strict=True):
        files[f"{stem}.png"] = figure.png
        files[f"{stem}.svg"] = figure.svg
    return files
