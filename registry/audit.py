"""Who, when and why of a change, and the audit rows of the derived values that follow from it.

Derived values (a patient's ALBI, Child-Pugh, BCLC, best response, refractoriness…, a scan's
response) are recomputed after the audited save of their inputs, from every row of the patient,
and stored by plain UPDATEs (``registry.services``). So that a reader of the history sees, for
each change, the derived values that followed from it, every row whose derived values the
refresh changed gets an audit row of its own (``~``), attributed to the same user, time and
reason as the change it follows from. A refresh that changes nothing derived adds nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import models
from django.utils import timezone

from registry.imports.writing import audit_rows

# The reason of a refresh that no entry caused (e.g. a new version of a derivation).
RECOMPUTED = "Derived values recomputed"


@dataclass(frozen=True)
class Attribution:
    """The user, time and reason an audit row is attributed to."""

    user: models.Model | None = None
    reason: str = RECOMPUTED
    when: dt.datetime = field(default_factory=timezone.now)

    @classmethod
    def of(cls, user, reason: str, when: dt.datetime | None = None) -> Attribution:
        known = user if user is not None and user.is_authenticated else None
        return cls(user=known, reason=reason or "", when=when or timezone.now())


def attribute(record: models.Model, attribution: Attribution) -> None:
    """Have the next audited save (or delete) of ``record`` attributed to ``attribution``."""
    if attribution.user is not None:
        record._history_user = attribution.user
    if attribution.reason:
        record._change_reason = attribution.reason
    record._history_date = attribution.when


def audit_derived(model: type[models.Model], records: list, attribution: Attribution) -> None:
    """A ``~`` audit row for each of ``records``, whose derived values were just UPDATEd."""
    audit_rows(
        records,
        model,
        user=attribution.user,
        reason=attribution.reason,
        when=attribution.when,
    )
