"""Pieces the apps' FilterSets share."""

import django_filters
from django.forms import ModelChoiceField, NullBooleanSelect
from django.utils.translation import gettext_lazy as _

from .forms import DayField


class DayFilter(django_filters.DateFilter):
    """A date filter whose field is DayField: a date picker, within the product's bounds."""

    field_class = DayField


# Django's empty choice (ModelChoiceField.empty_label, BLANK_CHOICE_DASH).
BLANK_LABEL = "---------"


class CrmFilterSet(django_filters.FilterSet):
    """The product's FilterSet: an empty choice reads "All" (全部) rather than Django's and
    django-filter's "---------", on plain and model choices alike. Multiple choices become
    searchable chips in the browser (crm/static/crm/js/app.js, tom-select), so no list shows a
    raw multi-select."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for form_field in self.form.fields.values():
            if getattr(form_field, "empty_label", None) == BLANK_LABEL:
                form_field.empty_label = _("All")
                if not isinstance(form_field, ModelChoiceField):
                    # django-filter's plain ChoiceField gave its widget the choices at
                    # construction, "---------" included; a model field's iterator reads the
                    # label when the options are drawn.
                    form_field.widget.choices = list(form_field.choices)
            if getattr(form_field.widget, "allow_multiple_selected", False):
                form_field.widget.attrs.setdefault("data-placeholder", _("All"))
            if isinstance(form_field.widget, NullBooleanSelect):
                # A yes/no filter left empty means either ("Unknown" is Django's wording).
                form_field.widget.choices = [("unknown", _("All")), ("true", _("Yes")),
                                             ("false", _("No"))]

