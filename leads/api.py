"""REST API for companies, projects, follow-ups and stages. The same selectors (reads) and
services (writes) as the pages; refusals come back as 400 (bad field), 403, 404 (outside your
reach) or 409 (duplicate, refused move) through crm.core.api.exception_handler."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from crm.accounts.models import User
from crm.audit.api import AuditedReadsMixin

from . import selectors, services
from .filters import CompanyFilter, ProjectFilter
from .models import (
    ChainNode,
    ChainRole,
    Company,
    CompanyChainLink,
    FollowUp,
    FollowUpIssue,
    Industry,
    LostReason,
    Project,
    Stage,
    project_holders,
)
from .uscc import normalize_uscc, validate_uscc


# --- Companies ----------------------------------------------------------------------------------
class ChainLinkSerializer(serializers.ModelSerializer):
    node = serializers.SlugRelatedField(slug_field="code", queryset=ChainNode.objects.all())
    role = serializers.ChoiceField(choices=ChainRole.choices)

    class Meta:
        model = CompanyChainLink
        fields = ["node", "role"]


class CompanySerializer(serializers.ModelSerializer):
    uscc = serializers.CharField(required=False, allow_blank=True, allow_null=True,
                                 max_length=40)
    industry = serializers.SlugRelatedField(slug_field="code", queryset=Industry.objects.all(),
                                            required=False, allow_null=True)
    chain_links = ChainLinkSerializer(many=True, required=False)

    class Meta:
        model = Company
        fields = ["id", "name", "uscc", "industry", "chain_links", "registered_capital_wan",
                  "capital_currency", "hq_region_code", "hq_region_name", "source_region",
                  "website", "notes", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
        # Uniqueness is decided by the service, which answers 409 naming the existing record.
        validators = []

    def get_fields(self):
        fields = super().get_fields()
        fields["name"].validators = []
        return fields

    def validate_uscc(self, value):
        value = normalize_uscc(value)
        if not value:
            return None
        try:
            validate_uscc(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages)
        return value

    def _links(self, data):
        links = data.pop("chain_links", None)
        return None if links is None else [(link["node"], link["role"]) for link in links]

    def create(self, validated_data):
        links = self._links(validated_data)
        return services.company_create(by=self.context["request"].user,
                                       chain_links=links or [], **validated_data)

    def update(self, instance, validated_data):
        links = self._links(validated_data)
        return services.company_update(company=instance, by=self.context["request"].user,
                                       chain_links=links, **validated_data)


class CompanyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     mixins.UpdateModelMixin, viewsets.GenericViewSet):
    serializer_class = CompanySerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = CompanyFilter

    def get_queryset(self):
        return selectors.company_queryset(user=self.request.user)


# --- Projects -----------------------------------------------------------------------------------
class ProjectSerializer(serializers.ModelSerializer):
    company = serializers.PrimaryKeyRelatedField(queryset=Company.objects.all())
    # Choices are the people who may hold projects; the service checks it again (and decides
    # who may change the team: the owner, a leader or an administrator).
    owner = serializers.PrimaryKeyRelatedField(queryset=project_holders(), required=False)
    collaborators = serializers.PrimaryKeyRelatedField(queryset=project_holders(), many=True,
                                                       required=False)
    stage = serializers.SlugRelatedField(
        slug_field="code", required=False,
        queryset=Stage.objects.filter(is_active=True, kind=Stage.Kind.OPEN),
        help_text="Stage code. Set on creation only; move with POST projects/{id}/move/.",
    )
    agreed_investment = serializers.DecimalField(
        source="agreed_investment_wan", max_digits=14, decimal_places=2, required=False,
        allow_null=True, min_value=0, help_text="万元 (CNY 10k)")
    fixed_asset_investment = serializers.DecimalField(
        source="fixed_asset_wan", max_digits=14, decimal_places=2, required=False,
        allow_null=True, min_value=0, help_text="万元")
    funds_arrived = serializers.DecimalField(
        source="funds_arrived_wan", max_digits=14, decimal_places=2, required=False, min_value=0,
        help_text="万元")
    expected_output = serializers.DecimalField(
        source="expected_output_wan", max_digits=14, decimal_places=2, required=False,
        allow_null=True, help_text="万元")
    expected_tax = serializers.DecimalField(
        source="expected_tax_wan", max_digits=14, decimal_places=2, required=False,
        allow_null=True, help_text="万元")

    class Meta:
        model = Project
        fields = ["id", "company", "name", "owner", "collaborators", "stage", "channel",
                  "referrer", "agreed_investment", "fixed_asset_investment", "funds_arrived",
                  "expected_output", "expected_tax", "expected_jobs", "space_use",
                  "space_min_m2", "space_max_m2", "move_in_on", "intended_park", "next_step",
                  "next_step_on", "contract_start_on", "confidential", "unit", "team",
                  "last_contact_on",
                  "signed_on", "stage_entered_at", "created_at", "updated_at"]
        read_only_fields = ["last_contact_on", "signed_on", "stage_entered_at", "created_at",
                            "updated_at"]

    def validate(self, attrs):
        if self.instance is not None:
            attrs.pop("stage", None)
            attrs.pop("company", None)
        return attrs

    def create(self, validated_data):
        collaborators = validated_data.pop("collaborators", [])
        return services.project_create(by=self.context["request"].user,
                                       collaborators=collaborators, **validated_data)

    def update(self, instance, validated_data):
        collaborators = validated_data.pop("collaborators", None)
        owner = validated_data.pop("owner", None)
        return services.project_update(project=instance, by=self.context["request"].user,
                                       owner=owner, collaborators=collaborators,
                                       **validated_data)


class MoveSerializer(serializers.Serializer):
    stage = serializers.SlugRelatedField(slug_field="code",
                                         queryset=Stage.objects.filter(is_active=True))
    note = serializers.CharField(required=False, allow_blank=True, default="")
    lost_reason = serializers.SlugRelatedField(slug_field="code", required=False,
                                               allow_null=True, default=None,
                                               queryset=LostReason.objects.filter(is_active=True))
    next_step = serializers.CharField(required=False, allow_blank=True, max_length=200)
    next_step_on = serializers.DateField(required=False, allow_null=True)


class ProjectViewSet(AuditedReadsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
    serializer_class = ProjectSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProjectFilter

    def get_queryset(self):
        return selectors.project_queryset(user=self.request.user).prefetch_related(
            "collaborators")

    def is_confidential(self, obj) -> bool:
        return obj.confidential

    @extend_schema(request=MoveSerializer, responses={200: ProjectSerializer})
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """Move the project to another stage; a refused move is a 409 with the reason."""
        project = self.get_object()
        move = MoveSerializer(data=request.data)
        move.is_valid(raise_exception=True)
        data = move.validated_data
        services.project_move_stage(
            project=project, to_stage=data["stage"], by=request.user, note=data.get("note", ""),
            lost_reason=data.get("lost_reason"), next_step=data.get("next_step"),
            next_step_on=data.get("next_step_on"),
        )
        project = self.get_queryset().get(pk=project.pk)
        return Response(ProjectSerializer(project, context={"request": request}).data)


# --- Follow-ups ---------------------------------------------------------------------------------
class FollowUpIssueSerializer(serializers.ModelSerializer):
    class Meta:
        model = FollowUpIssue
        fields = ["description", "department", "due_on", "status"]


class FollowUpSerializer(serializers.ModelSerializer):
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.none())
    our_participants = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(),
                                                          many=True, required=False)
    issues = FollowUpIssueSerializer(many=True, required=False)

    class Meta:
        model = FollowUp
        fields = ["id", "project", "date", "kind", "our_participants", "leader_attended",
                  "their_participants", "summary", "next_step", "next_contact_on", "issues",
                  "created_at"]
        read_only_fields = ["created_at"]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            # A project outside the caller's reach does not exist for them.
            fields["project"].queryset = Project.objects.visible_to(request.user)
        return fields

    def create(self, validated_data):
        project = validated_data.pop("project")
        return services.followup_create(project=project, by=self.context["request"].user,
                                        **validated_data)


class FollowUpViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      viewsets.GenericViewSet):
    serializer_class = FollowUpSerializer
    filterset_fields = ["project", "kind"]

    def get_queryset(self):
        return selectors.followup_queryset(user=self.request.user)


class StageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Stage
        fields = ["code", "name", "kind", "order", "probability", "milestone",
                  "requires_agreement", "requires_uscc"]


class StageViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = StageSerializer
    lookup_field = "code"
    filter_backends = []
    queryset = Stage.objects.filter(is_active=True).order_by("order")


router = SimpleRouter()
router.register("companies", CompanyViewSet, basename="company")
router.register("projects", ProjectViewSet, basename="project")
router.register("followups", FollowUpViewSet, basename="followup")
router.register("stages", StageViewSet, basename="stage")

urlpatterns = router.urls
