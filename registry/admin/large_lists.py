"""Admin lists that stay fast on a registry of a million patients.

Django's changelist counts the list twice on every request: the filtered rows (for the
paginator) and the whole table (``show_full_result_count``, for "N of M selected"). Both are
``COUNT(*)`` scans that grow with the registry. Here:

- the full count is not shown (``show_full_result_count = False``: Django then offers
  "Show all" without a number);
- the paginator counts at most ``COUNT_CAP + 1`` rows (a LIMITed subquery). Up to
  ``COUNT_CAP`` the total is exact; above it, on PostgreSQL, it is the planner's estimate of
  the filtered list (``EXPLAIN``, which reads ``pg_class.reltuples`` and the column
  statistics; no scan), never less than ``COUNT_CAP + 1``. The page links then follow the
  estimate: a page past the true end is empty, not an error. On SQLite (development, tests)
  there is no planner estimate and the count stays exact.
"""

from __future__ import annotations

import json

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

COUNT_CAP = 10_000


def planner_estimate(queryset) -> int | None:
    """PostgreSQL's estimate of the number of rows ``queryset`` returns, or None elsewhere."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    """Exact count up to ``COUNT_CAP`` rows; above it PostgreSQL's estimate (see module)."""

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if not hasattr(rows, "query"):
            return len(rows)
        cap = COUNT_CAP
        bounded = rows.order_by().values("pk")[: cap + 1].count()
        if bounded <= cap:
            return bounded
        estimate = planner_estimate(rows)
        if estimate is None:
            return rows.count()
        return max(estimate, cap + 1)


class LargeListMixin:
    """For every registry admin: no full-table count, a bounded/estimated paginator count."""

    show_full_result_count = False
    paginator = EstimatedCountPaginator
