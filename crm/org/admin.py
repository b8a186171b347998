from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Membership, OrgUnit


@admin.register(OrgUnit)
class OrgUnitAdmin(SimpleHistoryAdmin):
    list_display = ("name", "code", "kind", "parent", "order", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "code")
    list_select_related = ("parent",)


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ("user", "unit", "role", "scope")
    list_filter = ("role", "scope", "unit__kind")
    list_select_related = ("user", "unit")
    raw_id_fields = ("user",)
