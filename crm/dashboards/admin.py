from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from crm.core.admin import AccessRuleAdmin

from .models import Target


@admin.register(Target)
class TargetAdmin(AccessRuleAdmin, SimpleHistoryAdmin):
    list_display = ["metric", "year_from", "year_to", "value", "park", "city", "source"]
    list_filter = ["metric", "year_to"]
    list_editable = ["value"]
    fields = ["metric", "year_from", "year_to", "value", "park", "city", "source", "order"]
