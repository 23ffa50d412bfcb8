"""Covariates and groupings chosen from the analysis-variable dictionary (analytics.variables)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics import covariates as registry
from analytics.groupings import DefinitionError, VariableGrouping
from analytics.variables import (
    check_covariates,
    check_grouping_variable,
    check_groups,
    covariate_from_spec,
    group_sizes,
    materialise,
)


@pytest.mark.parametrize(
    ("spec", "name"),
    [
        ({"variable": "age"}, "age"),
        ({"variable": "sex", "coding": "binary", "positive": ["male"]}, "male"),
        ({"variable": "afp_ng_ml", "coding": "log10"}, "log10_afp"),
        ({"variable": "bclc_stage", "coding": "binary", "positive": ["C", "D"]}, "bclc_c"),
        (
            {"variable": "child_pugh_class", "coding": "categorical", "reference": "A"},
            "child_pugh_class",
        ),
    ],
)
def test_a_coding_the_registry_already_has_is_that_covariate(spec, name):
    assert covariate_from_spec(spec) is registry.COVARIATES[name]


def test_ecog_may_enter_continuous_categorical_or_split():
    continuous = covariate_from_spec({"variable": "ecog_ps", "coding": "continuous"})
    categorical = covariate_from_spec(
        {"variable": "ecog_ps", "coding": "categorical", "reference": 1}
    )
    split = covariate_from_spec({"variable": "ecog_ps", "coding": "binary", "above": 0})
    frame = pd.DataFrame({"ecog_ps": [0.0, 1.0, 2.0, np.nan]})

    data = materialise(frame, [continuous, categorical, split])

    assert continuous.name == "ecog_ps"
    assert categorical.reference == "1"
    assert categorical.design(data).columns.tolist() == [
        f"{categorical.name}[{level}]" for level in ("0", "2", "3", "4")
    ]
    assert data[split.name].tolist()[:3] == [0.0, 1.0, 1.0]
    assert np.isnan(data[split.name].iloc[3])


def test_a_binary_split_at_a_value_is_strictly_above_it():
    """Split "above 65": 65 itself is 0 (≤ 65), 65.1 is 1."""
    cov = covariate_from_spec({"variable": "age", "coding": "binary", "above": 65})

    data = materialise(pd.DataFrame({"age": [64.0, 65.0, 65.1]}), [cov])

    assert data[cov.name].tolist() == [0.0, 0.0, 1.0]
    assert "> 65" in cov.label


@pytest.mark.parametrize(
    ("spec", "field", "words"),
    [
        ({"variable": "shoe_size"}, "variable", "unknown variable 'shoe_size'"),
        ({"variable": "sex", "coding": "log10"}, "coding", "sex (categorical) may be coded"),
        ({"variable": "os_months"}, "variable", "unknown variable 'os_months'"),
        (
            {"variable": "child_pugh_class", "coding": "categorical", "reference": "D"},
            "reference",
            "'D'",
        ),
        ({"variable": "bclc_stage", "coding": "binary", "positive": ["E"]}, "positive", "E"),
        ({"variable": "sex", "coding": "binary", "above": 1}, "above", "not a number"),
        ({"variable": "age", "colour": "red"}, "covariates", "colour"),
    ],
)
def test_bad_covariate_specs_are_refused_naming_the_problem(spec, field, words):
    with pytest.raises(DefinitionError) as error:
        covariate_from_spec(spec)

    assert error.value.field == field
    assert words in str(error.value)


def test_a_constant_covariate_and_an_absent_reference_level_are_named():
    frame = pd.DataFrame(
        {
            "age": [60.0, 61.0, 62.0],
            "hbv": [1.0, 1.0, np.nan],
            "child_pugh_class": ["B", "B", "C"],
        }
    )
    hbv = covariate_from_spec({"variable": "hbv", "coding": "binary"})
    cp = covariate_from_spec(
        {"variable": "child_pugh_class", "coding": "categorical", "reference": "A"}
    )
    age = covariate_from_spec({"variable": "age"})

    problems = check_covariates(frame, [age, hbv, cp])

    assert len(problems) == 2
    assert "Hepatitis B aetiology: constant in the cohort" in problems[0]
    assert "reference level 'A'" in problems[1]
    assert check_covariates(frame, [age]) == []


def test_grouping_checks_name_the_empty_group_and_a_wrong_variable_kind():
    grouping = VariableGrouping.from_dict(
        {
            "variable": "child_pugh_class",
            "groups": [{"label": "A", "values": ["A"]}, {"label": "B/C", "values": ["B", "C"]}],
        }
    )
    labels = grouping.assign(pd.DataFrame({"child_pugh_class": ["B", "C", None]}))

    assert check_groups(labels, grouping.labels) == ["group 'A' has no patient in the cohort"]
    assert group_sizes(labels, grouping.labels) == {"A": 0, "B/C": 2, "(in no group)": 1}
    with pytest.raises(DefinitionError, match="not cut at points"):
        check_grouping_variable(VariableGrouping.from_dict({"variable": "sex", "cuts": [1]}))
    with pytest.raises(DefinitionError, match="cut points"):
        check_grouping_variable(
            VariableGrouping.from_dict(
                {
                    "variable": "age",
                    "groups": [{"label": "a", "values": ["1"]}, {"label": "b", "values": ["2"]}],
                }
            )
        )
    with pytest.raises(DefinitionError, match="D not a level"):
        check_grouping_variable(
            VariableGrouping.from_dict(
                {
                    "variable": "child_pugh_class",
                    "groups": [{"label": "a", "values": ["A"]}, {"label": "b", "values": ["D"]}],
                }
            )
        )


def test_the_exported_data_dictionary_describes_a_dictionary_covariate_with_its_coding():
    from analytics.reports.dictionary import default_dictionary

    ecog = covariate_from_spec({"variable": "ecog_ps", "coding": "categorical", "reference": 0})
    old = covariate_from_spec({"variable": "age", "coding": "binary", "above": 70})
    frame = materialise(pd.DataFrame({"ecog_ps": [0.0, 1.0], "age": [60.0, 75.0]}), [ecog, old])

    rows = default_dictionary(frame).set_index("column")

    assert rows.loc[ecog.name, "coding"] == "categorical: 1, 2, 3, 4 each vs 0 (reference)"
    assert rows.loc[ecog.name, "label"].endswith("(from ecog_ps)")
    assert rows.loc[old.name, "coding"].endswith("= 1, ≤ 70 = 0")
