from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Application, Disbursement, Programme, Review, Transition


@admin.register(Programme)
class ProgrammeAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "department", "year", "kind", "budget_yuan",
                    "cap_per_company_yuan", "window_start", "window_end",
                    "publicity_working_days", "approver_may_review", "is_active")
    list_filter = ("year", "kind", "is_active")
    search_fields = ("code", "name", "department")


class TransitionInline(admin.TabularInline):
    model = Transition
    extra = 0
    can_delete = False
    readonly_fields = ("from_state", "to_state", "by", "at", "note", "amount")


@admin.register(Application)
class ApplicationAdmin(SimpleHistoryAdmin):
    """Read-mostly: state and money move only through the workflow services."""

    list_display = ("__str__", "programme", "company", "state", "requested_amount",
                    "approved_amount", "state_changed_at")
    list_filter = ("state", "programme")
    list_select_related = ("programme", "company")
    search_fields = ("company__name", "title")
    readonly_fields = ("state", "approved_amount", "review_step_index", "submitted_at",
                       "state_changed_at", "created_by")
    raw_id_fields = ("company", "project")
    inlines = [TransitionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)


admin.site.register(Review, SimpleHistoryAdmin)
admin.site.register(Disbursement, SimpleHistoryAdmin)
