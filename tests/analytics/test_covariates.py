"""The covariate registry: one declaration of each covariate's coding, read everywhere."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics import covariates
from analytics.covariates import COVARIATES, Coding, Covariate
from analytics.reports.dictionary import COLUMNS


def test_child_pugh_label_and_coding_agree_for_class_c():
    """Issue 12: the report printed "Child-Pugh B = 1, A = 0" while C was coded 1 too."""
    child_pugh = COVARIATES["child_pugh_b"]
    coded = child_pugh.derive(pd.DataFrame({"child_pugh_class": ["A", "B", "C", None]}))
    assert coded.tolist()[:3] == [0.0, 1.0, 1.0]
    assert np.isnan(coded.iloc[3])
    assert child_pugh.label == "Child-Pugh B or C (vs A)"
    assert child_pugh.coding_text == "B or C = 1, A = 0"


def test_bclc_stage_d_is_coded_and_labelled_with_c():
    bclc = COVARIATES["bclc_c"]
    frame = pd.DataFrame({"bclc_stage": ["0", "A", "B", "C", "D"]})
    assert bclc.derive(frame).tolist() == [0, 0, 0, 1, 1]
    assert "C or D" in bclc.label
    assert bclc.coding_text == "C or D = 1, 0/A/B = 0"


def test_unknown_sex_is_missing_not_female():
    male = COVARIATES["male"].derive(pd.DataFrame({"sex": ["male", "female", None]}))
    assert male.tolist()[:2] == [1.0, 0.0]
    assert np.isnan(male.iloc[2])


def test_log10_afp_of_zero_is_missing():
    afp = COVARIATES["log10_afp"].derive(pd.DataFrame({"afp_ng_ml": [1000.0, 0.0, -1.0]}))
    assert afp.iloc[0] == pytest.approx(3.0)
    assert afp.iloc[1:].isna().all()


def test_tumour_number_splits_single_and_multiple():
    multiple = COVARIATES["tumour_multiple"].derive(pd.DataFrame({"tumour_number": [1, 2, 5]}))
    assert multiple.tolist() == [0.0, 1.0, 1.0]
    assert COVARIATES["tumour_multiple"].coding_text.startswith("multiple (> 1 tumours) = 1")


def test_a_categorical_covariate_has_k_minus_1_indicators_against_its_reference():
    frame = pd.DataFrame({"child_pugh_class": ["A", "B", "C", None, "X"]})
    design = covariates.design(frame, ["child_pugh_class"])
    assert design.terms == {"child_pugh_class": ["child_pugh_class[B]", "child_pugh_class[C]"]}
    assert design.frame["child_pugh_class[B]"].tolist()[:3] == [0.0, 1.0, 0.0]
    assert design.frame.iloc[3:].isna().all().all()  # missing and unknown levels stay missing
    assert design.labels["child_pugh_class[C]"] == "Child-Pugh class: C (vs A)"


def test_albi_grade_as_number_or_text_is_the_same_level():
    frame = pd.DataFrame({"albi_grade": ["1", 2, 3.0]})
    design = covariates.design(frame, ["albi_grade"])
    assert design.frame.to_numpy().tolist() == [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]


def test_a_categorical_covariate_needs_a_reference_level_among_its_levels():
    with pytest.raises(ValueError, match="reference level"):
        Covariate("stage", "Stage", Coding.CATEGORICAL, "stage", levels=("I", "II"), reference="0")


def test_the_dataset_dictionary_describes_the_coded_columns_from_the_registry():
    for covariate in covariates.derived_covariates():
        assert COLUMNS[covariate.name].coding.startswith(covariate.coding_text)
        assert covariate.label in COLUMNS[covariate.name].label


def test_derive_columns_follows_a_source_override():
    """The cohort may analyse the derived BCLC stage instead of the stage used."""
    frame = pd.DataFrame({"bclc_stage": ["C"], "bclc_stage_derived": ["B"]})
    covariates.derive_columns(frame, sources={"bclc_c": "bclc_stage_derived"})
    assert frame["bclc_c"].tolist() == [0.0]


def test_the_run_form_offers_every_registered_covariate_with_its_coding():
    from analytics.forms import RunForm

    field = RunForm.base_fields["covariates"]
    labels = dict(field.choices)
    assert set(labels) == set(COVARIATES)
    assert labels["child_pugh_b"] == "Child-Pugh B or C (vs A) — B or C = 1, A = 0"


def test_the_propensity_model_uses_the_registry_design_of_a_categorical_covariate():
    """Matching on ALBI grade uses its indicators against grade 1, labelled by level."""
    from tests.analytics.reports.cohort import synthetic_cohort
    from tests.analytics.reports.conftest import make_report
    from tests.analytics.reports.helpers import table

    cohort = synthetic_cohort()
    tertile = pd.qcut(cohort["albi_score"], 3, labels=["1", "2", "3"]).astype(str)
    report = make_report(
        "custom",
        cohort.assign(albi_grade=tertile),
        sections=["matching"],
        options={"matching_covariates": ["age", "albi_grade"]},
    )
    balance = table(report, "matching", "matching_balance").frame
    assert balance["Covariate"].tolist() == [
        "Propensity score (logit)",
        "Age (years)",
        "ALBI grade: 2 (vs 1)",
        "ALBI grade: 3 (vs 1)",
    ]
