"""The fulfilment list's filters, shared by the page, its export and (where it wants them) the
API: on the stored status (today's answer of rules.obligation_state), the metric, the due
period, the park the project has space in and the project's owner."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import User
from crm.accounts.roles import Role
from crm.core.filters import CrmFilterSet
from crm.core.views_helpers import MAX_QUERY_INT
from parks.models import Assignment, Park

from .models import Metric, Obligation, Status

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class WholeNumberFilter(django_filters.NumberFilter):
    """A whole number in bounds (a year, an id): a typed-in 1e40 is a form error, not a query
    that overflows the database's integer."""

    field_class = forms.IntegerField


def projects_in_park(park: Park):
    """Projects holding a unit of `park` now: an active assignment (lease, sale, reservation,
    intent) of one of its units. parks' own vocabulary (AssignmentQuerySet.active), as ids."""
    return (Assignment.objects.active().filter(unit__park=park, project__isnull=False)
            .values("project_id"))


class ObligationFilter(CrmFilterSet):
    # One status per obligation: no duplicates to remove, so no DISTINCT (a sort of every
    # matching row at scale, as leads' StageCodesFilter found).
    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=Status.choices,
                                                 distinct=False)
    metric = django_filters.ChoiceFilter(label=_("Metric"), choices=Metric.choices)
    due_after = django_filters.DateFilter(
        label=_("Due from"), field_name="due_on", lookup_expr="gte", widget=DATE_INPUT,
        help_text=_("Obligations with a due date; yearly figures have none."))
    due_before = django_filters.DateFilter(label=_("Due up to"), field_name="due_on",
                                           lookup_expr="lte", widget=DATE_INPUT)
    park = django_filters.ModelChoiceFilter(label=_("Park"), method="filter_park",
                                            queryset=Park.objects.filter(is_active=True))
    owner = django_filters.ModelChoiceFilter(
        label=_("Owner"), field_name="agreement__project__owner",
        queryset=User.objects.filter(groups__name=Role.INVESTMENT_STAFF).distinct()
        .order_by("full_name", "pk"))
    # The leaders' figures link here: 履约率 by year of signing, one agreement's obligations.
    signed_year = WholeNumberFilter(label=_("Signed in year"),
                                    field_name="agreement__signed_on__year", min_value=1900,
                                    max_value=2200)
    agreement = WholeNumberFilter(label=_("Agreement"), field_name="agreement_id", min_value=1,
                                  max_value=MAX_QUERY_INT)

    class Meta:
        model = Obligation
        fields = ["status", "metric", "due_after", "due_before", "park", "owner",
                  "signed_year", "agreement"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields["status"].widget.attrs["size"] = len(Status.choices)
        # Links carry ?agreement=; a field of ids is no use to type in.
        self.form.fields["agreement"].widget = self.form.fields["agreement"].hidden_widget()

    def filter_park(self, queryset, name, value):
        return queryset.filter(agreement__project__in=projects_in_park(value))
