"""The leaders' figures as JSON: the same filters and the same selectors as the dashboard, so
the API and the page cannot disagree. Amounts are decimals in 万元 (funds in 元, areas in m²);
a rate with nothing to divide by is null (the page shows "—")."""

from datetime import date

from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.core.permissions import role_permission
from leads import reports

from . import selectors
from .forms import DashboardFilterForm
from .permissions import LEADERS

AMOUNT = {"max_digits": 24, "decimal_places": 2}
RATE = {"max_digits": 24, "decimal_places": 1, "allow_null": True}

FILTER_PARAMETERS = [
    OpenApiParameter("date_from", date, description="Default: 1 January this year"),
    OpenApiParameter("date_to", date, description="Default: 31 December this year"),
    OpenApiParameter("park", int, description="Park id (park figures only)"),
    OpenApiParameter("industry", str, description="GB/T 4754 section or division code"),
    OpenApiParameter("owner", int, description="Owner (investment staff) user id"),
]


def _filters(request):
    """Validate the query string exactly as the dashboard's form does (400 on bad input)."""
    today = timezone.localdate()
    form = DashboardFilterForm(request.query_params or None, user=request.user, today=today)
    if form.is_bound and not form.is_valid():
        errors = {("non_field_errors" if key == "__all__" else key): value
                  for key, value in form.errors.items()}
        raise ValidationError(errors)
    return form.filters(), today


# --- Serializers ------------------------------------------------------------------------------
class PeriodSerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()


class ReportFiltersSerializer(serializers.Serializer):
    park = serializers.IntegerField(allow_null=True)
    industry = serializers.CharField(allow_null=True)
    owner = serializers.IntegerField(allow_null=True)


class BreakdownRowSerializer(serializers.Serializer):
    key = serializers.CharField(allow_blank=True)
    label = serializers.CharField(allow_blank=True)
    count = serializers.IntegerField()
    amount_wan = serializers.DecimalField(**AMOUNT)
    list_url = serializers.CharField(allow_null=True,
                                     help_text="The project list behind the figure, if any.")


class FlagSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="overdue, yellow, red or not_started")
    label = serializers.CharField()
    colour = serializers.CharField()
    count = serializers.IntegerField()
    list_url = serializers.CharField(allow_null=True)


class SummarySerializer(serializers.Serializer):
    open_count = serializers.IntegerField()
    open_amount_wan = serializers.DecimalField(**AMOUNT)
    new_leads = serializers.IntegerField()
    signed_count = serializers.IntegerField()
    signed_amount_wan = serializers.DecimalField(**AMOUNT)
    signed_arrived_wan = serializers.DecimalField(**AMOUNT)
    due_today = serializers.IntegerField()
    lost_count = serializers.IntegerField()
    flags = FlagSerializer(many=True)


class StageFigureSerializer(serializers.Serializer):
    stage = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField(help_text="open, won, lost or hold")
    count = serializers.IntegerField()
    amount_wan = serializers.DecimalField(**AMOUNT)
    list_url = serializers.CharField(allow_null=True)


class FunnelStepSerializer(serializers.Serializer):
    stage = serializers.CharField()
    name = serializers.CharField()
    reached = serializers.IntegerField()
    share = serializers.DecimalField(**RATE, help_text="% of the first step")
    conversion = serializers.DecimalField(**RATE, help_text="% reaching the next step")
    list_url = serializers.CharField(allow_null=True)


class SignedSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    amount_wan = serializers.DecimalField(**AMOUNT)
    list_url = serializers.CharField(allow_null=True)
    by_month = BreakdownRowSerializer(many=True)
    by_size_band = BreakdownRowSerializer(many=True)
    by_industry = BreakdownRowSerializer(many=True)
    by_chain_node = BreakdownRowSerializer(many=True)
    by_source_region = BreakdownRowSerializer(many=True)
    by_owner = BreakdownRowSerializer(many=True)


class CohortSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    signed = serializers.IntegerField()
    agreed_wan = serializers.DecimalField(**AMOUNT)
    arrived_wan = serializers.DecimalField(**AMOUNT)
    landed = serializers.IntegerField(allow_null=True)
    started = serializers.IntegerField(allow_null=True)
    producing = serializers.IntegerField(allow_null=True)
    landed_rate = serializers.DecimalField(**RATE, help_text="落地率 %")
    started_rate = serializers.DecimalField(**RATE, help_text="开工率 %")
    producing_rate = serializers.DecimalField(**RATE, help_text="投产率 %")
    funds_arrival_rate = serializers.DecimalField(**RATE, help_text="资金到位率 %")


class StageDurationSerializer(serializers.Serializer):
    stage = serializers.CharField()
    name = serializers.CharField()
    stays = serializers.IntegerField()
    median_days = serializers.DecimalField(**RATE)


class OccupancySummarySerializer(serializers.Serializer):
    on = serializers.DateField()
    rentable_m2 = serializers.DecimalField(**AMOUNT)
    leased_m2 = serializers.DecimalField(**AMOUNT)
    reserved_m2 = serializers.DecimalField(**AMOUNT)
    vacant_m2 = serializers.DecimalField(**AMOUNT)
    occupancy_rate = serializers.DecimalField(**RATE, help_text="出租率 %")


class FundBudgetSerializer(serializers.Serializer):
    year_from = serializers.IntegerField()
    year_to = serializers.IntegerField()
    budget_yuan = serializers.DecimalField(**AMOUNT)
    approved_yuan = serializers.DecimalField(**AMOUNT)
    paid_yuan = serializers.DecimalField(**AMOUNT)
    approved_percent = serializers.DecimalField(**RATE)
    paid_percent = serializers.DecimalField(**RATE)


class PipelineReportSerializer(serializers.Serializer):
    period = PeriodSerializer()
    filters = ReportFiltersSerializer()
    summary = SummarySerializer()
    by_stage = StageFigureSerializer(many=True)
    funnel = FunnelStepSerializer(many=True)
    signed = SignedSerializer()
    cohorts = CohortSerializer(many=True)
    median_days = StageDurationSerializer(many=True)
    lost_reasons = BreakdownRowSerializer(many=True)
    occupancy = OccupancySummarySerializer()
    funds = FundBudgetSerializer()


class TargetFigureSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    metric = serializers.CharField()
    label = serializers.CharField()
    year_from = serializers.IntegerField()
    year_to = serializers.IntegerField()
    scope = serializers.CharField(allow_blank=True)
    unit = serializers.CharField()
    target = serializers.DecimalField(**AMOUNT)
    actual = serializers.DecimalField(**AMOUNT)
    percent = serializers.DecimalField(**RATE)
    definition = serializers.CharField()
    list_url = serializers.CharField(allow_null=True)


class TargetsReportSerializer(serializers.Serializer):
    targets = TargetFigureSerializer(many=True)


class ChainChildSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    position = serializers.CharField()
    targeted = serializers.IntegerField()
    negotiating = serializers.IntegerField()
    signed = serializers.IntegerField()
    landed = serializers.IntegerField()
    leaders = serializers.ListField(child=serializers.CharField(),
                                    help_text="The first 5 chain leaders by name")
    leader_count = serializers.IntegerField(help_text="All chain leaders among the targeted")
    weak = serializers.BooleanField(help_text="补链: nothing signed on this link")
    list_url = serializers.CharField(allow_null=True)


class ChainNodeSerializer(ChainChildSerializer):
    children = ChainChildSerializer(many=True)


class ChainReportSerializer(serializers.Serializer):
    nodes = ChainNodeSerializer(many=True)


# --- Shaping the selectors' results -------------------------------------------------------------
def _row(row) -> dict:
    return {"key": row.key, "label": str(row.label), "count": row.count,
            "amount_wan": row.amount_wan, "list_url": row.url}


def _filters_payload(filters) -> dict:
    return {"park": filters.park.pk if filters.park else None,
            "industry": filters.industry.code if filters.industry else None,
            "owner": filters.owner.pk if filters.owner else None}


def _node(figures, *, children: bool) -> dict:
    payload = {"code": figures.node.code, "name": figures.node.name,
               "position": figures.node.position, "targeted": figures.targeted,
               "negotiating": figures.negotiating, "signed": figures.signed,
               "landed": figures.landed, "leaders": figures.leaders,
               "leader_count": figures.leader_count, "weak": figures.is_weak,
               "list_url": figures.url}
    if children:
        payload["children"] = [_node(child, children=False) for child in figures.children]
    return payload


def pipeline_payload(d) -> dict:
    s, signed = d.summary, d.signed
    landed, started, producing = reports.COHORT_MILESTONES
    return {
        "period": {"date_from": d.filters.period.start, "date_to": d.filters.period.end},
        "filters": _filters_payload(d.filters),
        "summary": {
            "open_count": s.open_count, "open_amount_wan": s.open_amount_wan,
            "new_leads": s.new_count, "signed_count": s.signed_count,
            "signed_amount_wan": s.signed_amount_wan,
            "signed_arrived_wan": s.signed_arrived_wan, "due_today": s.due_today,
            "lost_count": s.lost_count,
            "flags": [{"key": f.key, "label": f.label, "colour": f.extra["colour"],
                       "count": f.count, "list_url": f.url} for f in s.flags],
        },
        "by_stage": [{"stage": r.stage.code, "name": r.stage.name, "kind": r.stage.kind,
                      "count": r.count, "amount_wan": r.amount_wan, "list_url": r.url}
                     for r in d.by_stage],
        "funnel": [{"stage": f.stage.code, "name": f.stage.name, "reached": f.reached,
                    "share": f.share, "conversion": f.conversion, "list_url": f.url}
                   for f in d.funnel],
        "signed": {
            "count": signed.count, "amount_wan": signed.amount_wan, "list_url": signed.url,
            **{name: [_row(r) for r in getattr(signed, name)]
               for name in ("by_month", "by_size_band", "by_industry", "by_chain_node",
                            "by_source_region", "by_owner")},
        },
        "cohorts": [{"year": c.year, "signed": c.count, "agreed_wan": c.agreed_wan,
                     "arrived_wan": c.arrived_wan, "landed": c.reached[landed],
                     "started": c.reached[started], "producing": c.reached[producing],
                     "landed_rate": c.landed_rate, "started_rate": c.started_rate,
                     "producing_rate": c.producing_rate,
                     "funds_arrival_rate": c.arrival_rate} for c in d.cohorts],
        "median_days": [{"stage": x.stage.code, "name": x.stage.name, "stays": x.stays,
                         "median_days": x.median_days} for x in d.durations],
        "lost_reasons": [_row(r) for r in d.lost_reasons],
        "occupancy": {"on": d.occupancy.on, "rentable_m2": d.occupancy.total.rentable,
                      "leased_m2": d.occupancy.total.leased,
                      "reserved_m2": d.occupancy.total.reserved,
                      "vacant_m2": d.occupancy.total.vacant,
                      "occupancy_rate": d.occupancy.total.occupancy_rate},
        "funds": {"year_from": d.funds.years[0], "year_to": d.funds.years[1],
                  "budget_yuan": d.funds.budget, "approved_yuan": d.funds.approved,
                  "paid_yuan": d.funds.paid, "approved_percent": d.funds.approved_percent,
                  "paid_percent": d.funds.paid_percent},
    }


def targets_payload(targets) -> dict:
    return {"targets": [{
        "id": t.target.pk, "metric": t.target.metric, "label": t.target.get_metric_display(),
        "year_from": t.target.year_from, "year_to": t.target.year_to,
        "scope": t.target.scope_label, "unit": t.unit, "target": t.target.value,
        "actual": t.actual, "percent": t.percent, "definition": t.definition,
        "list_url": t.url} for t in targets]}


def chain_payload(nodes) -> dict:
    return {"nodes": [_node(node, children=True) for node in nodes]}


# --- Views ------------------------------------------------------------------------------------
class LeadersOnly:
    """The same roles as the leader dashboard's pages (crm.dashboards.views.LEADERS)."""

    permission_classes = [IsAuthenticated, role_permission(*LEADERS)]


class PipelineReportView(LeadersOnly, APIView):
    """The leader dashboard's pipeline figures: by stage, funnel, signings and their
    breakdowns, cohorts, days in stage, lost reasons, flags, park occupancy and fund budget."""

    @extend_schema(parameters=FILTER_PARAMETERS, responses=PipelineReportSerializer)
    def get(self, request):
        filters, today = _filters(request)
        dashboard = selectors.leader_dashboard(user=request.user, filters=filters, today=today)
        return Response(PipelineReportSerializer(pipeline_payload(dashboard)).data)


class TargetsReportView(LeadersOnly, APIView):
    """The plan targets with their computed actuals (each over the target's own years; the
    filters are validated but a target does not depend on them)."""

    @extend_schema(parameters=FILTER_PARAMETERS, responses=TargetsReportSerializer)
    def get(self, request):
        _unused, today = _filters(request)
        targets = selectors.target_progress(user=request.user, today=today)
        return Response(TargetsReportSerializer(targets_payload(targets)).data)


class ChainReportView(LeadersOnly, APIView):
    """The chain map: per node (children rolled up into their top-level node) the companies
    targeted, negotiating, signed and landed, and the chain leaders among them."""

    @extend_schema(parameters=FILTER_PARAMETERS, responses=ChainReportSerializer)
    def get(self, request):
        filters, _today = _filters(request)
        nodes = selectors.chain_map(user=request.user, filters=filters)
        return Response(ChainReportSerializer(chain_payload(nodes)).data)


urlpatterns = [
    path("reports/pipeline/", PipelineReportView.as_view(), name="report-pipeline"),
    path("reports/targets/", TargetsReportView.as_view(), name="report-targets"),
    path("reports/chain/", ChainReportView.as_view(), name="report-chain"),
]
