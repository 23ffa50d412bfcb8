"""The importer's instance builder gives what ``Model(**kwargs)`` gives."""

import pytest
from django.db.models.signals import post_init

from registry.imports import importer
from registry.imports.instances import record_factory
from registry.imports.parsing import read_upload
from registry.imports.synthetic import as_csv_zip, synthetic_rows
from registry.models import LabPanel, Patient


def _state(record) -> dict:
    values = {k: v for k, v in record.__dict__.items() if k != "_state"}
    state = record._state
    return {
        "values": values,
        "adding": state.adding,
        "db": state.db,
        "cached": dict(state.fields_cache),
    }


def test_every_row_of_an_import_is_built_as_its_model_would_build_it(site, manager, monkeypatch):
    built: list[tuple[type, dict]] = []

    def comparing_factory(model):
        build = record_factory(model)

        def both(**kwargs):
            record = build(**kwargs)
            assert _state(record) == _state(model(**kwargs)), model.__name__
            built.append((model, kwargs))
            return record

        return both

    monkeypatch.setattr(importer, "record_factory", comparing_factory)
    data = as_csv_zip(synthetic_rows(12))

    result = importer.import_sheets(
        site=site, user=manager, sheets=read_upload(data, "f.zip"), dry_run=False
    )

    assert result.committed, result.errors[:3]
    # Every section of the synthetic file built its new rows through the builder.
    assert {model for model, _ in built} >= {Patient, LabPanel}
    assert len(built) == result.totals["created"]


def test_a_field_default_that_is_computed_is_computed_for_each_row(site):
    build = record_factory(Patient)

    first, second = build(site=site), build(site=site)

    computed = [f for f in Patient._meta.concrete_fields if f.has_default() and callable(f.default)]
    assert computed  # the JSON fields' dict/list defaults
    for field in computed:
        value = getattr(first, field.attname)
        assert value == getattr(second, field.attname)
        # A fresh object for each row, never one shared between rows.
        assert value is not getattr(second, field.attname)


def test_an_unknown_keyword_is_refused_as_the_model_refuses_it(site):
    with pytest.raises(TypeError, match="unexpected keyword"):
        record_factory(Patient)(site=site, no_such_field=1)


def test_a_model_with_init_signal_receivers_is_built_by_its_own_constructor(site):
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(receiver, sender=LabPanel)
    try:
        record = record_factory(LabPanel)(ascites="none")
    finally:
        post_init.disconnect(receiver, sender=LabPanel)

    assert seen == [record]
