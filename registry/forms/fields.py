"""Number fields of the data-entry forms: typed text is read by ``registry.numbers``, never by
the browser.

A browser's ``<input type=number>`` hands the server an empty value for text it cannot read
("12a") and reads "1,2" as twelve in an English locale; with the admin's ``novalidate`` form
the row was then saved without the value and without a word. These fields use a text box
(``inputmode`` still brings up the numeric keypad on a tablet) and refuse what is not a number,
at the field, naming the text.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db import models

from registry.numbers import NotANumber, read_decimal


class NumberTextInput(forms.TextInput):
    inputmode = "decimal"

    def __init__(self, attrs=None) -> None:
        super().__init__({"inputmode": self.inputmode, "autocomplete": "off", **(attrs or {})})


class WholeNumberTextInput(NumberTextInput):
    inputmode = "numeric"


def _read(value) -> Decimal | None:
    if value in (None, ""):
        return None
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return Decimal(str(value))
    try:
        return read_decimal(str(value))
    except NotANumber as error:
        raise ValidationError(str(error), code="invalid") from error


class DecimalTextField(forms.DecimalField):
    widget = NumberTextInput

    def to_python(self, value):
        number = _read(value)
        if number is not None and not number.is_finite():
            raise ValidationError(f"'{value}' is not a number.", code="invalid")
        return number


class FloatTextField(forms.FloatField):
    widget = NumberTextInput

    def to_python(self, value):
        number = _read(value)
        return None if number is None else float(number)


class IntegerTextField(forms.IntegerField):
    widget = WholeNumberTextInput

    def to_python(self, value):
        number = _read(value)
        if number is None:
            return None
        if number != number.to_integral_value():
            raise ValidationError(f"'{value}' is not a whole number.", code="invalid")
        return int(number)


# For ``ModelAdmin.formfield_overrides`` (matched along the model field's class hierarchy, so
# ``PositiveSmallIntegerField`` takes the ``IntegerField`` entry).
NUMBER_FIELD_OVERRIDES = {
    models.DecimalField: {"form_class": DecimalTextField, "widget": NumberTextInput},
    models.FloatField: {"form_class": FloatTextField, "widget": NumberTextInput},
    # The widget too: the admin's default for integers is a number box.
    models.IntegerField: {"form_class": IntegerTextField, "widget": WholeNumberTextInput},
}
