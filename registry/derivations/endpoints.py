"""A patient's endpoints at a data cut-off: best overall response, ORR/DCR, first progression,
OS and PFS (CRF.md §5 and §8), from the rows every path reads alike.

The one combination of the column-wise rules of ``registry.derivations.response`` and
``registry.derivations.survival``: the analysis dataset calls it for all its patients at once,
and the patient workspace, the exports and the API for the patients they show
(``registry.endpoints``). Pure pandas/numpy, no ORM.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from registry.derivations.response import line_responses, response_rates
from registry.derivations.survival import (
    DAYS_PER_MONTH,
    first_from_index,
    latest_on_or_before,
    survival_at_cutoff,
)

ENDPOINTS_VERSION = "endpoints-at-cutoff:1"
DAY_COLUMNS = ["patient_id", "day"]
ENDPOINT_COLUMNS = [
    "best_response",
    "objective_response",
    "disease_control",
    "imaging_progression_day",  # first PD of the studied line by the cut-off
    "progression_day",  # first progression from the index date (a PFS event) by the cut-off
    "last_alive_day",
    "last_evaluable_day",
    "os_days",
    "os_months",
    "os_event",
    "os_reason",
    "pfs_days",
    "pfs_months",
    "pfs_event",
    "pfs_reason",
]


def endpoints_at_cutoff(
    *,
    patient_ids: pd.Series,
    index_days: np.ndarray,
    death_days: np.ndarray,
    scans: pd.DataFrame,
    alive: pd.DataFrame,
    progression_events: pd.DataFrame,
    cutoff_day: float,
) -> pd.DataFrame:
    """``ENDPOINT_COLUMNS`` per patient of ``patient_ids`` (indexed by them).

    Day numbers share one origin (NaN: missing). ``scans``: the patients' scans
    (``registry.derivations.response.SCAN_COLUMNS``, with their derived responses); ``alive``:
    ``DAY_COLUMNS`` rows of the other dates each patient was known alive (follow-up contacts
    with the patient alive, treatment start and end dates, lab dates; scans are added here);
    ``progression_events``: ``DAY_COLUMNS`` of the recorded progression events. Rows may be of
    other patients, and any date, also after the cut-off: the rules decide what is seen.
    """
    index_days = np.asarray(index_days, dtype=float)
    lines, line = line_responses(scans, patient_ids, index_days, cutoff_day)
    best = lines["best_response"].to_numpy()
    orr, dcr = response_rates(best)
    pd_scans = line.loc[line["response"] == "PD", DAY_COLUMNS]
    progression = first_from_index(
        pd.concat([progression_events[DAY_COLUMNS], pd_scans], ignore_index=True),
        patient_ids,
        index_days,
        cutoff_day,
    )
    known_alive = pd.concat([alive[DAY_COLUMNS], scans[DAY_COLUMNS]], ignore_index=True)
    last_alive = latest_on_or_before(known_alive, patient_ids, cutoff_day)
    last_evaluable = lines["last_evaluable_day"].to_numpy(dtype=float)
    survival = survival_at_cutoff(
        index_day=index_days,
        death_day=np.asarray(death_days, dtype=float),
        last_alive_day=last_alive,
        progression_day=progression,
        last_imaging_day=last_evaluable,
        cutoff_day=cutoff_day,
    )
    result = pd.DataFrame(
        {
            "best_response": pd.Series(best, dtype=object).to_numpy(),
            "objective_response": orr,
            "disease_control": dcr,
            "imaging_progression_day": lines["first_pd_day"].to_numpy(dtype=float),
            "progression_day": progression,
            "last_alive_day": last_alive,
            "last_evaluable_day": last_evaluable,
            **{c: survival[c].to_numpy() for c in ENDPOINT_COLUMNS if c in survival.columns},
            "os_months": survival["os_days"].to_numpy() / DAYS_PER_MONTH,
            "pfs_months": survival["pfs_days"].to_numpy() / DAYS_PER_MONTH,
        },
        index=patient_ids.to_numpy(),
        columns=ENDPOINT_COLUMNS,
    )
    return result
