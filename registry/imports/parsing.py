"""Reading an uploaded CSV, XLSX or ZIP into sheets of rows, and cell values into Python values.

Cell conversion only turns text into typed values (a date, a number, yes/no); whether the value
is allowed is decided by the model's ``full_clean()`` like for every other entry path.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import partial

from registry.imports.limits import limit, megabytes, upload_size_error
from registry.imports.sections import Column, Section, section_for_name
from registry.numbers import NotANumber, read_decimal

TRUE_WORDS = {"yes", "y", "true", "t", "1", "x"}
FALSE_WORDS = {"no", "n", "false", "f", "0"}
IGNORED_SHEETS = {"dictionary", "readme", "ctcae", "instructions"}


class ImportFileError(Exception):
    """The file cannot be read at all (wrong format, no header, unknown section)."""


class CellError(ValueError):
    """A cell that cannot be read as its column's type."""


@dataclass
class Sheet:
    name: str
    section: Section
    header: list[str]
    # (spreadsheet row number, column → raw cell value); the header is row 1.
    rows: list[tuple[int, dict[str, object]]] = field(default_factory=list)


def read_upload(data: bytes, filename: str, *, section: str = "") -> list[Sheet]:
    """Every sheet of an upload: a workbook, a CSV of one section or a ZIP of either, within
    the bounds of ``registry.imports.limits`` (else ImportFileError saying which)."""
    refused = upload_size_error(filename, len(data))
    if refused:
        raise ImportFileError(refused)
    sheets = _read_any(data, filename, section=section)
    rows = sum(len(sheet.rows) for sheet in sheets)
    if rows > limit("REGISTRY_IMPORT_MAX_ROWS"):
        raise _too_many_rows(filename)
    return sheets


def _too_many_rows(filename: str) -> ImportFileError:
    return ImportFileError(
        f"{filename} has more than {limit('REGISTRY_IMPORT_MAX_ROWS'):,} data rows "
        "(REGISTRY_IMPORT_MAX_ROWS). Split it into several uploads."
    )


def _check_expanded_size(archive: zipfile.ZipFile, filename: str) -> None:
    """A ZIP (an XLSX is one) may not decompress beyond the bound: its members' declared sizes
    are what ``zipfile`` will at most produce (it stops there and checks the CRC)."""
    expanded = sum(member.file_size for member in archive.infolist())
    maximum = limit("REGISTRY_IMPORT_MAX_EXPANDED_BYTES")
    if expanded > maximum:
        raise ImportFileError(
            f"{filename} expands to {megabytes(expanded)}; at most {megabytes(maximum)} is read "
            "(REGISTRY_IMPORT_MAX_EXPANDED_BYTES). Split it into several uploads."
        )


def _read_any(data: bytes, filename: str, *, section: str = "") -> list[Sheet]:
    lower = filename.lower()
    if lower.endswith(".zip"):
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile as error:
            raise ImportFileError(f"{filename} is not a valid ZIP file.") from error
        _check_expanded_size(archive, filename)
        sheets = []
        rows = 0
        for member in sorted(archive.namelist()):
            if member.endswith("/") or member.rsplit("/", 1)[-1].startswith("."):
                continue
            try:
                content = archive.read(member)
            except (zipfile.BadZipFile, OSError, RuntimeError) as error:
                raise ImportFileError(f"{member} in {filename} cannot be read.") from error
            member_sheets = _read_any(content, member)
            rows += sum(len(sheet.rows) for sheet in member_sheets)
            if rows > limit("REGISTRY_IMPORT_MAX_ROWS"):
                raise _too_many_rows(filename)
            sheets += member_sheets
        return sheets
    if lower.endswith(".xlsx"):
        try:
            _check_expanded_size(zipfile.ZipFile(io.BytesIO(data)), filename)
        except zipfile.BadZipFile as error:
            raise ImportFileError(f"{filename} is not a readable XLSX workbook.") from error
        return read_workbook(data, filename)
    if lower.endswith(".csv") or lower.endswith(".txt"):
        target = section_for_name(section) if section else section_for_name(filename)
        if target is None:
            raise ImportFileError(
                f"Cannot tell which CRF section {filename} holds: name the file after the "
                "section (e.g. labs.csv) or choose the section."
            )
        return [read_csv(data, filename, target)]
    raise ImportFileError(f"{filename}: upload a .csv, .xlsx or .zip file.")


def read_csv(data: bytes, name: str, section: Section) -> Sheet:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(f"{name} is not UTF-8 text.") from error
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, None)
        if not header:
            raise ImportFileError(f"{name} has no header row.")
        return _sheet(name, section, header, reader)
    except csv.Error as error:
        # The csv module's own bound (128 KB a field) or a malformed quote: never a server error.
        if "field limit" in str(error):
            raise ImportFileError(
                f"{name}, row {reader.line_num}: a cell of more than {csv.field_size_limit():,} "
                f"characters; a cell may hold at most {limit('REGISTRY_IMPORT_MAX_CELL_CHARS'):,} "
                "(REGISTRY_IMPORT_MAX_CELL_CHARS)."
            ) from error
        raise ImportFileError(f"{name} cannot be read as CSV: {error}.") from error


def read_workbook(data: bytes, filename: str) -> list[Sheet]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a damaged file
        raise ImportFileError(f"{filename} is not a readable XLSX workbook.") from error
    sheets = []
    try:
        for worksheet in workbook.worksheets:
            if worksheet.title.strip().lower() in IGNORED_SHEETS:
                continue
            section = section_for_name(worksheet.title)
            if section is None:
                raise ImportFileError(
                    f"Sheet '{worksheet.title}' is not a CRF section; name sheets after the "
                    "sections of the template (patients, labs, tace, …)."
                )
            rows = worksheet.iter_rows(values_only=True)
            header = next(rows, None)
            if not header or all(cell is None for cell in header):
                continue
            sheets.append(_sheet(worksheet.title, section, list(header), rows))
    finally:
        workbook.close()
    return sheets


def _sheet(name: str, section: Section, header, rows) -> Sheet:
    names = [str(cell).strip() if cell is not None else "" for cell in header]
    while names and not names[-1]:
        names.pop()
    max_columns = limit("REGISTRY_IMPORT_MAX_COLUMNS")
    if len(names) > max_columns:
        raise ImportFileError(
            f"{name} has {len(names):,} columns; a sheet may have at most {max_columns} "
            "(REGISTRY_IMPORT_MAX_COLUMNS). Use the columns of the import template."
        )
    max_rows = limit("REGISTRY_IMPORT_MAX_ROWS")
    max_chars = limit("REGISTRY_IMPORT_MAX_CELL_CHARS")
    sheet = Sheet(name=name, section=section, header=names)
    width = len(names)
    unnamed = "" in names
    for number, cells in enumerate(rows, start=2):
        if number - 1 > max_rows:
            raise _too_many_rows(name)
        _check_cells(name, number, names, cells, max_chars)
        if len(cells) < width:
            cells = [*cells, *[None] * (width - len(cells))]
        # Cells past the header are not read; a repeated name keeps its last column's cell.
        values = dict(zip(names, cells, strict=False))
        if unnamed:
            del values[""]
        if all(
            value is None or (isinstance(value, str) and not value.strip())
            for value in values.values()
        ):
            continue
        sheet.rows.append((number, values))
    return sheet


def _check_cells(name: str, number: int, names: list[str], cells, max_chars: int) -> None:
    for index, cell in enumerate(cells[: len(names)]):
        if not isinstance(cell, str):
            continue
        column = names[index] or f"column {index + 1}"
        if len(cell) > max_chars:
            raise ImportFileError(
                f"{name}, row {number}, column {column}: a cell of {len(cell):,} characters; "
                f"a cell may hold at most {max_chars:,} (REGISTRY_IMPORT_MAX_CELL_CHARS)."
            )
        if "\x00" in cell:
            # PostgreSQL refuses NUL in text: say so here, with the place, not as a server error.
            raise ImportFileError(
                f"{name}, row {number}, column {column}: the cell holds a NUL character "
                "(byte 0), which no field may hold. Remove it and upload again."
            )


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def converter(column: Column) -> Callable[[object], object]:
    """The function giving a cell's Python value for ``column`` (raising CellError with a
    reason), with what depends on the column decided once.

    A file's cells are mostly text (every cell of a CSV): a ``str`` cell is read on a short path
    and any other cell (a workbook's numbers and dates), or text the short path does not
    read, goes through the general conversion, which words the errors.
    """
    kind = column.kind
    if kind == "boolean":
        blank = None if column.nullable else False
    elif kind in ("text", "choice", "unit", "ctcae_term"):
        blank = ""
    else:
        blank = None
    general = {
        "date": _date,
        "integer": _integer,
        "decimal": _decimal,
        "boolean": _boolean,
        "choice": partial(_choice, column),
    }.get(kind, _text)
    from_text = {
        "date": _date_text,
        "integer": _integer_text,
        "decimal": _decimal_text,
        "boolean": _boolean_text,
        "choice": _choice_text(column),
    }.get(kind)

    if from_text is None:  # text: the stripped text

        def convert_cell(raw):
            if type(raw) is str:
                return raw.strip() or blank
            return blank if raw is None else general(raw)

        return convert_cell

    # A column's texts repeat (dates, lab values, codes): their values (immutable) are kept for
    # the next cell, up to MEMO_CELLS texts a column (errors are not kept), for as long as the
    # converter lives (one import).
    memo: dict[str, object] = {}

    def convert_cell(raw):
        if type(raw) is str:
            value = memo.get(raw, _UNREAD)
            if value is not _UNREAD:
                return value
            text = raw.strip()
            if not text:
                return blank
            value = from_text(text)
            if value is _UNREAD:
                return general(raw)
            if len(memo) < MEMO_CELLS:
                memo[raw] = value
            return value
        return blank if _blank(raw) else general(raw)

    return convert_cell


def section_converters(section: Section) -> dict[str, Callable[[object], object]]:
    """Column name → a new converter, for every column of ``section`` (made for one import,
    whose texts they remember)."""
    return {column.name: converter(column) for column in section.columns}


MEMO_CELLS = 512
# What a short path gives for text it leaves to the general conversion.
_UNREAD = object()
_WORDS = {**dict.fromkeys(TRUE_WORDS, True), **dict.fromkeys(FALSE_WORDS, False)}


def _date_text(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text[:10] if len(text) > 10 and "T" in text else text)
    except ValueError as error:
        raise CellError(f"'{text}' is not a date: write it as YYYY-MM-DD.") from error


def _integer_text(text: str):
    # Short: int() refuses thousands of digits, which Decimal reads.
    return int(text) if len(text) < 19 and text.isascii() and text.isdigit() else _UNREAD


def _decimal_text(text: str):
    try:
        number = read_decimal(text)
    except NotANumber:
        return _UNREAD
    return number if number.is_finite() else _UNREAD


def _boolean_text(text: str):
    return _WORDS.get(text.lower(), _UNREAD)


def _choice_text(column: Column):
    # Code or label in any case: the first choice with either, as _choice finds it.
    codes: dict[str, str] = {}
    for code, label in column.choices:
        codes.setdefault(code.lower(), code)
        codes.setdefault(label.lower(), code)

    def from_text(text: str):
        return codes.get(text.lower(), _UNREAD)

    return from_text


def _text(raw) -> str:
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return str(raw).strip()


def _date(raw) -> dt.date:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    return _date_text(str(raw).strip())


def _integer(raw) -> int:
    if isinstance(raw, bool):
        raise CellError(f"'{raw}' is not a whole number.")
    if isinstance(raw, int):
        return raw
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation as error:
        raise CellError(f"'{raw}' is not a whole number.") from error
    if not number.is_finite() or number != number.to_integral_value():
        raise CellError(f"'{raw}' is not a whole number.")
    return int(number)


def _decimal(raw) -> Decimal:
    if isinstance(raw, bool):
        raise CellError(f"'{raw}' is not a number.")
    if isinstance(raw, float):
        number = Decimal(repr(raw))
    elif isinstance(raw, int | Decimal):
        number = Decimal(raw)
    else:
        # A decimal comma is a decimal point; a thousands separator is refused, not dropped.
        try:
            number = read_decimal(str(raw))
        except NotANumber as error:
            raise CellError(str(error)) from error
    if not number.is_finite():
        raise CellError(f"'{raw}' is not a number.")
    return number


def _boolean(raw) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if isinstance(raw, int | float):
        text = str(int(raw)) if float(raw).is_integer() else text
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise CellError(f"'{raw}' is not yes or no.")


def _choice(column: Column, raw) -> str:
    text = str(int(raw)) if isinstance(raw, float) and raw.is_integer() else str(raw).strip()
    lowered = text.lower()
    for code, label in column.choices:
        if lowered in (code.lower(), label.lower()):
            return code
    allowed = ", ".join(code for code, _ in column.choices)
    raise CellError(f"'{text}' is not one of the allowed codes: {allowed}.")
