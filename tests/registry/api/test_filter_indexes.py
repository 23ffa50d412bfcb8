"""Every filter the API offers reads through an index (registry.models.indexes).

A filter without one is a sequential scan of a table that grows to millions of rows, on every
page. The rule checked: the filtered column leads an index (or is unique, a foreign key or the
primary key); a filter across a relation goes through a foreign key to such a column.
"""

from __future__ import annotations

from django.db import models
from django_filters.rest_framework import DjangoFilterBackend

from registry.api.urls import router


def _leads_an_index(model, name: str) -> bool:
    field = model._meta.get_field(name)
    if field.primary_key or field.unique or field.db_index or field.is_relation:
        return True
    leading = [index.fields[0] for index in model._meta.indexes if index.fields]
    leading += [
        constraint.fields[0]
        for constraint in model._meta.constraints
        if isinstance(constraint, models.UniqueConstraint) and constraint.fields
    ]
    return name in leading or f"{name}_id" in leading


def _path_is_indexed(model, path: str) -> bool:
    *hops, last = path.split("__")
    for hop in hops:
        field = model._meta.get_field(hop)
        if not field.is_relation:
            return False
        model = field.related_model
    return _leads_an_index(model, last)


def _filters_of(viewset) -> list[tuple[type, str]]:
    view = viewset()
    model = viewset.queryset.model
    filterset = DjangoFilterBackend().get_filterset_class(view, viewset.queryset)
    if filterset is None:
        return []
    return [(model, f.field_name) for f in filterset.base_filters.values()]


def test_every_api_filter_reads_through_an_index():
    checked, unindexed = 0, []
    for _prefix, viewset, _basename in router.registry:
        if getattr(viewset, "queryset", None) is None:
            continue  # exports: no list of rows
        for model, path in _filters_of(viewset):
            checked += 1
            if not _path_is_indexed(model, path):
                unindexed.append(f"{model.__name__}.{path}")

    assert checked > 50
    assert unindexed == []


def test_an_unindexed_column_is_reported():
    from registry.models import Patient

    assert not _path_is_indexed(Patient, "birth_year")
    assert _path_is_indexed(Patient, "site__code")
    assert _path_is_indexed(Patient, "bclc_stage")
