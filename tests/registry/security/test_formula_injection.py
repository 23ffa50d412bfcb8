"""Issue 17 item 2: user text in CSV/XLSX files never becomes a live formula (OWASP CSV Injection).

Every registry file writer (exports, import templates and dictionary, the import error report)
goes through ``registry.imports.workbook.csv_bytes`` / ``xlsx_bytes``, which pass each cell
through ``registry.spreadsheets.safe_cell``. Numbers stay numbers.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from registry.imports.synthetic import as_workbook, synthetic_rows
from registry.imports.workbook import csv_bytes, xlsx_bytes
from registry.models import ImportJob
from tests.registry.factories import make_data_manager, make_site

PAYLOADS = ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


def test_csv_cells_that_start_a_formula_are_written_as_text():
    data = csv_bytes(["=header", "n"], [[text, -1.5] for text in PAYLOADS])

    rows = list(csv.reader(io.StringIO(data.decode(), newline="")))
    assert rows[0] == ["'=header", "n"]
    assert [row[0] for row in rows[1:]] == ["'" + text for text in PAYLOADS]
    assert {row[1] for row in rows[1:]} == {"-1.5"}


def test_xlsx_cells_that_start_a_formula_are_text_and_numbers_stay_numbers():
    data = xlsx_bytes([("sheet", ["a", "n"], [[text, -1.5] for text in PAYLOADS])])

    sheet = load_workbook(io.BytesIO(data)).active
    cells = list(sheet.iter_rows(min_row=2, values_only=True))
    # XML stores a carriage return as a line feed.
    assert [a for a, _ in cells] == ["'" + text.replace("\r", "\n") for text in PAYLOADS]
    assert all(sheet.cell(row=r, column=1).data_type == "s" for r in range(2, 2 + len(PAYLOADS)))
    assert {n for _, n in cells} == {-1.5}


@pytest.mark.django_db
def test_the_import_error_report_writes_the_bad_value_as_text(client):
    site = make_site("NT")
    client.force_login(make_data_manager(site))
    rows = synthetic_rows(1)
    rows["labs"][0]["inr"] = "=1+1"
    upload = SimpleUploadedFile("registry.xlsx", as_workbook(rows))
    client.post("/imports/", {"site": site.pk, "files": [upload], "dry_run": "on"})
    job = ImportJob.objects.get()

    response = client.get(f"/imports/jobs/{job.pk}/errors.csv")

    report = list(csv.DictReader(io.StringIO(response.content.decode(), newline="")))
    assert response.status_code == 200
    assert [row["value"] for row in report if row["column"] == "inr"] == ["'=1+1"]
