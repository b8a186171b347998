"""A select for a choice among too many rows to list (100,000 companies, 200,000 projects).

A plain <select> of every visible row made a form page 7 to 25 MB and 10 to 60 s at scale
(issue 8). SearchSelect, like the Django admin's AutocompleteSelect but without jQuery, Select2
or a CDN (the bureau's intranet has none), renders only the selected option and a search box
beside it; typing asks a lookup view for the top matches through htmx and swaps them in as the
select's options (crm/static/crm/js/app.js adds the current value and any forwarded fields).

Validation does not change: the form field keeps its full queryset (the user's visible rows),
so a posted pk the user may not see is still "not one of the available choices". Without
JavaScript the select still posts the value it was rendered with.
"""

import json

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse


class SearchSelect(forms.Select):
    """Configure per use: `lookup_url` (a URL name answering ?q=&selected= with <option>
    elements), `search_label` (the search box's accessible name), `placeholder`, `hint` (the
    empty option's text before anything is chosen) and `forward` ({lookup parameter: sibling
    field name}: the sibling's current value narrows the lookup, and changing it refreshes the
    options)."""

    template_name = "crm/widgets/search_select.html"
    lookup_url = ""
    search_label = ""
    placeholder = ""
    hint = ""
    forward: dict[str, str] = {}

    def __init__(self, attrs=None, *, lookup_url=None, search_label=None, placeholder=None,
                 hint=None, forward=None):
        super().__init__(attrs)
        for option, value in (("lookup_url", lookup_url), ("search_label", search_label),
                              ("placeholder", placeholder), ("hint", hint),
                              ("forward", forward)):
            if value is not None:
                setattr(self, option, value)

    def _selected_rows(self, values: set[str]) -> list:
        """The selected rows, looked up in the field's own queryset: a row the user may not see
        is not rendered (and the field rejects it on submit)."""
        field = getattr(self.choices, "field", None)
        if field is None or not values:
            return []
        key = field.to_field_name or "pk"
        model_field = (field.queryset.model._meta.pk if key == "pk"
                       else field.queryset.model._meta.get_field(key))
        cleaned = []
        for value in values:
            try:  # a tampered or stale value ("abc") selects nothing rather than failing
                cleaned.append(model_field.to_python(value))
            except ValidationError:
                continue
        if not cleaned:
            return []
        return [(field.prepare_value(row), field.label_from_instance(row))
                for row in field.queryset.filter(**{f"{key}__in": cleaned})]

    def optgroups(self, name, value, attrs=None):
        field = getattr(self.choices, "field", None)
        empty_values = field.empty_values if field is not None else ("", None)
        selected = {str(v) for v in value if v not in empty_values}
        rows = self._selected_rows(selected)
        options = []
        if not rows or not self.is_required:
            # The empty choice: the hint before anything is chosen, "---------" to clear an
            # optional choice.
            label = self.hint if not rows else (getattr(field, "empty_label", None) or "")
            options.append(self.create_option(name, "", label, not rows, 0))
        for value_, label in rows:
            options.append(self.create_option(name, value_, label, True, len(options)))
        return [(None, options, 0)]

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        # The search box targets the select by id, so it needs one even with auto_id=False.
        select_id = context["widget"]["attrs"].setdefault("id", f"id_{name}")
        # A form prefix ("x-project") applies to the forwarded siblings too ("x-company").
        prefix = name[:-len(name.rpartition("-")[2])]
        context["widget"]["search"] = {
            "id": f"{select_id}_search",
            "select_id": select_id,
            "url": reverse(self.lookup_url),
            "label": self.search_label,
            "placeholder": self.placeholder,
            "forward": json.dumps({param: prefix + sibling
                                   for param, sibling in self.forward.items()}),
        }
        return context
