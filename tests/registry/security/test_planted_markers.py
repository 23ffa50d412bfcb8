"""Issue 17: planted markers. Every identifying and free-text field of patients at two sites
holds a unique marker (``markers.planted_patient``); every export, every output of an analysis
run (PDF text, HTML, XLSX, CSV, SVG, .sav, .dta, the dataset and its dictionary) and the log of
all of it are searched. The count must be 0: the registry has no identified export, so no file
leaving it may carry them (``registry.disclosure``).
"""

from __future__ import annotations

import io
import logging
import zipfile

import pandas as pd
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from analytics.choices import RunStatus
from analytics.models import AnalysisRun, RunOutput
from analytics.services import run_execute
from registry import exports
from registry.choices import Role
from registry.demo import generate_patients
from tests.analytics.test_run_helpers import make_cohort, queue_run
from tests.registry.factories import make_data_manager, make_site, make_user
from tests.registry.test_exports import all_text

from .markers import planted_patient


def output_text(output: RunOutput) -> str:
    """What a reader of the file sees: extracted text for PDF, cells for XLSX, values of the
    statistics files, and the raw text of everything else."""
    with output.file.open("rb") as handle:
        data = handle.read()
    kind = output.kind
    if kind == RunOutput.Kind.PDF:
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    if kind == RunOutput.Kind.XLSX:
        workbook = load_workbook(io.BytesIO(data), read_only=True)
        cells = [
            str(v) for s in workbook.worksheets for r in s.iter_rows(values_only=True) for v in r
        ]
        with zipfile.ZipFile(io.BytesIO(data)) as archive:  # and every part (titles, comments)
            cells += [archive.read(n).decode("utf-8", "replace") for n in archive.namelist()]
        return "\n".join(cells)
    if kind == RunOutput.Kind.SAV:
        import pyreadstat

        path = output.file.path
        frame, meta = pyreadstat.read_sav(path)
        return frame.to_csv() + str(meta.column_labels) + str(meta.variable_value_labels)
    if kind == RunOutput.Kind.DTA:
        return pd.read_stata(io.BytesIO(data)).to_csv() + data.decode("latin-1")
    return data.decode("utf-8", "replace")


@pytest.mark.django_db
def test_no_marker_leaves_in_any_export_report_output_or_log(shared_media, caplog):
    nt, sh = make_site("NT"), make_site("SH", "Shanghai")
    markers: dict[str, str] = {}
    with caplog.at_level(logging.DEBUG):
        for site, tag in ((nt, "N"), (sh, "S")):
            manager = make_data_manager(site)
            generate_patients(site=site, count=25, seed=2, user=manager)
            _, planted = planted_patient(site, manager, tag=tag)
            markers.update({f"{tag}:{k}": v for k, v in planted.items()})
        investigator = make_user("inv", Role.REGISTRY_INVESTIGATOR)
        own_manager = make_data_manager(nt, "dm-nt-own")

        found: list[str] = []
        for user in (own_manager, investigator, make_user("admin", Role.REGISTRY_ADMIN)):
            for name, text in all_text(user):
                found += [
                    f"{user.username} export {name}: {k}" for k, v in markers.items() if v in text
                ]
        dictionary = exports.export_dictionary_csv().decode()
        found += [f"dictionary: {k}" for k, v in markers.items() if v in dictionary]

        run = queue_run(investigator, make_cohort("Both sites", [nt, sh]))
        run_execute(run.pk)
        run = AnalysisRun.objects.get(pk=run.pk)
        # A small two-site registry may not support every model: the run still writes every
        # output, and that is what is searched.
        assert run.status in (RunStatus.SUCCEEDED, RunStatus.SUCCEEDED_WITH_WARNINGS), run.error
        outputs = list(run.outputs.all())
        kinds = {o.kind for o in outputs}
        assert {"pdf", "html", "xlsx", "csv", "svg", "dataset_csv", "sav", "dta"} <= kinds
        for output in outputs:
            if output.kind == RunOutput.Kind.PNG:
                continue  # pixels: the SVG of the same figure is searched
            text = output_text(output)
            found += [f"run output {output.name}: {k}" for k, v in markers.items() if v in text]
        stored = str(run.result) + str(run.provenance)
        found += [f"run record: {k}" for k, v in markers.items() if v in stored]

    found += [f"log: {k}" for k, v in markers.items() if v in caplog.text]
    assert len(markers) >= 2 * 14
    assert found == []
