"""Indexes behind the filters of the API and of the admin lists.

Every list pages by a unique key (``registry.api.pagination``): ``WHERE <filter> AND id > <last>
ORDER BY id LIMIT n``. A ``(filter field, id)`` index answers that as one index range scan,
so a filtered page costs the same at 10,000 and at 1,000,000 rows; for a date range it is
an ordinary date index. One helper, so every model names its indexes the same way.
"""

from __future__ import annotations

from django.db import models


def keyset_indexes(prefix: str, *fields: str, key: str = "id") -> list[models.Index]:
    """One ``(field, key)`` index per filtered field, named ``<prefix>_<field>`` (≤ 30 chars)."""
    return [models.Index(fields=[field, key], name=f"{prefix}_{field}"[:30]) for field in fields]


def patient_list_indexes() -> list[models.Index]:
    """Behind the admin patient list's sorts, search and refractoriness filter.

    The sortable columns get ``(column, study_id)``; the search for a site's own reference is
    ``site_id IN (...) AND UPPER(site_patient_ref) = UPPER(term)`` (``iexact``); the
    refractoriness filter compares the stored status of one rule set inside the JSON field.
    """
    from django.db.models import F
    from django.db.models.fields.json import KeyTransform
    from django.db.models.functions import Upper

    from registry.choices import RefractorinessRuleSet as Rules

    short = {
        Rules.JSH_LCSGJ_2014: "jsh2014",
        Rules.SEED002: "seed002",
        Rules.AFTER_N_CYCLES: "after_n",
    }
    return [
        *keyset_indexes("patient", "completeness_pct", "updated_at", key="study_id"),
        models.Index(F("site"), Upper("site_patient_ref"), name="patient_own_ref_upper"),
        *[
            models.Index(
                KeyTransform("status", KeyTransform(rule, "tace_refractoriness")),
                name=f"patient_refr_{name}",
            )
            for rule, name in short.items()
        ],
    ]
