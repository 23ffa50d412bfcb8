"""Treatment patterns and variable groupings (analytics.groupings) on hand-written cases."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from analytics.groupings import (
    DefinitionError,
    PatternGrouping,
    TreatmentPattern,
    TreatmentRow,
    VariableGrouping,
    matches,
)

D0 = dt.date(2023, 1, 10)


def day(n: int) -> dt.date:
    return D0 + dt.timedelta(days=n)


def pattern(**kwargs) -> TreatmentPattern:
    return TreatmentPattern.from_dict({"anchor": "first_tace", "window_end_days": 30, **kwargs})


TACE = TreatmentRow("tace", D0)


def drug(cls: str, n: int = 0, agent: str = "") -> TreatmentRow:
    return TreatmentRow("systemic", day(n), cls, agent)


def test_any_of_needs_one_term_and_all_of_needs_every_term():
    any_of = pattern(clauses=[{"combine": "any_of", "terms": ["pd1_pdl1", "tki"]}])
    all_of = pattern(clauses=[{"combine": "all_of", "terms": ["pd1_pdl1", "tki"]}])
    rows = [TACE, drug("tki", 5)]

    assert matches(any_of, rows)
    assert not matches(all_of, rows)
    assert matches(all_of, [*rows, drug("pdl1", 30)])
    assert not matches(all_of, [*rows, drug("pdl1", 31)])  # the day after the window


def test_mtt_includes_anti_vegf_and_an_agent_term_names_one_drug():
    rows = [TACE, drug("anti_vegf", 3, "bevacizumab")]

    assert matches(pattern(clauses=[{"combine": "all_of", "terms": ["mtt"]}]), rows)
    assert not matches(pattern(clauses=[{"combine": "all_of", "terms": ["tki"]}]), rows)
    assert matches(pattern(clauses=[{"combine": "all_of", "terms": ["agent:bevacizumab"]}]), rows)
    assert not matches(
        pattern(clauses=[{"combine": "all_of", "terms": ["agent:lenvatinib"]}]), rows
    )


def test_window_start_excludes_the_days_before_it():
    late = pattern(window_start_days=7, clauses=[{"combine": "all_of", "terms": ["systemic"]}])

    assert not matches(late, [TACE, drug("tki", 6)])
    assert matches(late, [TACE, drug("tki", 7)])


def test_refractoriness_anchor_and_minimum_tace_sessions_before_it():
    p = TreatmentPattern.from_dict(
        {
            "anchor": "refractoriness:seed002_operational",
            "window_end_days": 30,
            "min_tace_before": 2,
            "clauses": [{"combine": "all_of", "terms": ["systemic"]}],
        }
    )
    refractory = {"seed002_operational": day(100)}
    two = [TACE, TreatmentRow("tace", day(40)), drug("tki", 110)]

    assert matches(p, two, refractoriness_dates=refractory)
    assert not matches(p, two[1:], refractoriness_dates=refractory)  # one session before
    assert not matches(p, two)  # not refractory: no anchor, never a member
    # A session on the anchor day is not "before" it.
    on_day = [TACE, TreatmentRow("tace", day(100)), drug("tki", 110)]
    assert not matches(p, on_day, refractoriness_dates=refractory)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"anchor": "diagnosis", "window_end_days": 30}, "anchor"),
        ({"anchor": "first_tace", "window_end_days": -1}, "window_end_days"),
        ({"anchor": "first_tace", "window_end_days": 1.5}, "window_end_days"),
        (
            {
                "anchor": "first_tace",
                "window_end_days": 30,
                "clauses": [{"combine": "most_of", "terms": ["tki"]}],
            },
            "clauses[0].combine",
        ),
        (
            {
                "anchor": "first_tace",
                "window_end_days": 30,
                "clauses": [{"combine": "all_of", "terms": ["aspirin"]}],
            },
            "terms",
        ),
        ({"anchor": "first_tace", "window_end_days": 30, "colour": "red"}, "pattern"),
    ],
)
def test_bad_patterns_are_refused_naming_the_field(data, field):
    with pytest.raises(DefinitionError) as error:
        TreatmentPattern.from_dict(data)
    assert error.value.field == field


def test_pattern_arms_are_tried_in_order_first_match_wins():
    grouping = PatternGrouping.from_dict(
        {
            "arms": [
                {
                    "label": "combination",
                    "pattern": {
                        "anchor": "first_tace",
                        "window_end_days": 30,
                        "clauses": [{"combine": "all_of", "terms": ["pd1_pdl1", "tki"]}],
                    },
                },
                {"label": "any TACE", "pattern": {"anchor": "first_tace", "window_end_days": 30}},
            ]
        }
    )
    treatments = pd.DataFrame(
        {
            "patient_id": [1, 1, 1, 2, 3],
            "modality": ["tace", "systemic", "systemic", "tace", "systemic"],
            "day": [0.0, 1.0, 1.0, 0.0, 0.0],
            "drug_class": ["", "pd1", "tki", "", "tki"],
            "agent": ["", "", "", "", ""],
        }
    )
    patients = pd.DataFrame({"patient_id": [1, 2, 3], "index_day": [0.0, 0.0, 0.0]})

    assert grouping.assign(treatments, patients).tolist() == ["combination", "any TACE", None]


def test_categorical_grouping_maps_levels_and_leaves_others_out():
    grouping = VariableGrouping.from_dict(
        {
            "variable": "ecog_ps",
            "groups": [{"label": "0", "values": [0]}, {"label": "1-2", "values": ["1", 2]}],
        }
    )
    frame = pd.DataFrame({"ecog_ps": [0.0, 1.0, 2.0, 3.0, np.nan]})

    assert grouping.assign(frame).tolist() == ["0", "1-2", "1-2", None, None]


def test_continuous_cuts_are_closed_below_open_above():
    grouping = VariableGrouping.from_dict({"variable": "age", "cuts": [60, 70]})
    frame = pd.DataFrame({"age": [59.9, 60.0, 69.99, 70.0, np.nan]})

    assert grouping.labels == ["< 60", "60 to < 70", "≥ 70"]
    assert grouping.assign(frame).tolist() == ["< 60", "60 to < 70", "60 to < 70", "≥ 70", None]


@pytest.mark.parametrize(
    "data",
    [
        {"variable": "sex", "groups": [{"label": "m", "values": ["male"]}]},
        {
            "variable": "sex",
            "groups": [{"label": "a", "values": ["male"]}, {"label": "b", "values": ["male"]}],
        },
        {"variable": "age", "cuts": [70, 60]},
        {"variable": "age"},
    ],
)
def test_bad_variable_groupings_are_refused(data):
    with pytest.raises(DefinitionError):
        VariableGrouping.from_dict(data)


def test_an_unknown_variable_is_named():
    grouping = VariableGrouping.from_dict({"variable": "shoe_size", "cuts": [40]})

    with pytest.raises(DefinitionError, match="shoe_size"):
        grouping.assign(pd.DataFrame({"age": [1.0]}))
