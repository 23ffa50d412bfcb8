"""Writing sections to CSV and XLSX: import templates, exports and the data dictionary.

The dictionary is generated from the section columns (so from the models and ``registry.rules``):
field, type, unit, allowed range or choices, whether it is required, and what it means.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence

from registry.imports.sections import Column, Section, sections
from registry.rules import describe
from registry.spreadsheets import safe_cell

DICTIONARY_HEADER = [
    "section",
    "field",
    "type",
    "unit",
    "required",
    "allowed range (hard)",
    "expected range (soft)",
    "choices",
    "description",
]


def dictionary_rows(extra: dict[str, list[Column]] | None = None) -> list[list[str]]:
    """One row per column of every section (``extra`` adds e.g. the derived export columns)."""
    rows = []
    for section in sections().values():
        columns = list(section.columns) + list((extra or {}).get(section.name, []))
        rows += [dictionary_row(section.name, column) for column in columns]
    for name, columns in (extra or {}).items():
        if name not in sections():
            rows += [dictionary_row(name, column) for column in columns]
    return rows


def dictionary_row(section_name: str, column: Column) -> list[str]:
    kind = {"ctcae_term": "CTCAE term code", "unit": "unit code"}.get(column.kind, column.kind)
    if column.kind == "date":
        kind = "date (YYYY-MM-DD)"
    if column.kind == "boolean":
        kind = "yes / no" + (" / empty" if column.nullable else "")
    return [
        section_name,
        column.name,
        kind,
        column.unit,
        "yes" if column.required else "",
        describe("", column.unit, column.hard) if column.hard else "",
        describe("", column.unit, column.soft) if column.soft else "",
        "; ".join(f"{code} = {label}" if code != label else code for code, label in column.choices),
        column.help,
    ]


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    """CSV text; every cell through ``safe_cell``, so user text never becomes a formula."""
    buffer = io.StringIO()
    # CRLF rows (RFC 4180): the csv module then quotes a cell holding a carriage return, which
    # with a bare LF terminator it would write unquoted and split the row in two.
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(name) for name in header])
    for row in rows:
        writer.writerow(["" if value is None else safe_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence]]]) -> bytes:
    """A workbook with one sheet per (title, header, rows); written in streaming mode."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for title, header, rows in sheets:
        worksheet = workbook.create_sheet(title=title[:31])
        worksheet.append([safe_cell(name) for name in header])
        for row in rows:
            worksheet.append([_cell(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell(value):
    if isinstance(value, dict | list):
        value = str(value)
    # Text is stored as a string cell by openpyxl, but a leading "=" still makes it a formula.
    return safe_cell(value)


def zip_bytes(files: Iterable[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(name, data)
    return buffer.getvalue()


def ctcae_rows() -> list[list]:
    from registry.models import CtcaeTerm

    return [
        [t.code, t.term, t.system_organ_class, t.min_grade, t.max_grade]
        for t in CtcaeTerm.objects.order_by("code")
    ]


def template_workbook() -> bytes:
    """The import template: an empty sheet per section, the Dictionary and the CTCAE terms."""
    sheets = [(s.name, s.column_names, []) for s in sections().values()]
    sheets.append(("Dictionary", DICTIONARY_HEADER, dictionary_rows()))
    sheets.append(
        ("CTCAE", ["code", "term", "system organ class", "min grade", "max grade"], ctcae_rows())
    )
    return xlsx_bytes(sheets)


def template_csv(section: Section) -> bytes:
    return csv_bytes(section.column_names, [])


def dictionary_csv(extra: dict[str, list[Column]] | None = None) -> bytes:
    return csv_bytes(DICTIONARY_HEADER, dictionary_rows(extra))
