"""Whole tables as pandas frames in one query each: what the column-wise derivations read.

Used by the analysis dataset (``analytics.selectors``) and by the registry's endpoints at a
cut-off (``registry.endpoints``): rows of the patients in a queryset, read as a sub-query (never
a list of ids, which SQLite caps and which grows the SQL), with dates as day numbers.
"""

from __future__ import annotations

import pandas as pd
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Func, IntegerField, QuerySet


class EpochDays(Func):
    """Days since 1970-01-01 of a date, computed by the database (NULL stays NULL).

    Day numbers are what the selector compares and subtracts; getting them from the database
    spares converting a Python date object per cell (most of the client's time otherwise).
    """

    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra):  # PostgreSQL: date - date is an integer
        return super().as_sql(
            compiler, connection, template="(%(expressions)s - DATE '1970-01-01')", **extra
        )

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) - 2440587.5 AS INTEGER)",
            **extra,
        )


def fetch_frame(queryset: QuerySet, columns: list[str]) -> pd.DataFrame:
    """The rows of a ``values_list`` queryset as a DataFrame with ``columns``, in one query.

    The queryset's SQL is run on a plain cursor: the database driver's own values, without the
    ORM's per-cell Python converters (on 100,000 patients that is most of the time). Dates
    are fetched as day numbers (``EpochDays``) and booleans may arrive as 0/1 (SQLite): every
    caller passes flags through ``pd.to_numeric``. The query is logged as usual.
    """
    try:
        sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    except EmptyResultSet:  # e.g. ``site_id IN ()``: no visible site, so no rows and no query
        rows = []
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
    if not rows:
        return pd.DataFrame({column: pd.Series(dtype=object) for column in columns})
    return pd.DataFrame.from_records(rows, columns=columns)


def rows_of(model, patients: QuerySet) -> QuerySet:
    """Rows of a child table belonging to the visible patients, as a sub-query (no id list).

    When every patient is visible the filter is left out: it would only add a semi-join.
    """
    if not patients.query.where:
        return model.objects.all()
    return model.objects.filter(patient__in=patients)
