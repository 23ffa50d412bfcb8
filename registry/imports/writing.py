"""Insert many validated rows with their audit rows, as ``bulk_create_with_history`` does.

On PostgreSQL the rows go in with ``COPY`` instead of multi-row ``INSERT`` statements: Django
builds an INSERT by preparing every value of every row through the field API and psycopg then
quotes each into the statement, which costs more than validating the row. ``COPY`` streams
the values as they are. The primary keys are reserved from the table's own sequence first (one
query), so the rows, and the audit rows that point at them, know their ids as with
``bulk_create``. The audit rows are what ``simple_history``'s ``bulk_history_create`` writes:
every tracked field, the date, the user, the reason and ``+`` (created).

Rows reach this module after ``full_clean()``, so their values are already the fields'
Python values (``to_python``); only the values the database adapter cannot take as they are
(JSON) go through the field's ``get_db_prep_save``.
"""

from __future__ import annotations

from django.db import connections, models, router
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, get_history_manager_for_model

BATCH_SIZE = 1000
# Field types whose validated Python value psycopg writes as the field's own preparation would.
_AS_IS = (
    models.BooleanField,
    models.CharField,
    models.DateField,  # and DateTimeField: aware datetimes, as Django's PostgreSQL backend sends
    models.DecimalField,
    models.FloatField,
    models.ForeignKey,
    models.IntegerField,
    models.TextField,
)


def insert_with_history(records: list, model: type[models.Model], *, user, reason: str) -> None:
    """Insert new ``records`` of ``model`` and one ``+`` audit row each, attributed to ``user``."""
    if not records:
        return
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        bulk_create_with_history(
            records,
            model,
            batch_size=BATCH_SIZE,
            default_user=user,
            default_change_reason=reason,
        )
        return
    history = get_history_manager_for_model(model).model
    now = timezone.now()
    with connection.cursor() as cursor:
        _reserve_ids(cursor, model, records)
        fields = list(model._meta.concrete_fields)
        rows = []
        for record in records:
            rows.append([_value(f, f.pre_save(record, add=True), connection) for f in fields])
            record._state.adding = False
            record._state.db = connection.alias
        _copy(cursor, model, fields, rows)

        extra = {"history_date": now, "history_change_reason": reason, "history_type": "+"}
        audit_fields = [f for f in history._meta.concrete_fields if not f.primary_key]
        rows = []
        for record in records:
            audited = {
                "history_user_id": _pk(user or history.get_default_history_user(record)),
                **extra,
            }
            rows.append(
                [
                    _value(f, audited[f.attname], connection)
                    if f.attname in audited
                    else _value(f, getattr(record, f.attname), connection)
                    for f in audit_fields
                ]
            )
        _copy(cursor, history, audit_fields, rows)


def _reserve_ids(cursor, model, records) -> None:
    table = model._meta.db_table
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
        [table, model._meta.pk.column, len(records)],
    )
    for record, (pk,) in zip(records, cursor.fetchall(), strict=True):
        record.pk = pk


def _value(field, value, connection):
    if value is None or isinstance(field, _AS_IS):
        return value
    return field.get_db_prep_save(value, connection)


def _pk(user) -> int | None:
    return None if user is None else user.pk


def _copy(cursor, model, fields, rows) -> None:
    quote = cursor.db.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    with cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
