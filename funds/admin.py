from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from crm.core.admin import AccessRuleAdmin

from . import permissions
from .models import (
    Acceptance,
    Actual,
    Agreement,
    Application,
    Disbursement,
    Obligation,
    Programme,
    Review,
    Transition,
)


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


# --- Fulfilment (履约): read-only here. Agreements, clauses and actuals are written on the
# product's pages and API, whose services check the project's team and refresh the computed
# statuses; an edit in the admin would do neither.
class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser


class ObligationInline(admin.TabularInline):
    model = Obligation
    extra = 0
    can_delete = False
    fields = ("metric", "target", "due_on", "applies_from", "status", "actual", "checked_on",
              "breached_on")
    readonly_fields = fields


class ActualInline(admin.TabularInline):
    model = Actual
    extra = 0
    can_delete = False
    fields = ("period_start", "period_end", "investment_wan", "fixed_asset_investment_wan",
              "funds_arrived_wan", "output_value_wan", "tax_wan", "jobs")
    readonly_fields = fields


@admin.register(Agreement)
class AgreementAdmin(ReadOnlyAdminMixin, AccessRuleAdmin, SimpleHistoryAdmin):
    """Read through the project's access rule: a confidential project's agreements stay with
    its team and the leaders, history pages included (crm.core.admin)."""

    list_display = ("title", "project", "signed_on", "land_mu", "committed_investment_wan",
                    "grace_days")
    list_select_related = ("project",)
    list_filter = ("signed_on", "reporting")
    search_fields = ("title",)
    raw_id_fields = ("project",)
    inlines = [ObligationInline, ActualInline]


class AgreementPartAdmin(ReadOnlyAdminMixin, AccessRuleAdmin, SimpleHistoryAdmin):
    access_through = "agreement"
    raw_id_fields = ("agreement",)


@admin.register(Obligation)
class ObligationAdmin(AgreementPartAdmin):
    list_display = ("agreement", "metric", "target", "due_on", "applies_from", "status",
                    "actual")
    list_filter = ("status", "metric")
    list_select_related = ("agreement",)


admin.site.register(Actual, AgreementPartAdmin)


@admin.register(Acceptance)
class AcceptanceAdmin(ReadOnlyAdminMixin, AccessRuleAdmin, admin.ModelAdmin):
    access_through = "agreement"
    list_display = ("agreement", "on", "verdict", "due_back_yuan", "withheld_yuan",
                    "confirmed_by", "confirmed_at")
    list_select_related = ("agreement", "confirmed_by")
