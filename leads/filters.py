"""FilterSets shared by the HTML lists, the exports and the API lists."""

from datetime import timedelta

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from crm.accounts.models import User
from crm.accounts.roles import Role
from crm.core.dates import day_start
from crm.core.filters import CrmFilterSet

from .models import (
    ChainNode,
    Channel,
    Company,
    Industry,
    LostReason,
    Project,
    Qualification,
    SourceRegion,
    Stage,
    chain_node_companies,
    on_chain_node_q,
    overdue_q,
    reached_q,
)
from .rules import Flag, flag_q


def _industry_q(prefix: str, value: Industry) -> Q:
    """A section, division or group matches the companies classified at or under it."""
    field = f"{prefix}industry"
    if value.level == Industry.Level.SECTION:
        return Q(**{f"{field}__parent": value}) | Q(**{f"{field}__parent__parent": value}) | Q(
            **{field: value})
    if value.level == Industry.Level.DIVISION:
        return Q(**{field: value}) | Q(**{f"{field}__parent": value})
    return Q(**{field: value})


@extend_schema_field(OpenApiTypes.STR)
class StageCodesFilter(django_filters.ModelMultipleChoiceFilter):
    """Stage codes; repeat the parameter for several (?stage=lead&stage=screening).

    A project has one stage, so the filter cannot produce duplicates: no DISTINCT, which at
    200k projects cost a sort of every matching row (113 ms of a 174 ms API call, issue 8).
    It filters on stage_id with the stages the form field has already loaded, so the planner
    sees a constant and walks the (stage, -updated_at) index instead of joining by code."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("distinct", False)
        super().__init__(*args, **kwargs)

    def get_filter_predicate(self, v):
        return {self.field_name: v}


class CompanyFilter(CrmFilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    industry = django_filters.ModelChoiceFilter(
        label=_("Industry"), queryset=Industry.objects.exclude(level=Industry.Level.GROUP),
        to_field_name="code", method="filter_industry",
    )
    chain_node = django_filters.ModelChoiceFilter(
        label=_("Chain node"), queryset=ChainNode.objects.all(), to_field_name="code",
        method="filter_chain_node",
    )
    source_region = django_filters.ChoiceFilter(label=_("Source region"),
                                                choices=SourceRegion.choices)
    qualification = django_filters.ChoiceFilter(
        label=_("Qualification"), choices=Qualification.Kind.choices,
        method="filter_qualification",
    )

    class Meta:
        model = Company
        fields = ["q", "industry", "chain_node", "source_region", "qualification"]

    def filter_q(self, queryset, name, value):
        return queryset.search(value)

    def filter_industry(self, queryset, name, value: str):
        return queryset.filter(_industry_q("", value))

    def filter_chain_node(self, queryset, name, value: ChainNode):
        return queryset.filter(pk__in=chain_node_companies(value))

    def filter_qualification(self, queryset, name, value):
        return queryset.filter(qualifications__kind=value).distinct()


class ProjectFilter(CrmFilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_q",
                                  help_text=_("Company or project name, or pinyin initials"))
    stage = StageCodesFilter(
        label=_("Stage"), queryset=Stage.objects.all(), to_field_name="code",
        field_name="stage", widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    stage_kind = django_filters.ChoiceFilter(label=_("Stage kind"), choices=Stage.Kind.choices,
                                             field_name="stage__kind")
    owner = django_filters.ModelChoiceFilter(
        label=_("Owner"),
        queryset=User.objects.filter(groups__name=Role.INVESTMENT_STAFF).distinct(),
    )
    overdue = django_filters.BooleanFilter(label=_("Next step overdue"), method="filter_overdue")
    industry = django_filters.ModelChoiceFilter(
        label=_("Industry"), queryset=Industry.objects.exclude(level=Industry.Level.GROUP),
        to_field_name="code", method="filter_industry",
    )
    chain_node = django_filters.ModelChoiceFilter(
        label=_("Chain node"), queryset=ChainNode.objects.all(), to_field_name="code",
        method="filter_chain_node",
    )
    source_region = django_filters.ChoiceFilter(
        label=_("Source region"), choices=SourceRegion.choices, field_name="company__source_region"
    )
    channel = django_filters.ChoiceFilter(label=_("Channel"), choices=Channel.choices)
    amount_min = django_filters.NumberFilter(
        label=_("Agreed investment from (CNY 10k)"), field_name="agreed_investment_wan",
        lookup_expr="gte",
    )
    amount_max = django_filters.NumberFilter(
        label=_("Agreed investment up to (CNY 10k)"), field_name="agreed_investment_wan",
        lookup_expr="lte",
    )
    confidential = django_filters.BooleanFilter(label=_("Confidential"))
    signed_from = django_filters.DateFilter(label=_("Signed from"), field_name="signed_on",
                                            lookup_expr="gte")
    # The parameters below let every dashboard figure link to the list behind it (the same
    # definitions as leads/reports.py, which owns them).
    entered_from = django_filters.DateFilter(label=_("Entered the pipeline from"),
                                             method="filter_entered_from")
    entered_to = django_filters.DateFilter(label=_("Entered the pipeline up to"),
                                           method="filter_entered_to")
    reached = django_filters.ModelChoiceFilter(
        label=_("Reached stage"), queryset=Stage.objects.all(), to_field_name="code",
        method="filter_reached")
    lost_reason = django_filters.ModelChoiceFilter(
        label=_("Lost reason"), queryset=LostReason.objects.all(), to_field_name="code")
    flag = django_filters.ChoiceFilter(label=_("Flag"), method="filter_flag",
                                       choices=Flag.choices)
    next_step_from = django_filters.DateFilter(label=_("Next step from"),
                                               field_name="next_step_on", lookup_expr="gte")
    next_step_to = django_filters.DateFilter(label=_("Next step up to"),
                                             field_name="next_step_on", lookup_expr="lte")
    signed_to = django_filters.DateFilter(label=_("Signed up to"), field_name="signed_on",
                                          lookup_expr="lte")

    class Meta:
        model = Project
        fields = ["q", "stage", "stage_kind", "owner", "industry", "chain_node", "source_region",
                  "channel", "amount_min", "amount_max", "overdue", "confidential"]

    def filter_q(self, queryset, name, value):
        return queryset.search(value)

    def filter_industry(self, queryset, name, value: str):
        return queryset.filter(_industry_q("company__", value))

    def filter_chain_node(self, queryset, name, value: ChainNode):
        return queryset.filter(on_chain_node_q(value))

    def filter_entered_from(self, queryset, name, value):
        # Project.entered_at is the creation event's time (leads/models.py: entered_q).
        return queryset.filter(entered_at__gte=day_start(value))

    def filter_entered_to(self, queryset, name, value):
        return queryset.filter(entered_at__lt=day_start(value + timedelta(days=1)))

    def filter_reached(self, queryset, name, value: Stage):
        return queryset.filter(reached_q(value))

    def filter_flag(self, queryset, name, value):
        return queryset.filter(flag_q(value, today=timezone.localdate()))

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        overdue = overdue_q(timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)
