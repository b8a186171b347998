"""REST API for the organisation: `/api/v1/org-units/` and `/api/v1/memberships/`. Reads go
through each model's visible_to; writes through the settings screens' one write path
(crm.core.setup_screens.reference_save), so the API and the pages refuse alike."""

from django.core.exceptions import ValidationError
from rest_framework import serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from crm.core.setup_screens import reference_delete, reference_save, setup_screens

from .models import Membership, OrgUnit


class OrgUnitSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrgUnit
        fields = ["id", "code", "name", "name_en", "kind", "parent", "path", "depth", "order",
                  "is_active"]
        read_only_fields = ["path", "depth"]
        validators = []  # the model's own checks run in reference_save, with their messages


class MembershipSerializer(serializers.ModelSerializer):
    class Meta:
        model = Membership
        fields = ["id", "user", "unit", "role", "scope"]
        validators = []


class ReferenceViewSet(viewsets.ModelViewSet):
    """A settings screen's rows over the API: the same permission, checks and history."""

    screen_key = ""

    @property
    def screen(self):
        return setup_screens.get(self.screen_key)

    def _save(self, request, instance, partial=False):
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        try:
            saved = reference_save(screen=self.screen, by=request.user, instance=instance,
                                   data=dict(serializer.validated_data))
        except ValidationError as error:
            raise serializers.ValidationError(
                error.message_dict if hasattr(error, "error_dict") else error.messages
            ) from error
        return self.get_serializer(saved).data

    def create(self, request, *args, **kwargs):
        return Response(self._save(request, None), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        return Response(self._save(request, self.get_object(),
                                   partial=kwargs.get("partial", False)))

    def destroy(self, request, *args, **kwargs):
        try:
            reference_delete(screen=self.screen, by=request.user, instance=self.get_object())
        except ValidationError as error:
            return Response({"detail": " ".join(error.messages)},
                            status=status.HTTP_409_CONFLICT)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OrgUnitViewSet(ReferenceViewSet):
    serializer_class = OrgUnitSerializer
    screen_key = "org-units"
    filterset_fields = ["kind", "parent", "is_active"]

    def get_queryset(self):
        return OrgUnit.objects.visible_to(self.request.user).order_by("path")


class MembershipViewSet(ReferenceViewSet):
    serializer_class = MembershipSerializer
    screen_key = "memberships"
    filterset_fields = ["user", "unit", "role", "scope"]

    def get_queryset(self):
        return Membership.objects.visible_to(self.request.user).order_by("unit__path", "pk")


router = SimpleRouter()
router.register("org-units", OrgUnitViewSet, basename="org-unit")
router.register("memberships", MembershipViewSet, basename="membership")
urlpatterns = router.urls
