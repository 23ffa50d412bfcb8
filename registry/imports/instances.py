"""New model instances for imported rows, built without ``Model.__init__``'s keyword handling.

``Model(**kwargs)`` walks every field, pops each keyword, asks each field for its default and
sends the ``pre_init``/``post_init`` signals: about 30 µs a row, as much as validating it. A
bulk import builds ~16 rows a patient from keywords it already checked, so ``record_factory``
does per model once what ``__init__`` does per row — which defaults are constants, which
fields take a related instance — and per row only fills the instance's ``__dict__``.

The result is the instance ``Model(**kwargs)`` gives (``tests/registry/imports/
test_instances.py`` compares both for every section's model). A model with init signal
receivers, or a keyword that is not a field, attribute name or property, takes ``Model``'s own
constructor.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import models
from django.db.models.signals import post_init, pre_init


def record_factory(model: type[models.Model]) -> Callable[..., models.Model]:
    """A function building ``model(**kwargs)`` from keyword arguments."""
    if pre_init.has_listeners(model) or post_init.has_listeners(model):
        return lambda **kwargs: model(**kwargs)
    constants: dict[str, object] = {}
    computed: list[tuple[str, Callable[[], object]]] = []
    known: set[str] = set(model._meta._property_names)
    for field in model._meta.concrete_fields:
        if field.generated:
            continue
        known.update((field.name, field.attname))
        if field.has_default() and callable(field.default):
            computed.append((field.attname, field.get_default))
        else:
            # A constant default, or the field's empty value: get_default() gives the same
            # object every time, as it would to __init__.
            constants[field.attname] = field.get_default()

    def build(**kwargs) -> models.Model:
        if not known.issuperset(kwargs):
            return model(**kwargs)  # raises the TypeError __init__ raises
        record = model.__new__(model)
        record._state = models.base.ModelState()
        values = record.__dict__
        values.update(constants)
        for attname, default in computed:
            values[attname] = default()
        for name, value in kwargs.items():
            setattr(record, name, value)  # a related instance through its descriptor
        return record

    return build
