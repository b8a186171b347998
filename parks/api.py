"""REST API for park space: inventory, assignments, availability and occupancy. Periods are
half-open: `end` is the first day the unit is free again (`last_day` = end − 1 is read-only).
An overlapping assignment is a 409 whose `existing` names the assignment it collides with."""

from datetime import date

from django.urls import path
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from leads.models import Company, Project

from . import selectors, services
from .forms import OnDateForm
from .models import Assignment, Building, Park, Unit, UnitUse


class ParkSerializer(serializers.ModelSerializer):
    class Meta:
        model = Park
        fields = ["id", "code", "name", "city", "district", "address", "region_code",
                  "managers", "is_active"]
        read_only_fields = ["managers"]


class ParkViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ParkSerializer

    def get_queryset(self):
        return selectors.park_list(user=self.request.user).order_by("code")


class BuildingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Building
        fields = ["id", "park", "code", "name"]


class BuildingViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = BuildingSerializer
    filterset_fields = ["park"]

    def get_queryset(self):
        return Building.objects.filter(
            park__in=Park.objects.visible_to(self.request.user)).order_by("park", "code")


class UnitSerializer(serializers.ModelSerializer):
    floor_number = serializers.IntegerField(source="floor.number", read_only=True,
                                            allow_null=True, default=None)

    class Meta:
        model = Unit
        fields = ["id", "park", "building", "floor", "floor_number", "code", "use",
                  "gross_area_m2", "usable_area_m2", "floor_height_m", "floor_load_kn_m2",
                  "list_rent", "rent_unit", "property_fee", "rentable"]
        read_only_fields = ["floor"]
        validators = []


class UnitFilter(filters.FilterSet):
    min_area = filters.NumberFilter(field_name="gross_area_m2", lookup_expr="gte")
    max_area = filters.NumberFilter(field_name="gross_area_m2", lookup_expr="lte")

    class Meta:
        model = Unit
        fields = ["park", "building", "use", "rentable", "min_area", "max_area"]


class AvailabilityQuery(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField(required=False, allow_null=True,
                                help_text="Exclusive: the first day the unit may be busy again.")
    park = serializers.PrimaryKeyRelatedField(queryset=Park.objects.all(), required=False)
    use = serializers.ChoiceField(choices=UnitUse.choices, required=False)
    min_area = serializers.DecimalField(max_digits=10, decimal_places=2, required=False)
    max_area = serializers.DecimalField(max_digits=10, decimal_places=2, required=False)
    max_monthly_rent = serializers.DecimalField(max_digits=10, decimal_places=2, required=False)

    def validate(self, attrs):
        if attrs.get("end") and attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": "end must be after start"})
        return attrs


class AvailableUnitSerializer(UnitSerializer):
    monthly_rent = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True,
                                            allow_null=True, help_text="元/m²·月")

    class Meta(UnitSerializer.Meta):
        fields = UnitSerializer.Meta.fields + ["monthly_rent"]


class UnitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                  mixins.UpdateModelMixin, viewsets.GenericViewSet):
    serializer_class = UnitSerializer
    filterset_class = UnitFilter

    def get_queryset(self):
        return (Unit.objects.visible_to(self.request.user)
                .select_related("floor").order_by("park", "code", "pk"))

    def perform_create(self, serializer):
        serializer.instance = services.unit_create(by=self.request.user,
                                                   **serializer.validated_data)

    def perform_update(self, serializer):
        services.unit_update(unit=serializer.instance, by=self.request.user,
                             **serializer.validated_data)

    @extend_schema(parameters=[AvailabilityQuery], responses=AvailableUnitSerializer(many=True))
    @action(detail=False, methods=["get"], filterset_class=None, filter_backends=[])
    def available(self, request):
        """Rentable units free for the whole period [start, end), cheapest first."""
        query = AvailabilityQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        units = selectors.availability_search(user=request.user, **query.validated_data)
        page = self.paginate_queryset(units)
        return self.get_paginated_response(AvailableUnitSerializer(page, many=True).data)


class AssignmentSerializer(serializers.ModelSerializer):
    company = serializers.PrimaryKeyRelatedField(queryset=Company.objects.all())
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.none(),
                                                 required=False, allow_null=True)
    last_day = serializers.DateField(read_only=True, allow_null=True,
                                     help_text="The last day of the period (end − 1 day).")
    end = serializers.DateField(required=False, allow_null=True,
                                help_text="Exclusive: the first day the unit is free again. "
                                          "Empty only for a sale.")

    class Meta:
        model = Assignment
        fields = ["id", "unit", "company", "project", "kind", "status", "outcome", "start",
                  "end", "last_day", "hold_until", "area_m2", "price", "rent_free_until",
                  "converted_from", "note", "created_at"]
        read_only_fields = ["status", "outcome", "converted_from", "created_at"]
        extra_kwargs = {"area_m2": {"required": False}}

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["project"].queryset = Project.objects.visible_to(request.user)
        return fields


class EndSerializer(serializers.Serializer):
    last_day = serializers.DateField(help_text="The last day the unit is occupied.")


class ConvertSerializer(serializers.Serializer):
    start = serializers.DateField(required=False)
    end = serializers.DateField(help_text="Exclusive.")
    price = serializers.DecimalField(max_digits=12, decimal_places=2, required=False,
                                     allow_null=True)
    rent_free_until = serializers.DateField(required=False, allow_null=True)
    kind = serializers.ChoiceField(choices=[Assignment.Kind.LEASE, Assignment.Kind.SALE],
                                   default=Assignment.Kind.LEASE)


class AssignmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        mixins.CreateModelMixin, viewsets.GenericViewSet):
    serializer_class = AssignmentSerializer
    filterset_fields = ["unit", "company", "project", "kind", "status"]

    def get_queryset(self):
        return selectors.assignment_list(user=self.request.user)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        unit = data.pop("unit")
        serializer.instance = services.assignment_create(unit=unit, by=self.request.user,
                                                         **data)

    def _act(self, request, pk, func, body_serializer=None):
        assignment = self.get_object()
        kwargs = {}
        if body_serializer is not None:
            body = body_serializer(data=request.data)
            body.is_valid(raise_exception=True)
            kwargs = body.validated_data
        result = func(assignment=assignment, by=request.user, **kwargs)
        return Response(AssignmentSerializer(result, context={"request": request}).data)

    @extend_schema(request=EndSerializer, responses=AssignmentSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        """End an active assignment after `last_day`."""
        return self._act(request, pk, services.assignment_end, EndSerializer)

    @extend_schema(request=None, responses=AssignmentSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        """Release a reservation (or intent)."""
        return self._act(request, pk, services.reservation_release)

    @extend_schema(request=ConvertSerializer,
                   responses=AssignmentSerializer(help_text="The new lease"))
    @action(detail=True, methods=["post"])
    def convert(self, request, pk=None):
        """Convert a reservation into a lease; the reservation is kept in the history."""
        return self._act(request, pk, services.reservation_convert, ConvertSerializer)

    @extend_schema(request=None, responses=AssignmentSerializer)
    @action(detail=True, methods=["post"])
    def terminate(self, request, pk=None):
        """Cancel an assignment (entered by mistake, called off)."""
        return self._act(request, pk, services.assignment_terminate)


class OccupancyFiguresSerializer(serializers.Serializer):
    park = serializers.IntegerField(allow_null=True)
    building = serializers.IntegerField(allow_null=True)
    label = serializers.CharField()
    rentable_m2 = serializers.DecimalField(max_digits=14, decimal_places=2)
    leased_m2 = serializers.DecimalField(max_digits=14, decimal_places=2)
    rent_paying_m2 = serializers.DecimalField(max_digits=14, decimal_places=2)
    reserved_m2 = serializers.DecimalField(max_digits=14, decimal_places=2)
    vacant_m2 = serializers.DecimalField(max_digits=14, decimal_places=2)
    occupancy_rate = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True,
                                              help_text="出租率 %")
    rent_paying_rate = serializers.DecimalField(max_digits=5, decimal_places=1,
                                                allow_null=True, help_text="计租率 %")


class OccupancyReportSerializer(serializers.Serializer):
    on = serializers.DateField()
    total = OccupancyFiguresSerializer()
    parks = OccupancyFiguresSerializer(many=True)
    buildings = OccupancyFiguresSerializer(many=True)
    expiring_leases = serializers.DictField(child=serializers.IntegerField(),
                                            help_text="days (30/60/90) → leases ending")


def _figures(row, *, park=None, building=None) -> dict:
    return {
        "park": park, "building": building, "label": row.label,
        "rentable_m2": row.rentable, "leased_m2": row.leased, "rent_paying_m2": row.rent_paying,
        "reserved_m2": row.reserved, "vacant_m2": row.vacant,
        "occupancy_rate": row.occupancy_rate, "rent_paying_rate": row.rent_paying_rate,
    }


class OccupancyReportView(APIView):
    """Occupancy on a date (default today): the total, each park and each building."""

    @extend_schema(
        parameters=[OpenApiParameter("on", date, description="YYYY-MM-DD, default today"),
                    OpenApiParameter("park", int)],
        responses=OccupancyReportSerializer,
    )
    def get(self, request):
        # The page's own form checks the parameters (a date within the product's bounds, a
        # park the user may read), so the page and the API refuse the same input.
        form = OnDateForm(request.query_params, default_on=timezone.localdate(),
                          parks=selectors.park_list(user=request.user).prefetch_related(None))
        if not form.is_valid():
            raise DRFValidationError(form.errors)
        on, park = form.day(), form.park()
        rows = selectors.occupancy_report(user=request.user, on=on, park=park)
        return Response(OccupancyReportSerializer({
            "on": on,
            "total": _figures(selectors.occupancy_total(rows)),
            "parks": [_figures(r, park=r.park_id) for r in rows],
            "buildings": [_figures(b, park=b.park_id, building=b.building_id)
                          for r in rows for b in r.buildings],
            "expiring_leases": {str(k): v for k, v in selectors.expiring_counts(
                user=request.user, on=on, park=park).items()},
        }).data)


router = SimpleRouter()
router.register("parks", ParkViewSet, basename="park")
router.register("buildings", BuildingViewSet, basename="building")
router.register("units", UnitViewSet, basename="unit")
router.register("assignments", AssignmentViewSet, basename="assignment")

urlpatterns = router.urls + [
    path("reports/occupancy/", OccupancyReportView.as_view(), name="report-occupancy"),
]
