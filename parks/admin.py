from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Assignment, Building, Floor, Park, Unit


class BuildingInline(admin.TabularInline):
    model = Building
    extra = 0


@admin.register(Park)
class ParkAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "city", "district", "is_active")
    filter_horizontal = ("managers",)
    inlines = [BuildingInline]


@admin.register(Building)
class BuildingAdmin(SimpleHistoryAdmin):
    list_display = ("park", "code", "name")
    list_filter = ("park",)


@admin.register(Floor)
class FloorAdmin(admin.ModelAdmin):
    list_display = ("building", "number", "label")
    list_filter = ("building__park",)


@admin.register(Unit)
class UnitAdmin(SimpleHistoryAdmin):
    list_display = ("code", "park", "building", "floor", "use", "gross_area_m2", "list_rent",
                    "rent_unit", "rentable")
    list_filter = ("park", "use", "rentable")
    search_fields = ("code",)
    list_select_related = ("park", "building", "floor")


@admin.register(Assignment)
class AssignmentAdmin(SimpleHistoryAdmin):
    list_display = ("unit", "company", "kind", "status", "outcome", "start", "end", "area_m2")
    list_filter = ("kind", "status", "unit__park")
    raw_id_fields = ("unit", "company", "project", "converted_from", "created_by")
    list_select_related = ("unit", "unit__park", "company")

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)
