"""Django's ``Model.clean_fields()``, answered without its per-field overhead where that is safe.

Why: the bulk import runs ``full_clean()`` on every row (~16 rows a patient), and Django's
``clean_fields()`` — ``Field.clean()`` = ``to_python()`` + ``validate()`` + ``run_validators()``
for every field — was the largest single cost of the import.

How it stays Django's answer: for each model class a plan is built once, listing per field
which *exact* value type ``to_python()`` returns unchanged (str for a CharField, int for an
IntegerField, ...). A value of that type whose checks all pass — choices, blank, the field's
validators — leaves the row as Django would leave it, so nothing more is done. Anything else —
a failing check, an unusual field (foreign key, JSON) or value (None where a value is required,
a float for an integer, a str subclass) — goes to Django's own ``field.clean()``, so every error
message, code and converted value is Django's. This mirrors Django 5.2's ``Model.clean_fields()``;
tests/registry/test_clean_fields_fast.py compares the two on every CRF field, so a Django
upgrade that changes it fails there.

A validator that is a pure function of the value (Django's limit, length, decimal and regex
validators, ``registry.rules.HardRange``, which reads the fixed ``RANGES`` table) gives the same
answer for the same value, so a value that passed a field's checks once is remembered and not
checked again. Validators that read anything else (``validate_birth_year`` reads today's date)
run every time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from decimal import Decimal

from django.core import validators as django_validators
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.expressions import DatabaseDefault
from django.db.models.fields import AutoFieldMixin

from registry.rules import HardRange

# The exact value type each ``to_python()`` returns unchanged (equal, same type): such a value
# needs no conversion. Keyed by the function itself, so a field class that overrides
# ``to_python()`` is not on the fast path.
_UNCHANGED_TYPE = {
    models.CharField.to_python: str,
    models.TextField.to_python: str,
    models.IntegerField.to_python: int,  # int(True) is 1: a bool is not an int here
    models.BooleanField.to_python: bool,
    models.DateField.to_python: dt.date,  # a datetime would become its date
    models.DateTimeField.to_python: dt.datetime,
    models.DecimalField.to_python: Decimal,  # Decimal(value): equal, same digits and exponent
    models.FloatField.to_python: float,
}

# Validators whose outcome depends on the value alone (and on their own fixed settings).
_PURE_LIMIT_VALIDATORS = (
    django_validators.MinValueValidator,
    django_validators.MaxValueValidator,
    django_validators.MinLengthValidator,
    django_validators.MaxLengthValidator,
)
_PURE_VALIDATORS = (django_validators.DecimalValidator, django_validators.RegexValidator, HardRange)

# Value types whose passes are remembered: hashable, immutable, and equal only when every
# validator treats them alike — except Decimal, remembered by its text (1.5 and 1.50 are equal
# but differ in decimal places).
_REMEMBERED_TYPES = (str, int, bool, Decimal, dt.date)

MEMORY_LIMIT = 200_000
_DEFAULT_EMPTY_VALUES = list(django_validators.EMPTY_VALUES)


def _is_pure(validator) -> bool:
    if type(validator) in _PURE_LIMIT_VALIDATORS:
        return not callable(validator.limit_value)  # a callable limit may change
    return type(validator) in _PURE_VALIDATORS


def _choice_keys(field) -> frozenset | None:
    """The keys ``Field.validate()`` accepts, or None when they cannot be held in a set.

    Mirrors ``Field.validate()``: an option whose label is a list or tuple is a group, and only
    the keys inside it are accepted. A value found in the set equals one of the keys, so Django
    accepts it; a value not found goes to Django, which decides.
    """
    if not isinstance(field.choices, (list, tuple)):
        return None
    keys = []
    for option_key, option_value in field.choices:
        if isinstance(option_value, (list, tuple)):
            keys.extend(group_key for group_key, _label in option_value)
        else:
            keys.append(option_key)
    try:
        return frozenset(keys)
    except TypeError:
        return None


@dataclass(eq=False, slots=True)
class FieldStep:
    """What ``clean_fields()`` does for one field; compared and hashed by identity."""

    field: models.Field
    name: str
    attname: str
    # Django skips None before anything else (a blank-able field).
    skips_none: bool
    # The exact type of value that may skip Django's field.clean(); None: never.
    fast_type: type | None = None
    blank: bool = False
    choice_keys: frozenset | None = None  # only where Field.validate() runs
    pure_validators: tuple = ()
    other_validators: tuple = ()
    # A value of fast_type passes as it is: no choices, no validators, never empty.
    always_passes: bool = False
    # Values of fast_type known to pass every check but other_validators (Decimal: by its
    # text). Filled by _passes() only.
    passed: set = dataclass_field(default_factory=set)


@dataclass(eq=False, slots=True)
class ModelPlan:
    """The steps of a model's ``clean_fields()`` (``_meta.fields`` less generated ones)."""

    steps: tuple[FieldStep, ...]
    decimal_attnames: tuple[str, ...]  # its concrete decimal fields


_plans: dict[type, ModelPlan] = {}
_remembered = 0


def _step_for(field) -> FieldStep:
    step = FieldStep(
        field=field,
        name=field.name,
        attname=field.attname,
        skips_none=bool(field.blank and None in field.empty_values),
        blank=field.blank,
    )
    field_class = type(field)
    fast_type = _UNCHANGED_TYPE.get(field_class.to_python)
    if (
        fast_type is None
        or field.is_relation
        or field_class.clean is not models.Field.clean
        or field_class.run_validators is not models.Field.run_validators
        or field_class.validate not in (models.Field.validate, AutoFieldMixin.validate)
        or field.empty_values != _DEFAULT_EMPTY_VALUES
    ):
        return step
    # Field.validate() checks choices, null and blank of an editable field only.
    checks = field_class.validate is models.Field.validate and field.editable
    choice_keys = _choice_keys(field) if field.choices is not None else None
    if checks and field.choices is not None and choice_keys is None:
        return step
    # Field.validators is cached on the field: this is the list Django runs.
    field_validators = tuple(field.validators)
    step.fast_type = fast_type
    step.choice_keys = choice_keys if checks else None
    if fast_type in _REMEMBERED_TYPES:
        step.pure_validators = tuple(v for v in field_validators if _is_pure(v))
        step.other_validators = tuple(v for v in field_validators if not _is_pure(v))
    else:
        step.other_validators = field_validators
    step.always_passes = (
        fast_type not in (str, Decimal) and step.choice_keys is None and not field_validators
    )
    return step


def plan_for(model: type) -> ModelPlan:
    """The plan of ``model``, built on first use (the fields of a model class never change)."""
    plan = _plans.get(model)
    if plan is None:
        plan = _plans[model] = ModelPlan(
            steps=tuple(_step_for(f) for f in model._meta.fields if not f.generated),
            decimal_attnames=tuple(
                f.attname for f in model._meta.concrete_fields if isinstance(f, models.DecimalField)
            ),
        )
    return plan


def _remember(step: FieldStep, key) -> None:
    global _remembered
    if _remembered >= MEMORY_LIMIT:
        forget_passed_values()
    step.passed.add(key)
    _remembered += 1


def forget_passed_values() -> None:
    """Empty the memory of passed values (bounded; also for tests)."""
    global _remembered
    for plan in list(_plans.values()):
        for step in plan.steps:
            step.passed.clear()
    _remembered = 0


def _passes(step: FieldStep, value) -> bool:
    """True when Django's field.clean() would accept ``value`` and return it unchanged.

    ``value`` has exactly ``step.fast_type``. False means "ask Django", not "invalid".
    """
    if step.fast_type is Decimal and not value.is_finite():
        return False  # to_python() refuses NaN and infinity
    if step.fast_type is str and value == "":
        # Django skips a blank-able empty value before anything else; otherwise it is an error
        # (or, for a non-editable field, kept) — Django's path settles that.
        return step.blank
    if step.choice_keys is not None and value not in step.choice_keys:
        return False
    # Not None and not empty from here, so neither the null nor the blank rule applies and
    # run_validators() runs every validator.
    if step.pure_validators:
        key = str(value) if step.fast_type is Decimal else value
        if key not in step.passed:
            try:
                for validator in step.pure_validators:
                    validator(value)
            except ValidationError:
                return False
            _remember(step, key)
    try:
        for validator in step.other_validators:
            validator(value)
    except ValidationError:
        return False
    return True


def clean_fields(instance: models.Model, exclude=None, plan: ModelPlan | None = None) -> None:
    """``Model.clean_fields(exclude)`` of Django 5.2 with the same errors and cleaned values.

    ``plan``: the plan of the instance's class, when the caller has it already.
    """
    if plan is None:
        plan = plan_for(type(instance))
    if exclude is None:
        exclude = set()
    errors = {}
    for step in plan.steps:
        if step.name in exclude:
            continue
        raw_value = getattr(instance, step.attname)
        if raw_value is None:
            if step.skips_none:
                continue
        elif type(raw_value) is step.fast_type:
            if step.always_passes:
                continue
            if not step.other_validators and (
                (str(raw_value) if step.fast_type is Decimal else raw_value) in step.passed
            ):
                continue
            if _passes(step, raw_value):
                continue
        field = step.field
        if field.blank and raw_value in field.empty_values:
            continue
        if isinstance(raw_value, DatabaseDefault):
            continue
        try:
            setattr(instance, step.attname, field.clean(raw_value, instance))
        except ValidationError as e:
            errors[field.name] = e.error_list
    if errors:
        raise ValidationError(errors)
