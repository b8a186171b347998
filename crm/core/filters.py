"""Pieces the apps' FilterSets share."""

import django_filters

from .forms import DayField


class DayFilter(django_filters.DateFilter):
    """A date filter whose field is DayField: a date picker, within the product's bounds."""

    field_class = DayField
