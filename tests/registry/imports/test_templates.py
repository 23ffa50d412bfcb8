"""The import template and its data dictionary are generated from the models and the rules."""

import io

import pytest
from openpyxl import load_workbook

from registry.imports.sections import sections
from registry.imports.workbook import template_workbook

pytestmark = pytest.mark.django_db


@pytest.fixture
def workbook():
    return load_workbook(io.BytesIO(template_workbook()), read_only=True)


def dictionary(workbook) -> dict[tuple[str, str], dict]:
    rows = list(workbook["Dictionary"].iter_rows(values_only=True))
    header = rows[0]
    return {(r[0], r[1]): dict(zip(header, r, strict=True)) for r in rows[1:]}


def test_it_has_a_sheet_per_section_and_a_dictionary(workbook):
    assert set(sections()) | {"Dictionary", "CTCAE"} == set(workbook.sheetnames)


def test_the_dictionary_gives_the_hard_and_soft_range_with_the_unit(workbook):
    albumin = dictionary(workbook)[("labs", "albumin")]

    assert albumin["allowed range (hard)"] == "10–60 g/L"
    assert albumin["expected range (soft)"] == "25–55 g/L"


def test_the_dictionary_lists_the_accepted_units(workbook):
    unit = dictionary(workbook)[("labs", "total_bilirubin_unit")]

    assert unit["choices"] == "umol/L; mg/dL"


def test_the_dictionary_lists_the_choices(workbook):
    technique = dictionary(workbook)[("tace", "technique")]

    assert "ctace = Conventional cTACE" in technique["choices"]
    assert technique["required"] == "yes"


def test_the_ctcae_sheet_lists_the_terms_with_their_grades(workbook):
    rows = {r[0]: r for r in workbook["CTCAE"].iter_rows(values_only=True)}

    assert rows["hepatic_failure"][3:] == (3, 5)
