"""``DecimalInput.clean_fields()`` (``registry.fieldcheck``) gives Django's own answer.

The reference is ``django.db.models.Model.clean_fields()`` on a copy of the same row, after the
same float -> Decimal conversion: the same errors (messages and codes) or none, and the same
values left on the row, of the same type.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import warnings
from decimal import Decimal, InvalidOperation

import pytest
from django.apps import apps
from django.core import validators as django_validators
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from registry import fieldcheck
from registry.choices import Sex
from registry.models import LabPanel, Patient
from registry.models.base import DecimalInput
from registry.rules import RANGES, HardRange

CRF_MODELS = [
    model
    for model in apps.get_app_config("registry").get_models()
    if issubclass(model, DecimalInput)
]


def model_id(model) -> str:
    return model.__name__


def django_clean_fields(instance, exclude=None) -> None:
    """Django's method, after the float -> Decimal conversion DecimalInput does first."""
    for field in instance._meta.concrete_fields:
        value = getattr(instance, field.attname, None)
        if isinstance(field, models.DecimalField) and isinstance(value, float):
            setattr(instance, field.attname, Decimal(repr(value)))
    models.Model.clean_fields(instance, exclude=exclude)


def outcome(instance, clean, exclude):
    """What a clean_fields() call did: its errors (messages, codes) and the values it left."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a naive datetime; both paths warn
        try:
            clean(instance, exclude=exclude)
            errors = None
        except ValidationError as error:
            errors = (
                error.message_dict,
                {name: [e.code for e in errs] for name, errs in error.error_dict.items()},
            )
        except Exception as error:  # the two must fail alike too
            errors = ("raised", type(error).__name__, str(error))
    values = {
        f.attname: (type(getattr(instance, f.attname)), repr(getattr(instance, f.attname)))
        for f in instance._meta.concrete_fields
    }
    return errors, values


def hard_range(field) -> tuple[float, float] | None:
    for validator in field.validators:
        if isinstance(validator, HardRange):
            return RANGES[validator.key].hard
    return None


def limits(field) -> list:
    """The limits of the field's min/max validators (Django's integer ranges included)."""
    return [
        v.limit_value
        for v in field.validators
        if isinstance(v, (django_validators.MinValueValidator, django_validators.MaxValueValidator))
    ]


def as_decimal(number, places: int) -> list[Decimal]:
    text = Decimal(repr(float(number)))
    values = [text]
    with contextlib.suppress(InvalidOperation):  # too many digits to quantize
        values.append(text.quantize(Decimal(1).scaleb(-places)))
    return values


def valid_value(field):
    """A value Django accepts for ``field``, for the rest of the row."""
    if field.choices:
        return field.choices[0][0]
    bounds = hard_range(field)
    if isinstance(field, models.DecimalField):
        return as_decimal(bounds[0], field.decimal_places)[-1] if bounds else Decimal("1")
    if isinstance(field, models.BooleanField):
        return False
    if isinstance(field, models.IntegerField):
        if field.name == "birth_year":
            return 1962
        return int(bounds[0]) if bounds else 1
    if isinstance(field, models.DateTimeField):
        return timezone.now()
    if isinstance(field, models.DateField):
        return dt.date(2023, 1, 1)
    if isinstance(field, models.FloatField):
        return 1.5
    if isinstance(field, (models.CharField, models.TextField)):
        return "x"
    return getattr(field, "default", None) if field.has_default() else None


def battery(field) -> list:
    """Values to try in ``field``: valid, boundary, out of range, of the wrong type."""
    values = [None, "", "abc", True, False, 0, 1, -1, 1.5, [], {}, "  ", "7"]
    bounds = hard_range(field)
    if field.choices:
        values += [key for key, _label in field.choices] + ["zzz", "ZZZ"]
        if field.choices[0][0] in Sex.values:
            values += [Sex(field.choices[0][0])]
    if isinstance(field, (models.CharField, models.TextField)):
        length = field.max_length or 50
        values += ["x", "x" * length, "x" * (length + 1), 12345, 1.25]
    if isinstance(field, models.IntegerField) and not isinstance(field, models.BooleanField):
        values += [5, 7.0, 7.5, "7.5", Decimal("3"), Decimal("3.5"), 2**15, 2**31, -(2**31)]
        values += [int(limit) + delta for limit in limits(field) for delta in (-1, 0, 1)]
        if bounds:
            values += [int(b) + delta for b in bounds for delta in (-1, 0, 1)]
        if field.name == "birth_year":
            values += [1899, 1900, 1962, dt.date.today().year, dt.date.today().year + 1]
    if isinstance(field, models.DecimalField):
        step = Decimal(1).scaleb(-field.decimal_places)
        values += [Decimal("1.5"), Decimal("1.50"), Decimal("1.500"), Decimal("-0")]
        values += [Decimal("NaN"), Decimal("Infinity"), Decimal("1E+1"), Decimal("1e-9")]
        values += [Decimal(10) ** (field.max_digits - field.decimal_places), 10**9]
        values += [1.1, 0.1 + 0.2, float("nan"), float("inf"), "12.5", "1.123456789", 5]
        for bound in bounds or (0, 100):
            for base in as_decimal(bound, field.decimal_places):
                values += [base - step, base, base + step, base + step / 10, float(base)]
    if isinstance(field, models.BooleanField):
        values += ["t", "f", "True", "False", "1", "0", 2, "x"]
    if isinstance(field, models.DateTimeField):
        values += [timezone.now(), dt.datetime(2023, 1, 1, 12, 0), dt.date(2023, 1, 1)]
        values += ["2023-01-01 10:00", "2023-01-01", "2023-02-30 10:00", "abc"]
    elif isinstance(field, models.DateField):
        values += [dt.date(2023, 1, 1), dt.date(1899, 12, 31), dt.datetime(2023, 1, 1, 12, 0)]
        values += [timezone.now(), "2023-01-01", "2023-02-30", "2023-1-1", "abc", 20230101]
    if isinstance(field, models.FloatField):
        values += [2.5, float("nan"), float("inf"), Decimal("2.5"), "2.5", 3]
    return values


def valid_row(model):
    """An unsaved row with a valid value in every editable non-relational field."""
    instance = model()
    for field in model._meta.concrete_fields:
        if field.editable and not field.is_relation and not field.primary_key:
            setattr(instance, field.attname, valid_value(field))
    return instance


def exclude_sets(model) -> list:
    relations = [f.name for f in model._meta.fields if f.is_relation]
    return [None, relations, set(relations), [*relations, "version", "created_at"]]


def differences(model, field, exclude) -> list[str]:
    """Every value of the battery on which the fast path and Django disagree, twice over."""
    found = []
    row = valid_row(model)
    for value in battery(field):
        expected_row = copy.copy(row)
        setattr(expected_row, field.attname, value)
        expected = outcome(expected_row, django_clean_fields, exclude)
        for attempt in ("first", "remembered"):
            fast_row = copy.copy(row)
            setattr(fast_row, field.attname, value)
            got = outcome(fast_row, type(fast_row).clean_fields, exclude)
            if got != expected:
                found.append(f"{field.name}={value!r} ({attempt}): {got} != {expected}")
    return found


@pytest.mark.parametrize("model", CRF_MODELS, ids=model_id)
def test_it_gives_djangos_errors_and_values_for_every_field(model):
    fieldcheck.forget_passed_values()
    found = []
    for exclude in exclude_sets(model):
        for field in model._meta.fields:
            if field.editable and not field.is_relation:
                found += differences(model, field, exclude)
    assert found == []


@pytest.mark.parametrize("model", CRF_MODELS, ids=model_id)
def test_the_non_editable_fields_give_djangos_answer_too(model):
    found = []
    for field in model._meta.fields:
        if not field.editable and not field.is_relation:
            found += differences(model, field, None)
    assert found == []


def test_every_crf_model_has_a_field_on_the_fast_path():
    """Guards the comparison above from passing only because everything went to Django."""
    for model in CRF_MODELS:
        steps = fieldcheck.plan_for(model).steps
        assert any(step.fast_type is not None for step in steps), model


def test_a_failing_value_is_never_remembered_as_passing():
    fieldcheck.forget_passed_values()
    row = valid_row(LabPanel)
    row.albumin_g_l = Decimal("500.0")

    for _attempt in range(2):
        with pytest.raises(ValidationError) as error:
            row.clean_fields(exclude=["patient"])
        assert error.value.message_dict["albumin_g_l"] == [
            "Albumin 500 g/L is outside the allowed range 10–60 g/L."
        ]

    step = next(s for s in fieldcheck.plan_for(LabPanel).steps if s.name == "albumin_g_l")
    assert "500.0" not in step.passed


def test_a_remembered_decimal_does_not_pass_with_more_decimal_places():
    """1.5 and 1.50 are equal Decimals, but only one fits a field with 1 decimal place."""
    fieldcheck.forget_passed_values()
    row = valid_row(LabPanel)
    row.albumin_g_l = Decimal("35.5")
    row.clean_fields(exclude=["patient"])

    row.albumin_g_l = Decimal("35.50")
    with pytest.raises(ValidationError) as error:
        row.clean_fields(exclude=["patient"])

    assert [e.code for e in error.value.error_dict["albumin_g_l"]] == ["max_decimal_places"]


def test_a_remembered_int_does_not_let_a_bool_pass():
    fieldcheck.forget_passed_values()
    row = valid_row(Patient)
    row.ecog_ps = 1
    row.clean_fields(exclude=["site"])

    row.ecog_ps = True
    row.clean_fields(exclude=["site"])

    assert type(row.ecog_ps) is int  # Django's to_python turned it into 1


def test_a_passed_value_is_remembered():
    fieldcheck.forget_passed_values()
    row = valid_row(Patient)
    row.site_patient_ref = "MRN-1"
    row.clean_fields(exclude=["site"])

    step = next(s for s in fieldcheck.plan_for(Patient).steps if s.name == "site_patient_ref")
    assert step.passed == {"MRN-1"}


def test_the_memory_of_passed_values_is_bounded(monkeypatch):
    fieldcheck.forget_passed_values()
    monkeypatch.setattr(fieldcheck, "MEMORY_LIMIT", 3)
    row = valid_row(Patient)

    for number in range(10):
        row.site_patient_ref = f"MRN-{number}"
        row.clean_fields(exclude=["site"])

    remembered = sum(len(step.passed) for step in fieldcheck.plan_for(Patient).steps)
    assert 0 < remembered <= 3


@pytest.mark.parametrize("model", CRF_MODELS, ids=model_id)
def test_the_remembered_unique_checks_are_djangos(model):
    row = model()
    names = [f.name for f in model._meta.fields]
    unique_names = [f.name for f in model._meta.fields if f.unique]
    excludes = [None, [], set(), unique_names, *([name] for name in names), set(names)]
    for exclude in excludes:
        for include_meta_constraints in (False, True):
            expected = models.Model._get_unique_checks(
                row, exclude=set(exclude or ()), include_meta_constraints=include_meta_constraints
            )
            for _attempt in range(2):
                got = row._get_unique_checks(
                    exclude=exclude, include_meta_constraints=include_meta_constraints
                )
                assert got == expected, (exclude, include_meta_constraints)


def test_changing_the_returned_unique_checks_does_not_change_the_next_answer():
    row = Patient()
    unique_checks, date_checks = row._get_unique_checks(exclude=["site"])
    expected = (list(unique_checks), list(date_checks))
    unique_checks.clear()
    date_checks.append("changed")

    assert row._get_unique_checks(exclude=["site"]) == expected
    assert expected[0]  # study_id is unique: the comparison is not of two empty lists
