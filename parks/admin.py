from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from crm.core.admin import AccessRuleAdmin

from . import permissions
from .models import Assignment, Building, Floor, Park, Unit


class BuildingInline(admin.TabularInline):
    model = Building
    extra = 0


@admin.register(Park)
class ParkAdmin(AccessRuleAdmin, SimpleHistoryAdmin):
    list_display = ("code", "name", "city", "district", "is_active")
    filter_horizontal = ("managers",)
    inlines = [BuildingInline]

    def may_change(self, user, obj) -> bool:
        return permissions.can_manage_park(user, obj)


@admin.register(Building)
class BuildingAdmin(AccessRuleAdmin, SimpleHistoryAdmin):
    list_display = ("park", "code", "name")
    list_filter = ("park",)
    access_through = "park"

    def may_change(self, user, obj) -> bool:
        return permissions.can_manage_park(user, obj.park)


@admin.register(Floor)
class FloorAdmin(AccessRuleAdmin):
    list_display = ("building", "number", "label")
    list_filter = ("building__park",)
    access_through = "building__park"

    def may_change(self, user, obj) -> bool:
        return permissions.can_manage_park(user, obj.building.park)


@admin.register(Unit)
class UnitAdmin(AccessRuleAdmin, SimpleHistoryAdmin):
    list_display = ("code", "park", "building", "floor", "use", "gross_area_m2", "list_rent",
                    "rent_unit", "rentable")
    list_filter = ("park", "use", "rentable")
    search_fields = ("code",)
    list_select_related = ("park", "building", "floor")

    def may_change(self, user, obj) -> bool:
        return permissions.can_manage_park(user, obj.park)


@admin.register(Assignment)
class AssignmentAdmin(AccessRuleAdmin, SimpleHistoryAdmin):
    """Park managers, administrators and fund reviewers read bookings of confidential projects
    without the projects' names (crm.core.admin conceals them)."""

    list_display = ("unit", "company", "project", "kind", "status", "outcome", "start", "end",
                    "area_m2")
    list_filter = ("kind", "status", "unit__park", "project")
    raw_id_fields = ("unit", "company", "project", "converted_from", "created_by")
    list_select_related = ("unit", "unit__park", "company", "project")

    def may_change(self, user, obj) -> bool:
        return permissions.can_change_assignment(user, obj)
