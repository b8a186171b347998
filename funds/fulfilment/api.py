"""REST API for agreements (投资协议), their obligations and actuals, the acceptance report
(达产验收) and the leaders' fulfilment figures. Reads start from the selectors, so the API, the
pages and the exports agree on who sees what (a confidential project's agreement does not
exist for anyone off its team: 404); writes call the services, whose refusals come back through
crm.core.api.exception_handler: 400 naming the field, 403 with the reason, 409 for a clash with
the current state (an agreement for a project not yet signed)."""

from django import forms
from django.urls import path
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from crm.accounts.roles import Role
from crm.audit.api import AuditedReadsMixin
from crm.audit.models import AccessRecord
from crm.audit.services import record_reads
from crm.core.filters import DayFilter
from crm.core.permissions import role_permission
from leads.models import Project, confidential_name

from . import filters as fulfilment_filters
from . import rules, selectors, services
from .models import Actual, Agreement, Metric
from .serializers import (
    AcceptanceInputSerializer,
    AcceptanceReportSerializer,
    ActualSerializer,
    AgreementSerializer,
    FulfilmentReportSerializer,
    ObligationSerializer,
    acceptance_payload,
    service_errors,
)

# The leaders' report counts confidential projects and names them: the roles of the leaders'
# screens and their API (crm.dashboards.permissions.LEADERS, which an app does not import).
REPORT_ROLES = (Role.LEADER,)


# --- Filters ------------------------------------------------------------------------------------
# Records are filtered by id, not through a choice of every row: a choice field would answer
# "not a valid choice" for an id that does not exist and an empty list for one the caller may
# not read, telling the two apart.
@extend_schema_field(OpenApiTypes.INT)
class IdFilter(filters.NumberFilter):
    field_class = forms.IntegerField


class AgreementFilter(filters.FilterSet):
    project = IdFilter(field_name="project_id", help_text="Project id")

    class Meta:
        model = Agreement
        fields = ["project"]


class ObligationFilter(fulfilment_filters.ObligationFilter):
    """The fulfilment list's filters (status, metric, due period, park, owner, year of
    signing, agreement), with the API's forms of two of them: several metrics at once, and
    days kept within the years the rules' date arithmetic handles."""

    metric = filters.MultipleChoiceFilter(choices=Metric.choices)
    park = IdFilter(method="filter_park", help_text="Park id: projects holding a unit there")
    agreement = IdFilter(field_name="agreement_id", help_text="Agreement id")
    due_after = DayFilter(field_name="due_on", lookup_expr="gte",
                          help_text="Due on or after this day")
    due_before = DayFilter(field_name="due_on", lookup_expr="lte",
                           help_text="Due on or before this day")

    class Meta(fulfilment_filters.ObligationFilter.Meta):
        pass


class ActualFilter(filters.FilterSet):
    agreement = IdFilter(field_name="agreement_id", help_text="Agreement id")

    class Meta:
        model = Actual
        fields = ["agreement"]


# --- Agreements ---------------------------------------------------------------------------------
class AgreementViewSet(AuditedReadsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                       mixins.CreateModelMixin, mixins.UpdateModelMixin,
                       viewsets.GenericViewSet):
    """Agreements of the projects the caller may read. The project's team (its owner and
    collaborators) creates and edits them; obligations are added at /obligations/."""

    serializer_class = AgreementSerializer
    filterset_class = AgreementFilter
    http_method_names = ["get", "post", "patch", "head", "options"]  # partial updates only

    def get_queryset(self):
        return selectors.agreement_queryset(user=self.request.user).prefetch_related(
            "obligations")

    def is_confidential(self, obj) -> bool:
        return obj.project.confidential

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        project = data.pop("project")
        serializer.instance = service_errors(serializer, lambda: services.agreement_create(
            by=self.request.user, project=project, **data))

    def perform_update(self, serializer):
        service_errors(serializer, lambda: services.agreement_update(
            agreement=serializer.instance, by=self.request.user, **serializer.validated_data))

    @extend_schema(request=AcceptanceInputSerializer,
                   responses={200: AcceptanceReportSerializer,
                              201: OpenApiResponse(AcceptanceReportSerializer,
                                                   description="Confirmed and recorded.")})
    @action(detail=True, methods=["post"])
    def acceptance(self, request, pk=None):
        """The acceptance report (达产验收) for a day: each obligation's target, actual and
        shortfall, the verdict and what the remedy clauses imply. Anyone who may read the
        agreement computes it; with `confirm: true` and a note a leader records it (403 for
        anyone else), which drafts the clawbacks a failing verdict implies."""
        agreement = self.get_object()  # 404 outside the caller's reach
        body = AcceptanceInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        acceptance = None
        if data["confirm"]:
            acceptance = services.acceptance_confirm(agreement=agreement, by=request.user,
                                                     on=data["on"], note=data["note"])
        verdict = selectors.verdict_for(agreement, data["on"])
        if agreement.project.confidential:
            record_reads(request, [agreement], action=AccessRecord.Action.API)
        payload = AcceptanceReportSerializer(acceptance_payload(agreement, verdict, acceptance))
        return Response(payload.data,
                        status=status.HTTP_201_CREATED if acceptance else status.HTTP_200_OK)


# --- Obligations and actuals --------------------------------------------------------------------
class ObligationViewSet(AuditedReadsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Obligations of the agreements the caller may read, soonest due first. The status and
    the actual are computed (today's), never written."""

    serializer_class = ObligationSerializer
    filterset_class = ObligationFilter

    def get_queryset(self):
        return selectors.obligation_queryset(user=self.request.user)

    def is_confidential(self, obj) -> bool:
        return obj.agreement.project.confidential

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        agreement = data.pop("agreement")
        obligation = service_errors(serializer, lambda: services.obligation_add(
            agreement=agreement, by=self.request.user, **data))
        # Read back: the service stored its computed status on another copy of the row.
        serializer.instance = self.get_queryset().get(pk=obligation.pk)


class ActualViewSet(AuditedReadsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                    mixins.CreateModelMixin, viewsets.GenericViewSet):
    """What the projects reported per period (万元 and headcount); one report per period."""

    serializer_class = ActualSerializer
    filterset_class = ActualFilter

    def get_queryset(self):
        return selectors.actual_queryset(user=self.request.user).select_related(
            "agreement__project")

    def is_confidential(self, obj) -> bool:
        return obj.agreement.project.confidential

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        agreement = data.pop("agreement")
        serializer.instance = service_errors(serializer, lambda: services.actual_record(
            agreement=agreement, by=self.request.user, **data))


# --- The leaders' figures -----------------------------------------------------------------------
def report_payload(figures, *, user) -> dict:
    ids = [row["project_id"] for row in figures.projects]
    readable = set(Project.objects.visible_to(user).filter(pk__in=ids)
                   .values_list("pk", flat=True))
    return {
        "by_year": figures.by_year, "rate": figures.rate,
        "committed_wan": figures.committed_wan, "arrived_wan": figures.arrived_wan,
        "arrival_rate": figures.arrival_rate,
        "intensity_floor_wan_per_mu": rules.INVESTMENT_INTENSITY_FLOOR_WAN_PER_MU,
        "intensity_bands": figures.intensity_bands,
        "tax_per_mu_floor_wan": rules.TAX_PER_MU_FLOOR_WAN, "tax_bands": figures.tax_bands,
        "breached_count": figures.breached_count, "at_risk_count": figures.at_risk_count,
        "incentives_paid_yuan": figures.incentives_paid_yuan,
        "tax_since_signing_wan": figures.tax_since_signing_wan,
        "return_ratio": figures.return_ratio,
        "projects": [{
            "project": row["project_id"],
            "name": row["name"] if row["project_id"] in readable
            else confidential_name(Project(pk=row["project_id"])),
            "incentives_paid_yuan": row["paid"], "tax_since_signing_wan": row["tax"],
            "return_ratio": row["ratio"]} for row in figures.projects],
    }


class FulfilmentReportView(APIView):
    """The leaders' fulfilment figures: 履约率 by year of signing, 资金到位率, investment
    intensity and tax per mu against the floors, the breached and at-risk projects, and
    incentives paid against tax returned since signing (投入产出比), in total and for the
    projects paid most. Statuses are today's."""

    permission_classes = [IsAuthenticated, role_permission(*REPORT_ROLES)]

    @extend_schema(responses=FulfilmentReportSerializer)
    def get(self, request):
        figures = selectors.fulfilment_figures(user=request.user)
        return Response(FulfilmentReportSerializer(report_payload(figures,
                                                                  user=request.user)).data)


router = SimpleRouter()
router.register("agreements", AgreementViewSet, basename="agreement")
router.register("obligations", ObligationViewSet, basename="obligation")
router.register("actuals", ActualViewSet, basename="actual")
urlpatterns = [
    *router.urls,
    path("reports/fulfilment/", FulfilmentReportView.as_view(), name="report-fulfilment"),
]
