"""REST API for fund programmes and applications. The services decide and give the reason:
exceeding the budget, an illegal transition or a publicity still running is a 409 with it; a
field to correct (a publicity that starts too early or ends too soon, a missing amount) a 400
naming the field; acting outside one's role or duty (reviewing one's own application, a
second review step, approving what one reviewed) a 403 with the reason."""

from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from crm.audit.api import AuditedReadsMixin
from leads.models import Company, Project, Stage

from . import selectors, services
from .filters import ApplicationFilter
from .fulfilment import services as fulfilment_services
from .fulfilment.models import PaymentOverride
from .models import Application, ApplicationDocument, Disbursement, Programme, Review, State


class ProgrammeSerializer(serializers.ModelSerializer):
    approved_total = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    paid_total = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    remaining = serializers.SerializerMethodField()

    class Meta:
        model = Programme
        fields = ["id", "code", "name", "department", "year", "kind", "budget_yuan",
                  "cap_per_company_yuan", "window_start", "window_end", "required_documents",
                  "review_steps", "publicity_working_days", "approver_may_review",
                  "approved_total", "paid_total", "remaining", "is_active"]

    def get_remaining(self, programme) -> str:
        return str(programme.budget_yuan - programme.approved_total)


class ProgrammeViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ProgrammeSerializer
    filterset_fields = ["year", "kind", "is_active"]

    def get_queryset(self):
        return selectors.programme_list(user=self.request.user)


class DocumentSerializer(serializers.ModelSerializer):
    download = serializers.SerializerMethodField(
        help_text="Download address (the application's access rule applies).")

    class Meta:
        model = ApplicationDocument
        fields = ["id", "name", "download", "uploaded_at"]
        read_only_fields = ["uploaded_at"]

    def get_download(self, document) -> str:
        return reverse("funds:document-download", args=[document.application_id, document.pk])


class ReviewSerializer(serializers.ModelSerializer):
    class Meta:
        model = Review
        fields = ["id", "step", "reviewer", "opinion", "score", "decision", "at"]
        read_only_fields = ["step", "reviewer", "at"]


class DisbursementSerializer(serializers.ModelSerializer):
    milestone = serializers.SlugRelatedField(slug_field="code", queryset=Stage.objects.all(),
                                             required=False, allow_null=True)

    class Meta:
        model = Disbursement
        fields = ["id", "kind", "planned_amount", "planned_on", "milestone", "paid_amount",
                  "paid_on", "reason"]
        read_only_fields = ["kind", "paid_amount", "paid_on", "reason"]


class ApplicationSerializer(serializers.ModelSerializer):
    company = serializers.PrimaryKeyRelatedField(queryset=Company.objects.all())
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.none(),
                                                 required=False, allow_null=True)
    documents = DocumentSerializer(many=True, read_only=True)
    reviews = ReviewSerializer(many=True, read_only=True)
    disbursements = DisbursementSerializer(many=True, read_only=True)

    class Meta:
        model = Application
        fields = ["id", "programme", "company", "project", "title", "requested_amount",
                  "approved_amount", "state", "publicity_start", "publicity_end",
                  "submitted_at", "state_changed_at", "created_by", "documents", "reviews",
                  "disbursements"]
        read_only_fields = ["approved_amount", "state", "publicity_start", "publicity_end",
                            "submitted_at", "state_changed_at", "created_by"]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["project"].queryset = Project.objects.visible_to(request.user)
        return fields


class TransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=State.choices)
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, required=False,
                                      allow_null=True, help_text="Approved amount (yuan).")
    note = serializers.CharField(required=False, allow_blank=True, default="")
    publicity_start = serializers.DateField(required=False, allow_null=True)
    publicity_end = serializers.DateField(required=False, allow_null=True)


class ReviewInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Review.Decision.choices)
    opinion = serializers.CharField()
    score = serializers.IntegerField(required=False, allow_null=True, min_value=0,
                                     max_value=100)


class PlanSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    planned_on = serializers.DateField()
    milestone = serializers.SlugRelatedField(slug_field="code", queryset=Stage.objects.all(),
                                             required=False, allow_null=True)


class PaySerializer(serializers.Serializer):
    disbursement = serializers.IntegerField()
    paid_on = serializers.DateField()
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, required=False,
                                      allow_null=True)


class ClawbackSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    reason = serializers.CharField()


class BreachOverrideSerializer(serializers.Serializer):
    disbursement = serializers.IntegerField(help_text="The unpaid tranche to let through.")
    reason = serializers.CharField(help_text="Why it is paid although the project is in "
                                             "breach; recorded with the override.")


class PaymentOverrideSerializer(serializers.ModelSerializer):
    class Meta:
        model = PaymentOverride
        fields = ["id", "disbursement", "reason", "by", "at"]
        read_only_fields = fields


class DocumentInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    file = serializers.FileField()


class ApplicationViewSet(AuditedReadsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                         mixins.CreateModelMixin, viewsets.GenericViewSet):
    serializer_class = ApplicationSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ApplicationFilter
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_queryset(self):
        return (selectors.application_queryset(user=self.request.user)
                .prefetch_related("documents", "reviews", "disbursements__milestone"))

    def is_confidential(self, obj) -> bool:
        return obj.is_confidential

    def perform_create(self, serializer):
        serializer.instance = services.application_create(by=self.request.user,
                                    **serializer.validated_data)

    def _respond(self, application):
        application = self.get_queryset().get(pk=application.pk)
        return Response(ApplicationSerializer(application,
                                              context={"request": self.request}).data)

    def _run(self, request, body_serializer, service):
        """Validate the body, call the one service on the application, answer with it."""
        application = self.get_object()
        body = body_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        service(application=application, by=request.user, **body.validated_data)
        return self._respond(application)

    @extend_schema(request=TransitionSerializer, responses=ApplicationSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """Move the application to another state (see the workflow); 409 with the reason if
        the move is illegal or would break a money rule."""
        return self._run(request, TransitionSerializer, services.application_transition)

    @extend_schema(request=ReviewInputSerializer, responses=ApplicationSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        """Record the current reviewer's opinion on the current review step."""
        return self._run(request, ReviewInputSerializer, services.review_record)

    @extend_schema(request=DocumentInputSerializer, responses=ApplicationSerializer)
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def documents(self, request, pk=None):
        """Upload a document (checked by content and size)."""
        return self._run(request, DocumentInputSerializer, services.document_add)

    @extend_schema(request=PlanSerializer, responses=ApplicationSerializer)
    @action(detail=True, methods=["post"])
    def plan(self, request, pk=None):
        """Plan a tranche (optionally paid when the project reaches a stage)."""
        return self._run(request, PlanSerializer, services.disbursement_plan)

    @extend_schema(request=PaySerializer, responses=ApplicationSerializer)
    @action(detail=True, methods=["post"])
    def pay(self, request, pk=None):
        """Record the payment of a planned tranche."""
        application = self.get_object()
        body = PaySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        disbursement = application.disbursements.filter(pk=data.pop("disbursement")).first()
        if disbursement is None:
            raise DRFValidationError({"disbursement": "not a tranche of this application"})
        services.disbursement_pay(disbursement=disbursement, by=request.user, **data)
        return self._respond(application)

    @extend_schema(request=ClawbackSerializer, responses=ApplicationSerializer)
    @action(detail=True, methods=["post"])
    def clawback(self, request, pk=None):
        """Claw back money already paid (a negative disbursement with its reason)."""
        return self._run(request, ClawbackSerializer, services.clawback_record)

    @extend_schema(request=BreachOverrideSerializer, responses={201: PaymentOverrideSerializer})
    @action(detail=True, methods=["post"], url_path="breach-override")
    def breach_override(self, request, pk=None):
        """A leader lets one tranche be paid although the project is in breach of its
        agreement, with the reason (recorded); 403 for anyone else, 409 when the project is
        not in breach or the tranche is paid or overridden already. A fund reviewer then pays
        it with POST pay/."""
        application = self.get_object()
        body = BreachOverrideSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        disbursement = application.disbursements.filter(
            pk=data["disbursement"], kind=Disbursement.Kind.TRANCHE).first()
        if disbursement is None:
            raise DRFValidationError({"disbursement": "not a tranche of this application"})
        override = fulfilment_services.payment_override_grant(
            disbursement=disbursement, by=request.user, reason=data["reason"])
        return Response(PaymentOverrideSerializer(override).data, status=201)


router = SimpleRouter()
router.register("fund-programmes", ProgrammeViewSet, basename="fund-programme")
router.register("fund-applications", ApplicationViewSet, basename="fund-application")
urlpatterns = router.urls
