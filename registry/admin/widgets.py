"""Widgets of the data-entry screens."""

from __future__ import annotations

from django.contrib.admin.widgets import AutocompleteSelect


class RowLabelledAutocomplete(AutocompleteSelect):
    """An autocomplete that labels its selected option from the row the form already holds.

    Django's autocomplete reads the label of the selected value with a query per widget: one
    per inline row. The form passes the related object it loaded with the rows
    (``selected_object``, e.g. via ``select_related``); a value that differs from it (a row
    the user changed and must correct) falls back to Django's query.
    """

    selected_object = None

    def optgroups(self, name, value, attr=None):
        known = self.selected_object
        chosen = [str(v) for v in value if str(v) not in self.choices.field.empty_values]
        if known is None or chosen != [str(known.pk)]:
            return super().optgroups(name, value, attr)
        options = [] if self.is_required else [self.create_option(name, "", "", False, 0)]
        label = self.choices.field.label_from_instance(known)
        options.append(self.create_option(name, chosen[0], label, True, len(options)))
        return [(None, options, 0)]


def unwrapped(widget):
    """The widget itself, inside the admin's add/change-related links wrapper if any."""
    return getattr(widget, "widget", widget)
