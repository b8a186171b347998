from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from crm.core.admin import AccessRuleAdmin

from . import permissions
from .models import Application, Disbursement, Programme, Review, Transition


@admin.register(Programme)
class ProgrammeAdmin(AccessRuleAdmin, SimpleHistoryAdmin):
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
class ApplicationAdmin(AccessRuleAdmin, SimpleHistoryAdmin):
    """Read-mostly: state and money move only through the workflow services. A fund reviewer
    reads the applications of confidential projects, never the projects' names: the project
    column and field show "Confidential project (ID n)" (crm.core.admin)."""

    list_display = ("__str__", "programme", "company", "project", "state", "requested_amount",
                    "approved_amount", "state_changed_at")
    list_filter = ("state", "programme", "project")
    list_select_related = ("programme", "company", "project")
    search_fields = ("company__name", "title")
    readonly_fields = ("state", "approved_amount", "review_step_index", "submitted_at",
                       "state_changed_at", "created_by")
    raw_id_fields = ("company", "project")
    inlines = [TransitionInline]

    def may_change(self, user, obj) -> bool:
        # Fund reviewers hold the change permission; one with a stake in the application
        # (a conflict of interest, funds/permissions.py) must not edit it here either.
        return permissions.is_independent_reviewer(user, obj)


class ApplicationPartAdmin(AccessRuleAdmin, SimpleHistoryAdmin):
    """A review or a disbursement is read by those who may read its application."""

    access_through = "application"
    raw_id_fields = ("application",)

    def may_change(self, user, obj) -> bool:
        return permissions.is_independent_reviewer(user, obj.application)


admin.site.register(Review, ApplicationPartAdmin)
admin.site.register(Disbursement, ApplicationPartAdmin)
