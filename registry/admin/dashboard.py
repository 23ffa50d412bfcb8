"""The site dashboard on the admin index: where each of the user's sites stands."""

from __future__ import annotations

from collections import Counter

from django.db.models import Count

from registry import access, services
from registry.choices import FlagStatus, RecordStatus
from registry.models import DataQualityFlag, DataQuery

# The most recently changed drafts checked for missing data: the page lists 25 of them, and the
# check fetches every lab panel of the drafts it is given.
MISSING_LIMIT = 100


def site_dashboard(user) -> dict:
    patients = access.patients_for(user)
    counts = patients.values_list("site__code", "status").annotate(n=Count("pk"))
    statuses = list(RecordStatus)
    by_site: dict[str, dict[str, int]] = {}
    for code, status, n in counts:
        by_site.setdefault(code, dict.fromkeys(statuses, 0))[status] = n
    status_rows = [
        {"site": code, "counts": [row[s] for s in statuses], "total": sum(row.values())}
        for code, row in sorted(by_site.items())
    ]

    drafts = list(
        patients.filter(status=RecordStatus.DRAFT).order_by("-updated_at")[:MISSING_LIMIT]
    )
    missing_of = services.patients_critical_missing(p.pk for p in drafts)
    missing_rows = []
    missing_counts: Counter[str] = Counter()
    for patient in drafts:
        missing = missing_of.get(patient.pk, [])
        if missing:
            missing_rows.append({"patient": patient, "missing": missing})
            missing_counts.update(missing)

    queries = DataQuery.objects.filter(patient__in=patients).exclude(status=DataQuery.Status.CLOSED)
    flags = DataQualityFlag.objects.filter(patient__in=patients, status=FlagStatus.OPEN)
    return {
        "statuses": [s.label for s in statuses],
        "status_rows": status_rows,
        "missing_rows": missing_rows[:25],
        "missing_total": len(missing_rows),
        "missing_counts": missing_counts.most_common(),
        "missing_limit": MISSING_LIMIT,
        "drafts_checked": len(drafts),
        "open_query_count": queries.count(),
        "open_queries": list(
            queries.select_related("patient", "opened_by").order_by("-opened_at")[:10]
        ),
        "flag_counts": list(
            flags.values_list("severity").annotate(n=Count("pk")).order_by("severity")
        ),
        "open_flag_count": flags.count(),
        # Links only where the user may go: a link that answers 403 is a dead end.
        "can_import": _may(user, access.Action.IMPORT),
        "can_export": _may(user, access.Action.EXPORT),
        "can_analyse": _may(user, access.Action.ANALYSE),
    }


def _may(user, action) -> bool:
    ids = access.site_ids_for(user, action)
    return ids is None or bool(ids)
