import django_filters
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.core.filters import CrmFilterSet
from leads.forms import CompanySelect
from leads.models import Company

from .models import Application, Programme, State

# Nobody waits a negative time, and a year of working days is long enough to ask about
# (crm.core.dates.working_days_back walks day by day: 260 takes a fifth of a second).
MAX_WAITING_DAYS = 260


class ApplicationFilter(CrmFilterSet):
    programme = django_filters.ModelChoiceFilter(label=_("Programme"),
                                                 queryset=Programme.objects.all())
    state = django_filters.MultipleChoiceFilter(label=_("State"), choices=State.choices)
    # A search select (links pass ?company=<pk>): a select of 100,000 companies made the list
    # page 7.5 MB (issue 8). The API reads the same parameter.
    company = django_filters.ModelChoiceFilter(label=_("Company"), widget=CompanySelect,
                                               queryset=Company.objects.all())
    amount_min = django_filters.NumberFilter(label=_("Requested from (yuan)"),
                                             field_name="requested_amount", lookup_expr="gte")
    amount_max = django_filters.NumberFilter(label=_("Requested up to (yuan)"),
                                             field_name="requested_amount", lookup_expr="lte")
    waiting_days = django_filters.NumberFilter(
        label=_("Waiting for review longer than (working days)"), method="filter_waiting",
        help_text=_("Waiting for a reviewer and unchanged for N working days or more "
                    "(weekends do not count)."))

    class Meta:
        model = Application
        fields = ["programme", "state", "company", "amount_min", "amount_max", "waiting_days"]

    def filter_waiting(self, queryset, name, value):
        if value is None:
            return queryset
        days = int(min(max(value, 0), MAX_WAITING_DAYS))
        # The one rule (ApplicationQuerySet.waiting_review), as of today.
        return queryset.waiting_review(days, timezone.localdate())
