"""Insert many validated rows with their audit rows, as ``bulk_create_with_history`` does.

On PostgreSQL the rows go in with ``COPY`` instead of multi-row ``INSERT`` statements: Django
builds an INSERT by preparing every value of every row through the field API and psycopg then
quotes each into the statement, which costs more than validating the row. ``COPY`` streams
the values as they are (``registry.copying``: formatted in Python, sent in large chunks). The
primary keys are reserved from the table's own sequence first (one query), so the rows know
their ids as with ``bulk_create``. The audit rows are what ``simple_history``'s
``bulk_history_create`` writes: every tracked field, the date, the user, the reason and ``+``
(created); the server copies them from the rows just written, in one ``INSERT … SELECT``,
instead of receiving every value a second time.

Rows reach this module after ``full_clean()``, so their values are already the fields'
Python values (``to_python``); only the values the database adapter cannot take as they are
(JSON) go through the field's ``get_db_prep_save``.
"""

from __future__ import annotations

from operator import attrgetter

from django.db import connections, models, router
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, get_history_manager_for_model

from registry.copying import copy_rows

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
# The columns simple_history adds to a model's own in its audit table.
_AUDIT_COLUMNS = {"history_user_id", "history_date", "history_change_reason", "history_type"}


def insert_with_history(
    records: list, model: type[models.Model], *, user, reason: str, when=None
) -> None:
    """Insert new ``records`` of ``model`` and one ``+`` audit row each, attributed to ``user``
    at ``when`` (default: now)."""
    if not records:
        return
    connection = connections[router.db_for_write(model)]
    history = get_history_manager_for_model(model).model
    audited = _audited_columns(model, history)
    now = when or timezone.now()
    if connection.vendor != "postgresql" or audited is None:
        bulk_create_with_history(
            records,
            model,
            batch_size=BATCH_SIZE,
            default_user=user,
            default_change_reason=reason,
            default_date=now,
        )
        return
    fields = list(model._meta.concrete_fields)
    row_of = _row_reader(fields, connection)
    with connection.cursor() as cursor:
        _reserve_ids(cursor, model, records)
        _before_insert(records, fields, now, connection.alias)
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in fields)
        copy_rows(
            cursor.cursor,
            f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN",
            map(row_of, records),
        )
        _audit_by_user(cursor, model, history, audited, records, user, now, reason, "+")


def audit_rows(records: list, model: type[models.Model], *, user, reason: str, when) -> None:
    """One ``~`` (changed) audit row for each of ``records``, already UPDATEd in the table,
    attributed to ``user`` at ``when``: on PostgreSQL copied by the server from the table as it
    now is (as for ``insert_with_history``), elsewhere ``bulk_history_create`` of the instances.
    """
    if not records:
        return
    connection = connections[router.db_for_write(model)]
    manager = get_history_manager_for_model(model)
    audited = _audited_columns(model, manager.model)
    if connection.vendor != "postgresql" or audited is None:
        manager.bulk_history_create(
            records,
            batch_size=BATCH_SIZE,
            update=True,
            default_user=user,
            default_change_reason=reason,
            default_date=when,
        )
        return
    with connection.cursor() as cursor:
        _audit_by_user(cursor, model, manager.model, audited, records, user, when, reason, "~")


def _audit_by_user(cursor, model, history, audited, records, user, now, reason, kind) -> None:
    by_user: dict[int | None, list] = {}
    for record in records:
        user_pk = _pk(user or history.get_default_history_user(record))
        by_user.setdefault(user_pk, []).append(record.pk)
    for user_pk, pks in by_user.items():
        _audit(cursor, model, history, audited, pks, user_pk, now, reason, kind)


def _audited_columns(model, history) -> list[tuple[str, str]] | None:
    """(audit column, table column) of each tracked field; None when the audit table has
    columns this module does not know how to fill."""
    tracked = [
        f
        for f in history._meta.concrete_fields
        if not f.primary_key and f.attname not in _AUDIT_COLUMNS
    ]
    extra = {f.attname for f in history._meta.concrete_fields if not f.primary_key} - {
        f.attname for f in tracked
    }
    if extra != _AUDIT_COLUMNS:
        return None
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    if any(f.attname not in by_attname for f in tracked):
        return None
    return [(f.column, by_attname[f.attname].column) for f in tracked]


def _audit(
    cursor, model, history, audited, pks: list, user_pk, now, reason: str, kind: str
) -> None:
    """The audit rows (``kind``: ``+`` created, ``~`` changed) of the rows ``pks``, copied by
    the server from the table."""
    quote = cursor.db.ops.quote_name
    pk = quote(model._meta.pk.column)
    targets = ", ".join(quote(column) for column, _ in audited)
    sources = ", ".join(f"t.{quote(column)}" for _, column in audited)
    cursor.execute(
        f"INSERT INTO {quote(history._meta.db_table)} ({targets}, history_user_id, history_date,"
        f" history_change_reason, history_type) SELECT {sources}, %s, %s, %s, %s"
        f" FROM {quote(model._meta.db_table)} t"
        # The range lets the planner read the new rows from the key's index, statistics or not.
        f" WHERE t.{pk} BETWEEN %s AND %s AND t.{pk} = ANY(%s) ORDER BY t.{pk}",
        [user_pk, now, reason, kind, min(pks), max(pks), pks],
    )


def _before_insert(records, fields, now, alias: str) -> None:
    """What ``Model.save()`` and ``bulk_create()`` do before an insert: the fields'
    ``pre_save`` (the ``auto_now`` dates), and the instances marked as stored."""
    stamped, pre_save = [], []
    reading = {models.DateField.pre_save, models.DateTimeField.pre_save}
    for f in fields:
        own = type(f).pre_save
        if own is models.Field.pre_save or (own in reading and not (f.auto_now or f.auto_now_add)):
            continue  # it only reads the value
        if own is models.DateTimeField.pre_save:
            stamped.append(f.attname)  # one time for the rows of one call, as their audit rows
        else:
            pre_save.append(f)
    for record in records:
        for attname in stamped:
            setattr(record, attname, now)
        for f in pre_save:
            setattr(record, f.attname, f.pre_save(record, add=True))
        state = record._state
        state.adding = False
        state.db = alias


def _row_reader(fields, connection):
    """A function giving a row's values for ``fields`` as the database takes them."""
    read = attrgetter(*(f.attname for f in fields))
    if len(fields) == 1:
        read_one = read
        read = lambda record: (read_one(record),)  # noqa: E731
    prepare = [
        (index, f.get_db_prep_save) for index, f in enumerate(fields) if not isinstance(f, _AS_IS)
    ]
    if not prepare:
        return read

    def row_of(record) -> list:
        values = list(read(record))
        for index, prep in prepare:
            if values[index] is not None:
                values[index] = prep(values[index], connection)
        return values

    return row_of


def _reserve_ids(cursor, model, records) -> None:
    # The sequence's name first: in the same statement PostgreSQL looks it up for every row,
    # which costs 6x the nextval() calls.
    cursor.execute(
        "SELECT pg_get_serial_sequence(%s, %s)", [model._meta.db_table, model._meta.pk.column]
    )
    (sequence,) = cursor.fetchone()
    cursor.execute(
        "SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, len(records)]
    )
    attname = model._meta.pk.attname
    for record, (pk,) in zip(records, cursor.fetchall(), strict=True):
        setattr(record, attname, pk)


def _pk(user) -> int | None:
    return None if user is None else user.pk


# Below this many new rows in a table, its planner statistics are left to autovacuum.
ANALYZE_FROM_ROWS = 10_000


def refresh_statistics(inserted: dict[type[models.Model], int]) -> None:
    """Let PostgreSQL's planner see the rows this transaction inserted, from its commit on.

    Statistics come from ``ANALYZE`` (autovacuum runs it some time after commit). Without them
    the next import of the same patients (a corrected file, often minutes later) looks up each
    500 patients' stored rows as a full scan, once per chunk: quadratic in the size of an import
    into a fresh or small registry. ``ANALYZE`` in the transaction samples its own uncommitted
    rows and commits the statistics with them. (The import no longer reads its own rows back
    for the derived values, ``registry.derived_rows``.) 100,000 patients imported again at
    once: 132.6 s with this (benchmark of 7097253), 196.2 s without it.
    """
    for model, count in inserted.items():
        connection = connections[router.db_for_write(model)]
        if connection.vendor != "postgresql" or count < ANALYZE_FROM_ROWS:
            continue
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
