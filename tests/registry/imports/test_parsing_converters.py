"""The per-column converters: the value, or the error message, of the per-cell conversion they
replaced (``reference_convert`` below, as it was in registry/imports/parsing.py)."""

import datetime as dt
from decimal import Decimal, InvalidOperation

import pytest

from registry.imports.parsing import (
    FALSE_WORDS,
    TRUE_WORDS,
    CellError,
    converter,
    read_upload,
    section_converters,
)
from registry.imports.sections import Column, sections
from registry.numbers import NotANumber, read_decimal


def reference_convert(column: Column, raw):
    """The per-cell conversion before the converters (commit 2b96dc5)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if column.kind == "boolean":
            return None if column.nullable else False
        return "" if column.kind in ("text", "choice", "unit", "ctcae_term") else None
    if column.kind == "date":
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        text = str(raw).strip()
        try:
            return dt.date.fromisoformat(text[:10] if len(text) > 10 and "T" in text else text)
        except ValueError as error:
            raise CellError(f"'{text}' is not a date: write it as YYYY-MM-DD.") from error
    if column.kind == "integer":
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
    if column.kind == "decimal":
        if isinstance(raw, bool):
            raise CellError(f"'{raw}' is not a number.")
        # Since issue 15 a text cell is read by ``registry.numbers.read_decimal`` (a decimal
        # comma is a decimal point, a thousands separator is refused), no longer with its commas
        # dropped ("1,2" was 12).
        if isinstance(raw, float):
            number = Decimal(repr(raw))
        elif isinstance(raw, int | Decimal):
            number = Decimal(raw)
        else:
            try:
                number = read_decimal(str(raw))
            except NotANumber as error:
                raise CellError(str(error)) from error
        if not number.is_finite():
            raise CellError(f"'{raw}' is not a number.")
        return number
    if column.kind == "boolean":
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
    if column.kind == "choice":
        text = str(int(raw)) if isinstance(raw, float) and raw.is_integer() else str(raw).strip()
        lowered = text.lower()
        for code, label in column.choices:
            if lowered in (code.lower(), label.lower()):
                return code
        allowed = ", ".join(code for code, _ in column.choices)
        raise CellError(f"'{text}' is not one of the allowed codes: {allowed}.")
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return str(raw).strip()


def column(section: str, name: str) -> Column:
    return sections()[section].column(name)


COLUMNS = {
    "date": column("patients", "diagnosis_date"),
    "integer": column("patients", "birth_year"),
    "decimal": column("patients", "body_weight_kg"),
    "boolean": column("patients", "etiology_hbv"),
    "nullable boolean": column("patients", "diabetes"),
    "choice": column("patients", "sex"),
    "choice of many": column("patients", "histology_subtype"),
    "text": column("patients", "other_comorbidities"),
    "unit": column("labs", "albumin_unit"),
    "ctcae term": column("adverse_events", "ctcae_term"),
    # A label that is another choice's code: the first choice with either wins.
    "crossed choice": Column("crossed", "crossed", "choice", choices=(("a", "B"), ("b", "A"))),
    "unknown kind": Column("odd", "odd", "odd"),
}
# Cells of a CSV (text) and of a workbook (numbers, booleans and dates), valid or not.
CELLS = [
    None,
    "",
    "   ",
    "\t",
    "yes",
    " YES ",
    "No",
    "x",
    "maybe",
    "0",
    "1",
    " 12 ",
    "0012",
    "12.0",
    "12.5",
    "1,234.5",
    "-3",
    "+4",
    "1e3",
    "١٢",
    "²",
    "abc",
    "NaN",
    "inf",
    "2023-01-05",
    " 2023-01-05 ",
    "2023-01-05T10:30:00",
    "20230105",
    "2023-13-01",
    "05/01/2023",
    "male",
    "Male",
    " FEMALE ",
    "conventional",
    "a",
    "A",
    "b",
    "B",
    "g_per_l",
    "µ text  ",
    0,
    1,
    12,
    -3,
    12.0,
    12.5,
    0.1,
    float("nan"),
    True,
    False,
    Decimal("1.50"),
    dt.datetime(2023, 1, 5, 10, 30),
    dt.date(2023, 1, 5),
]


def outcome(function, *args):
    try:
        value = function(*args)
    except CellError as error:
        return ("error", str(error))
    return ("value", type(value), value)


@pytest.mark.parametrize("name", COLUMNS)
def test_each_cell_converts_as_the_per_cell_conversion_did(name):
    column_ = COLUMNS[name]
    convert_cell = converter(column_)

    for raw in CELLS * 2:  # the second time from what the converter remembers
        assert outcome(convert_cell, raw) == outcome(reference_convert, column_, raw), raw


def test_the_error_messages_are_worded_for_the_cell_as_written():
    messages = {
        ("date", " 5/1/2023 "): "'5/1/2023' is not a date: write it as YYYY-MM-DD.",
        ("integer", " 1.5 "): "' 1.5 ' is not a whole number.",
        ("integer", True): "'True' is not a whole number.",
        ("decimal", " abc "): "' abc ' is not a number.",
        ("nullable boolean", " Maybe "): "' Maybe ' is not yes or no.",
        ("choice", " Other "): "'Other' is not one of the allowed codes: male, female.",
    }

    for (name, raw), message in messages.items():
        with pytest.raises(CellError) as error:
            converter(COLUMNS[name])(raw)
        assert str(error.value) == message


def test_a_converter_remembers_a_limited_number_of_texts(monkeypatch):
    monkeypatch.setattr("registry.imports.parsing.MEMO_CELLS", 2)
    convert_cell = converter(COLUMNS["integer"])

    values = [convert_cell(str(n)) for n in range(5)] + [convert_cell(str(n)) for n in range(5)]

    assert values == [*range(5), *range(5)]


def test_a_choice_is_found_by_code_or_label_in_any_case():
    convert_cell = converter(COLUMNS["choice of many"])
    code, label = next(
        choice for choice in COLUMNS["choice of many"].choices if choice[0] != choice[1]
    )

    assert {convert_cell(text) for text in (code, code.upper(), f" {label.upper()} ")} == {code}


def test_a_workbook_number_or_date_cell_is_read_as_its_value():
    assert converter(COLUMNS["integer"])(1962.0) == 1962
    assert converter(COLUMNS["decimal"])(0.1) == Decimal("0.1")
    assert converter(COLUMNS["date"])(dt.datetime(2023, 1, 5, 10, 30)) == dt.date(2023, 1, 5)
    assert converter(COLUMNS["nullable boolean"])(1.0) is True


def test_a_section_has_a_converter_for_each_column():
    section = sections()["labs"]

    converters = section_converters(section)

    assert list(converters) == section.column_names
    assert converters["sample_date"]("2023-01-05") == dt.date(2023, 1, 5)


def test_a_sheet_row_has_a_cell_for_each_named_column_and_blank_rows_are_left_out():
    csv = (
        b"site_patient_ref,,sample_date,inr,inr\n"
        b"MRN-1,x,2023-01-05\n"  # short: the missing cells are None
        b" , ,\t,,\n"  # blank
        b"MRN-2,y,2023-01-06,1.1,1.2,extra\n"  # a repeated name keeps its last cell
    )

    (sheet,) = read_upload(csv, "labs.csv")

    assert sheet.header == ["site_patient_ref", "", "sample_date", "inr", "inr"]
    assert sheet.rows == [
        (2, {"site_patient_ref": "MRN-1", "sample_date": "2023-01-05", "inr": None}),
        (4, {"site_patient_ref": "MRN-2", "sample_date": "2023-01-06", "inr": "1.2"}),
    ]
