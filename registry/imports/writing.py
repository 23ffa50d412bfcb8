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

from operator import attrgetter

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
    audit_fields = [f for f in history._meta.concrete_fields if not f.primary_key]
    audit_extra = [f for f in audit_fields if f.attname in _AUDIT_COLUMNS]
    audit_copied = [f for f in audit_fields if f.attname not in _AUDIT_COLUMNS]
    fields = list(model._meta.concrete_fields)
    row_of = _row_reader(fields, connection)
    audit_row_of = _row_reader(audit_copied, connection)
    pre_save = _with_pre_save(fields)
    now = timezone.now()
    with connection.cursor() as cursor:
        _reserve_ids(cursor, model, records)
        for record in records:
            # What Model.save() and bulk_create() do before an insert: the auto_now dates.
            for f in pre_save:
                setattr(record, f.attname, f.pre_save(record, add=True))
            record._state.adding = False
            record._state.db = connection.alias
        _copy(cursor, model, fields, [row_of(record) for record in records])

        audit_rows = []
        for record in records:
            audited = {
                "history_user_id": _pk(user or history.get_default_history_user(record)),
                "history_date": now,
                "history_change_reason": reason,
                "history_type": "+",
            }
            audit_rows.append(audit_row_of(record) + [audited[f.attname] for f in audit_extra])
        _copy(cursor, history, audit_copied + audit_extra, audit_rows)


# The columns simple_history adds to a model's own in its audit table.
_AUDIT_COLUMNS = {"history_user_id", "history_date", "history_change_reason", "history_type"}


def _with_pre_save(fields) -> list:
    return [f for f in fields if type(f).pre_save is not models.Field.pre_save]


def _row_reader(fields, connection):
    """A function giving a row's values for ``fields`` as the database takes them."""
    read = attrgetter(*(f.attname for f in fields))
    prepare = [
        (index, f.get_db_prep_save) for index, f in enumerate(fields) if not isinstance(f, _AS_IS)
    ]

    def row_of(record) -> list:
        values = list(read(record)) if len(fields) > 1 else [read(record)]
        for index, prep in prepare:
            if values[index] is not None:
                values[index] = prep(values[index], connection)
        return values

    return row_of


def _reserve_ids(cursor, model, records) -> None:
    table = model._meta.db_table
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
        [table, model._meta.pk.column, len(records)],
    )
    for record, (pk,) in zip(records, cursor.fetchall(), strict=True):
        record.pk = pk


def _pk(user) -> int | None:
    return None if user is None else user.pk


def _copy(cursor, model, fields, rows) -> None:
    quote = cursor.db.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    with cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


# Below this many new rows in a table, its planner statistics are left to autovacuum.
ANALYZE_FROM_ROWS = 10_000


def refresh_statistics(inserted: dict[type[models.Model], int]) -> None:
    """Let PostgreSQL's planner see the rows this transaction inserted before reading them back.

    Statistics come from ``ANALYZE`` (autovacuum runs it after commit). Without them a lookup of
    500 patients' rows is estimated to match most of the table and read as a full scan, once
    per chunk of patients: quadratic in the size of an import into a fresh or small registry.
    ``ANALYZE`` in the transaction samples its own uncommitted rows.
    """
    for model, count in inserted.items():
        connection = connections[router.db_for_write(model)]
        if connection.vendor != "postgresql" or count < ANALYZE_FROM_ROWS:
            continue
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
