"""How a number typed by a person is read: one rule for the data-entry forms and the bulk import.

A decimal comma is read as the decimal point ("1,2" → 1.2), as data managers in most of the
registry's countries write it. A comma that may instead separate thousands ("1,200", "1,234.5")
is refused with a message rather than guessed: read one way or the other, a wrong number that
looks plausible would be stored without a word (issue 15: "1,2 mg/dL" was once stored as 12).
Anything else that is not a number (letters, "1.2.3", "NaN") is refused, naming the text.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_PLAIN = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
# One comma with exactly three digits after it: a thousands separator as often as a decimal one.
_THOUSANDS_LIKE = re.compile(r"[+-]?\d{1,3},\d{3}")


class NotANumber(ValueError):  # noqa: N818 - reads as what the text is
    """The text is not a number this registry reads; ``str()`` says why, naming the text."""


def read_decimal(text: str) -> Decimal:
    """The number in ``text`` (surrounding spaces ignored), or ``NotANumber``."""
    value = text.strip()
    if "," in value:
        if value.count(",") > 1 or "." in value:
            raise NotANumber(
                f"'{text}' is not a number: write it without thousands separators, with one "
                "decimal point or comma (e.g. 1234.5 or 1234,5)."
            )
        if _THOUSANDS_LIKE.fullmatch(value):
            whole, _, part = value.partition(",")
            raise NotANumber(
                f"'{text}' is ambiguous: write {whole}{part} for {whole} thousand {part}, or "
                f"{whole}.{part} for the decimal number."
            )
        value = value.replace(",", ".")
    if not _PLAIN.fullmatch(value):
        raise NotANumber(f"'{text}' is not a number.")
    try:
        number = Decimal(value)
    except InvalidOperation as error:  # pragma: no cover - the pattern admits only numbers
        raise NotANumber(f"'{text}' is not a number.") from error
    return number
