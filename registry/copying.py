"""Rows sent to PostgreSQL's ``COPY … FROM STDIN`` in its text format, built in Python.

psycopg's ``Copy.write_row`` looks up and calls an adapter for every value of every row; the
values of a bulk write are a handful of plain types, and a column of them usually holds one
type, so the text is built a column at a time with builtins (``str`` of a Decimal, a date's
``isoformat``…) and sent in large chunks with ``write``. The text is what ``write_row`` sends:
the same dumps, ``\\N`` for NULL and the same escapes. A type not handled here goes through
psycopg's own dumper for it, so any value ``write_row`` takes is taken.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from decimal import Decimal
from itertools import islice

from psycopg.adapt import PyFormat
from psycopg.types.json import Json, Jsonb

# Rows joined into one ``write``: enough that the per-call costs vanish, few enough that the
# text of a chunk stays a few hundred kB.
CHUNK_ROWS = 1000
NULL = "\\N"
# The characters ``write_row`` escapes; COPY reads the others as they are.
_ESCAPES = str.maketrans(
    {"\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v", "\f": "\\f", "\r": "\\r"}
)
_BOOLEAN = {True: "t", False: "f", None: NULL}
_FLOAT_SPECIAL = {"inf": "Infinity", "-inf": "-Infinity", "nan": "NaN"}
# A builtin giving the COPY text of a value of the type, when no value of the column is special.
_PLAIN = {
    int: int.__repr__,
    Decimal: Decimal.__str__,
    float: float.__repr__,
    dt.date: dt.date.isoformat,
}
_FINITE = {Decimal: Decimal.is_finite, float: math.isfinite}


def copy_rows(cursor, statement: str, rows: Iterable[Sequence]) -> None:
    """Run ``statement`` (a ``COPY … FROM STDIN`` in text format) on the psycopg ``cursor``
    and send ``rows``: sequences of the values ``Copy.write_row`` would take."""
    cell = _cell_formatter(cursor)
    rows = iter(rows)
    with cursor.copy(statement) as copy:
        while chunk := list(islice(rows, CHUNK_ROWS)):
            columns = [_column_text(values, cell) for values in zip(*chunk, strict=True)]
            copy.write("\n".join(map("\t".join, zip(*columns, strict=True))) + "\n")


def copy_text(value: str) -> str:
    """A string as a COPY text value."""
    # The escaped control characters are all unprintable and the backslash is not; two scans
    # cost less than the translation of a value that, as most, holds none of them.
    if value.isprintable() and "\\" not in value:
        return value
    return value.translate(_ESCAPES)


def _column_text(values: tuple, cell) -> Sequence[str]:
    """The COPY texts of a column's values (in a chunk of rows)."""
    kinds = set(map(type, values))
    nulls = type(None) in kinds
    kinds.discard(type(None))
    if not kinds:
        return [NULL] * len(values)
    kind = kinds.pop() if len(kinds) == 1 else None
    if kind is str or (kind is not None and issubclass(kind, str)):  # and TextChoices codes
        # One scan of the column tells whether any of its strings needs escaping.
        joined = "".join(filter(None, values))
        if joined.isprintable() and "\\" not in joined:
            return [NULL if v is None else v for v in values] if nulls else values
        return [NULL if v is None else copy_text(v) for v in values]
    if kind is bool:
        return list(map(_BOOLEAN.__getitem__, values))
    if kind is dt.datetime:
        # The rows of a bulk write share their timestamps, and an aware datetime's text is slow.
        unique = {id(v): v for v in values}
        texts = {key: NULL if v is None else str(v) for key, v in unique.items()}
        return [texts[id(v)] for v in values]
    if (kind is Jsonb or kind is Json) and all(v is None or v.dumps for v in values):
        # What Django's JSONField sends: its value with its encoder's dumps.
        return [NULL if v is None else _as_text(v.dumps(v.obj)) for v in values]
    plain = _PLAIN.get(kind)
    if plain is None:
        return list(map(cell, values))  # a column of mixed types…
    finite = _FINITE.get(kind)
    if finite and not all(map(finite, [v for v in values if v is not None] if nulls else values)):
        return list(map(cell, values))  # non-finite numbers: psycopg's words for them
    return [NULL if v is None else plain(v) for v in values] if nulls else list(map(plain, values))


def _as_text(text: str | bytes) -> str:
    return copy_text(text if isinstance(text, str) else bytes(text).decode())


def _float(value: float) -> str:
    text = repr(value)
    return _FLOAT_SPECIAL.get(text, text)


def _decimal(value: Decimal) -> str:
    if value.is_finite():
        return str(value)
    return "NaN" if value.is_nan() else str(value)


def _cell_formatter(context):
    """A function giving one value's COPY text; psycopg's dumpers for types not known here."""
    formats = {
        str: copy_text,
        int: int.__repr__,
        bool: _BOOLEAN.__getitem__,
        float: _float,
        Decimal: _decimal,
        dt.date: dt.date.isoformat,
        dt.datetime: dt.datetime.__str__,  # as psycopg's text dumper: ISO with a space
    }
    adapters = context.adapters
    dumpers: dict[type, object] = {}

    def fallback(value) -> str:
        kind = type(value)
        if (kind is Jsonb or kind is Json) and value.dumps is not None:
            return _as_text(value.dumps(value.obj))
        dumper = dumpers.get(kind)
        if dumper is None:
            dumper = dumpers[kind] = adapters.get_dumper(kind, PyFormat.TEXT)(kind, context)
        text = dumper.dump(value)
        return NULL if text is None else _as_text(text)

    def cell(value) -> str:
        if value is None:
            return NULL
        format_ = formats.get(type(value))
        return fallback(value) if format_ is None else format_(value)

    return cell
