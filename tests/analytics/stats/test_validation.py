"""Every public statistics function refuses survival and indicator input coded another way
than it assumes, with a ValueError naming the column (issue 13, item 3).

R's ``Surv(time, status)`` accepts status 1 = censored / 2 = dead; read as a boolean every
row of such a column is an event, so the functions here accept only 0/1 or boolean.
"""

import numpy as np
import pandas as pd
import pytest

from analytics.stats.cox import fit_cox
from analytics.stats.resistance import compare_resistance
from analytics.stats.response import compare_rate
from analytics.stats.survival import (
    kaplan_meier,
    kaplan_meier_by_group,
    logrank,
    numbers_at_risk,
)
from analytics.stats.validation import check_binary, check_times

R_CODED = pd.DataFrame(
    {
        "months": [3.0, 5.0, 7.0, 9.0, 11.0, 13.0],
        "status": [2, 1, 2, 2, 1, 2],  # R's 1 = censored, 2 = dead
        "arm": ["a", "b", "a", "b", "a", "b"],
        "x": [0.0, 1.0, 1.0, 0.0, 1.0, 0.0],
    }
)
STATUS_ERROR = r"column 'status': value\(s\) 2 not allowed; the event indicator must be 0/1"


def test_kaplan_meier_refuses_r_status_coding():
    with pytest.raises(ValueError, match=STATUS_ERROR):
        kaplan_meier(R_CODED["months"], R_CODED["status"])


def test_kaplan_meier_refuses_a_missing_event():
    """A missing event is not censoring: with no row to leave out, it is an error."""
    with pytest.raises(ValueError, match=r"column 'e': 1 missing value"):
        kaplan_meier(pd.Series([1.0, 2.0]), pd.Series([1.0, np.nan], name="e"))


def test_kaplan_meier_refuses_a_negative_time():
    with pytest.raises(ValueError, match=r"column 'months': value\(s\) -1.0 not allowed"):
        kaplan_meier(pd.Series([-1.0, 2.0], name="months"), pd.Series([1, 0]))


def test_kaplan_meier_by_group_refuses_r_status_coding():
    with pytest.raises(ValueError, match=STATUS_ERROR):
        kaplan_meier_by_group(R_CODED, "months", "status", "arm")


def test_kaplan_meier_by_group_leaves_out_rows_without_time_as_r_na_omit():
    data = R_CODED.assign(status=[1, 0, 1, 1, 0, 1], months=[3.0, np.nan, 7, 9, 11, 13])
    result = kaplan_meier_by_group(data, "months", "status", "arm")
    assert sum(curve.n for curve in result.curves) == 5


def test_logrank_refuses_r_status_coding():
    with pytest.raises(ValueError, match=STATUS_ERROR):
        logrank(R_CODED, "months", "status", "arm")


def test_logrank_refuses_text_events():
    data = R_CODED.assign(status=["dead", "alive", "dead", "dead", "alive", "dead"])
    with pytest.raises(ValueError, match=r"column 'status': value\(s\) 'dead', 'alive'"):
        logrank(data, "months", "status", "arm")


def test_numbers_at_risk_refuses_a_negative_time():
    data = R_CODED.assign(months=[3.0, -5.0, 7, 9, 11, 13])
    with pytest.raises(ValueError, match=r"column 'months': value\(s\) -5.0 not allowed"):
        numbers_at_risk(data, "months", "arm", [0, 6])


def test_fit_cox_refuses_r_status_coding():
    with pytest.raises(ValueError, match=STATUS_ERROR):
        fit_cox(R_CODED, "months", "status", ["x"])


def test_fit_cox_refuses_text_times():
    data = R_CODED.assign(status=[1, 0, 1, 1, 0, 1], months=["3", "5", "7", "9", "11", "x"])
    with pytest.raises(ValueError, match=r"column 'months': value\(s\) '3', '5'"):
        fit_cox(data, "months", "status", ["x"])


def test_compare_resistance_refuses_a_non_binary_indicator():
    data = pd.DataFrame({"arm": ["a", "b", "a", "b"], "resistant": [1, 2, 0, np.nan]})
    with pytest.raises(ValueError, match=r"column 'resistant': value\(s\) 2 not allowed"):
        compare_resistance(data, "resistant", "arm")


def test_compare_rate_refuses_a_non_binary_outcome():
    data = pd.DataFrame({"arm": ["a", "b", "a", "b"]})
    with pytest.raises(ValueError, match=r"column 'ORR': value\(s\) 2 not allowed"):
        compare_rate(data, pd.Series([1, 2, 0, 1]), "arm", ["a", "b"], "ORR")


def test_booleans_and_zero_one_floats_are_accepted():
    assert check_binary(pd.Series([True, False]), "e").tolist() == [True, False]
    assert check_binary(pd.Series([1.0, 0.0]), "e").tolist() == [True, False]
    assert check_times(pd.Series([0.0, 2.5]), "t").tolist() == [0.0, 2.5]
