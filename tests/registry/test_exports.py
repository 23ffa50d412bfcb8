"""Exports are de-identified: no site patient reference in any exported file."""

import csv
import io
import zipfile

import pytest
from openpyxl import load_workbook

from registry import exports
from registry.choices import Role
from registry.imports.importer import import_sheets
from registry.imports.parsing import read_upload
from registry.imports.synthetic import as_workbook, synthetic_rows

from .factories import make_data_manager, make_site, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported():
    """Two sites whose patients carry recognisable references."""
    for code in ("NT", "ZS"):
        site = make_site(code, f"Hospital {code}")
        manager = make_data_manager(site)
        rows = synthetic_rows(4, ref_prefix=f"SECRET{code}")
        result = import_sheets(
            site=site, user=manager, sheets=read_upload(as_workbook(rows), "x.xlsx"), dry_run=False
        )
        assert result.committed, result.errors
    return ["SECRETNT", "SECRETZS"]


def all_text(user) -> list[tuple[str, str]]:
    files = []
    with zipfile.ZipFile(io.BytesIO(exports.export_csv_zip(user))) as archive:
        files += [(name, archive.read(name).decode()) for name in archive.namelist()]
    workbook = load_workbook(io.BytesIO(exports.export_workbook(user)), read_only=True)
    for sheet in workbook.worksheets:
        cells = [str(v) for row in sheet.iter_rows(values_only=True) for v in row if v is not None]
        files.append((sheet.title, "\n".join(cells)))
    files.append(("flat", exports.export_flat_csv(user).decode()))
    return files


def test_no_exported_file_contains_a_site_patient_reference(imported):
    admin = make_user("admin", Role.REGISTRY_ADMIN)

    files = all_text(admin)

    assert len(files) > 30
    for name, text in files:
        for prefix in imported:
            assert prefix not in text, f"{prefix} found in {name}"
        assert "site_patient_ref" not in text or name in ("dictionary.csv", "Dictionary")


def test_the_export_holds_only_the_users_sites(imported):
    manager = make_data_manager(make_site("NT"), "dm-nt-2")

    header, rows = exports.flat_table(manager)

    assert {row[header.index("site")] for row in rows} == {"NT"}
    assert len(rows) == 4


def test_the_flat_file_has_one_row_per_patient_with_derived_values(imported):
    admin = make_user("admin", Role.REGISTRY_ADMIN)

    header, rows = exports.flat_table(admin)

    assert len(rows) == 8
    assert len({row[0] for row in rows}) == 8
    assert all(row[header.index("tace_sessions")] == 3 for row in rows)
    assert all(row[header.index("albi_grade")] for row in rows)


def test_the_dictionary_describes_every_exported_section_column(imported):
    admin = make_user("admin", Role.REGISTRY_ADMIN)
    described = {
        (row[0], row[1])
        for row in csv.reader(io.StringIO(exports.export_dictionary_csv().decode()))
    }

    header, _ = exports.section_table(admin, "labs")

    assert {("labs", column) for column in header} <= described


def test_a_user_without_export_rights_exports_nothing(imported):
    monitor = make_user("monitor", Role.MONITOR, make_site("NT"))

    _, rows = exports.flat_table(monitor)

    assert rows == []
