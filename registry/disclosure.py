"""What each CRF field may reveal: the one declaration exports, the API, the admin and reports read.

Every field of a CRF model is one of three kinds:

- ``identifying``: names a person at a site (the site's own patient reference). It never leaves
  that site, in no export, report or screen of another site's user.
- ``free_text``: typed by a person at a site. A hospital's free text may carry names, local
  numbers or dates, so it is treated as identifying: only the site's own staff read it
  (``registry.access.hidden_fields``), and it leaves the registry only in an identified export
  of the user's own site. De-identified exports and reports never carry it.
- ``coded``: everything else (choices, numbers, dates, derived values), shared registry-wide.

A field not listed below is coded. ``tests/registry/security/test_disclosure.py`` fails when a
CRF model gains a text field without choices that is not declared here, so a new free-text
field cannot leak by default.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models

from registry.models import (
    AdverseEvent,
    Death,
    FollowUp,
    HaicCycle,
    ImagingAssessment,
    LabPanel,
    LesionMeasurement,
    LocalProcedure,
    Patient,
    ProgressionEvent,
    RadiotherapyCourse,
    SystemicTherapy,
    TaceSession,
)


class Kind(StrEnum):
    IDENTIFYING = "identifying"
    FREE_TEXT = "free_text"
    CODED = "coded"


IDENT, F, C = Kind.IDENTIFYING, Kind.FREE_TEXT, Kind.CODED

DECLARED: dict[type[models.Model], dict[str, Kind]] = {
    Patient: {
        "site_patient_ref": IDENT,
        "other_comorbidities": F,
        "bclc_override_reason": F,
        # Registry-assigned or derived text: no person typed it.
        "study_id": C,
        "albi_grade": C,
        "malbi_grade": C,
    },
    LabPanel: {"albi_grade": C, "malbi_grade": C},
    TaceSession: {"notes": F, "microsphere_size_um": F},
    HaicCycle: {"notes": F},
    RadiotherapyCourse: {"notes": F},
    LocalProcedure: {"notes": F, "technique": F},
    SystemicTherapy: {"notes": F, "agent_other": F, "schedule": F},
    ImagingAssessment: {"response_reason": C},  # written by the mRECIST/RECIST derivation
    LesionMeasurement: {"location": F},
    AdverseEvent: {"other_specify": F},
    FollowUp: {"notes": F},
    ProgressionEvent: {"notes": F},
    Death: {"notes": F},
}


def kind_of(model: type[models.Model], field_name: str) -> Kind:
    return DECLARED.get(model, {}).get(field_name, Kind.CODED)


def fields_of_kind(model: type[models.Model], *kinds: Kind) -> frozenset[str]:
    return frozenset(name for name, kind in DECLARED.get(model, {}).items() if kind in kinds)


def site_only_fields(model: type[models.Model]) -> frozenset[str]:
    """Identifying and free-text fields: read by the site's own staff only."""
    return fields_of_kind(model, Kind.IDENTIFYING, Kind.FREE_TEXT)


def site_only_field_names() -> frozenset[str]:
    """Every identifying or free-text field name of any CRF model (for filters on names)."""
    return frozenset(name for model in DECLARED for name in site_only_fields(model))
