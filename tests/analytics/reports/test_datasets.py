"""The analysis dataset exported as CSV + dictionary, SPSS .sav and Stata .dta: read back with
pyreadstat, same rows and values, valid names, labels from the dictionary."""

from __future__ import annotations

import datetime as dt
import io
import re

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from analytics.reports.datasets import dataset_files, export_name
from analytics.reports.dictionary import COLUMNS, default_dictionary

VALID_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")


@pytest.fixture(scope="module")
def exported(cohort) -> dict[str, bytes]:
    frame = cohort.assign(site_patient_ref="SECRET-MRN-000001")
    return dataset_files(frame, default_dictionary(frame))


def _read(exported, suffix: str, tmp_path):
    path = tmp_path / f"analysis_dataset.{suffix}"
    path.write_bytes(exported[f"analysis_dataset.{suffix}"])
    reader = pyreadstat.read_sav if suffix == "sav" else pyreadstat.read_dta
    return reader(str(path))


def test_it_writes_the_four_files(exported):
    assert sorted(exported) == [
        "analysis_dataset.csv",
        "analysis_dataset.dta",
        "analysis_dataset.sav",
        "data_dictionary.csv",
    ]


def test_no_file_carries_the_site_patient_reference(exported):
    for name, content in exported.items():
        assert b"SECRET-MRN" not in content, name
        assert b"site_patient_ref" not in content, name


def test_csv_reads_back_with_every_row(exported, cohort):
    back = pd.read_csv(io.BytesIO(exported["analysis_dataset.csv"]))
    assert list(back.columns) == list(cohort.columns)
    assert back["study_id"].tolist() == cohort["study_id"].tolist()
    assert np.allclose(back["os_months"], cohort["os_months"])


@pytest.mark.parametrize("suffix", ["sav", "dta"])
def test_stats_package_files_read_back_with_the_same_values(exported, cohort, suffix, tmp_path):
    data, _meta = _read(exported, suffix, tmp_path)
    assert len(data) == len(cohort)
    assert data["study_id"].tolist() == cohort["study_id"].tolist()
    assert np.allclose(data["age"], cohort["age"])
    assert data["index_date"].tolist() == cohort["index_date"].tolist()
    assert data["hbv"].tolist() == cohort["hbv"].astype(float).tolist()
    # None in a text column becomes "" (SPSS/Stata strings have no missing value).
    assert data["death_cause"].tolist() == cohort["death_cause"].fillna("").tolist()
    assert np.array_equal(data["ae_fever_grade"].isna(), cohort["ae_fever_grade"].isna())


@pytest.mark.parametrize("suffix", ["sav", "dta"])
def test_variables_carry_labels_and_value_labels(exported, suffix, tmp_path):
    _, meta = _read(exported, suffix, tmp_path)
    labels = meta.column_names_to_labels
    assert labels["age"] == "Age at the index date (years)"
    assert labels["ae_rash_maculo_papular"] == "Adverse event Rash maculo-papular: any grade"
    assert meta.variable_value_labels["os_event"] == {0: "censored", 1: "death"}


@pytest.mark.parametrize("suffix", ["sav", "dta"])
def test_names_are_valid_in_spss_and_stata(exported, suffix, tmp_path):
    _, meta = _read(exported, suffix, tmp_path)
    assert all(VALID_NAME.match(name) for name in meta.column_names)
    assert "refractory_progression_after_n_c" in meta.column_names


def test_the_dictionary_records_the_exported_name(exported):
    dictionary = pd.read_csv(io.BytesIO(exported["data_dictionary.csv"]), keep_default_na=False)
    line = dictionary.set_index("column").loc["refractory_progression_after_n_cycles"]
    assert line["export_name"] == "refractory_progression_after_n_c"
    assert list(dictionary.columns[:5]) == ["column", "label", "type", "unit", "coding"]


def test_export_names_are_unique_and_never_reserved():
    taken: set[str] = set()
    names = [export_name(c, taken) for c in ["a" * 40, "a" * 40, "1st", "in", "x-y", "IN"]]
    assert names[0] == "a" * 32
    assert names[1] == "a" * 30 + "_2"
    assert names[2] == "v_1st"
    assert names[3] == "in_"
    assert names[4] == "x_y"
    assert names[5] == "IN__2"


def test_dictionary_describes_every_contract_column(cohort):
    dictionary = default_dictionary(cohort).set_index("column")
    assert list(dictionary.index) == list(cohort.columns)
    for column in COLUMNS:
        if column in dictionary.index:
            assert dictionary.loc[column, "label"] == COLUMNS[column].label
    assert dictionary.loc["os_months", "unit"] == "months"
    assert dictionary.loc["ae_vomiting_grade", "label"].startswith("Adverse event Vomiting")


def test_dictionary_falls_back_for_unknown_columns():
    frame = pd.DataFrame({"mystery": [1.5], "ae_new_term": [1], "ae_new_term_grade": [2.0]})
    dictionary = default_dictionary(frame).set_index("column")
    assert dictionary.loc["mystery", "coding"] == "no description in the dictionary"
    assert dictionary.loc["mystery", "type"] == "float"
    assert dictionary.loc["ae_new_term", "label"] == "Adverse event New term: any grade"


def test_odd_python_types_are_converted_for_spss(tmp_path):
    frame = pd.DataFrame(
        {
            "flag": [True, None, False],
            "when": [dt.datetime(2024, 1, 2, 3, 4), None, dt.datetime(2024, 2, 3)],
            "mixed": ["a", 3, None],
            "count": pd.array([1, None, 3], dtype="Int64"),
        }
    )
    files = dataset_files(frame)
    path = tmp_path / "odd.sav"
    path.write_bytes(files["analysis_dataset.sav"])
    data, _ = pyreadstat.read_sav(str(path))
    assert data["flag"].tolist()[::2] == [1.0, 0.0]
    assert np.isnan(data["flag"].iloc[1])
    assert data["mixed"].tolist() == ["a", "3", ""]
    assert data["count"].iloc[2] == 3
    assert data["when"].iloc[0] == pd.Timestamp(2024, 1, 2, 3, 4)


def test_dataset_csv_text_never_becomes_a_formula(cohort):
    """registry.spreadsheets.safe_cell on every text cell; numbers (negative too) untouched."""
    frame = cohort.head(3).assign(death_cause=["=1+1", "@SUM(A1)", "tumour"])
    files = dataset_files(frame)
    back = pd.read_csv(io.BytesIO(files["analysis_dataset.csv"]))
    assert back["death_cause"].tolist() == ["'=1+1", "'@SUM(A1)", "tumour"]
    assert back["albi_score"].tolist() == pytest.approx(frame["albi_score"].tolist())
    assert (back["albi_score"] < 0).all()
