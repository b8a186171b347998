from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from crm.core.admin import AccessRuleAdmin

from . import permissions
from .models import (
    ChainNode,
    Company,
    CompanyChainLink,
    Contact,
    FollowUp,
    FollowUpIssue,
    ImportJob,
    Industry,
    LostReason,
    Project,
    Qualification,
    Stage,
    StageEvent,
    Tag,
    confidential_name,
)


@admin.register(Stage)
class StageAdmin(AccessRuleAdmin, SimpleHistoryAdmin):
    list_display = ("order", "code", "name", "kind", "probability", "milestone",
                    "requires_agreement", "requires_uscc", "is_active")
    list_display_links = ("code",)
    list_editable = ("order", "name", "probability", "is_active")
    ordering = ("order",)


@admin.register(LostReason)
class LostReasonAdmin(SimpleHistoryAdmin):
    list_display = ("order", "code", "name", "is_active")
    list_display_links = ("code",)
    list_editable = ("order", "name", "is_active")


@admin.register(Industry)
class IndustryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")


@admin.register(ChainNode)
class ChainNodeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "parent", "position", "order")
    list_filter = ("position",)


admin.site.register(Tag)


class ChainLinkInline(admin.TabularInline):
    model = CompanyChainLink
    extra = 0


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0


class QualificationInline(admin.TabularInline):
    model = Qualification
    extra = 0


@admin.register(Company)
class CompanyAdmin(AccessRuleAdmin, SimpleHistoryAdmin):
    list_display = ("name", "uscc", "industry", "source_region", "created_at")
    list_filter = ("source_region",)
    search_fields = ("name", "uscc", "name_initials")
    list_select_related = ("industry",)
    inlines = [ChainLinkInline, ContactInline, QualificationInline]
    raw_id_fields = ("industry", "created_by")

    def may_change(self, user, obj) -> bool:
        return permissions.can_edit_company(user, obj)


class StageEventInline(admin.TabularInline):
    model = StageEvent
    extra = 0
    fk_name = "project"
    readonly_fields = ("from_stage", "to_stage", "at", "by", "note", "lost_reason")
    can_delete = False


@admin.register(Project)
class ProjectAdmin(AccessRuleAdmin, SimpleHistoryAdmin):
    list_display = ("name", "company", "stage", "owner", "agreed_investment_wan", "next_step_on",
                    "confidential")
    list_filter = ("stage", "channel", "confidential")
    search_fields = ("name", "company__name")
    list_select_related = ("company", "stage", "owner")
    raw_id_fields = ("company", "owner", "collaborators")
    readonly_fields = ("stage", "stage_entered_at", "signed_on", "last_contact_on")
    inlines = [StageEventInline]

    def concealed_name(self, pk) -> str:
        return confidential_name(Project(pk=pk))  # the words the product's pages use

    def may_change(self, user, obj) -> bool:
        # Leaders read every deal and edit none; staff edit their team's (as the pages).
        return permissions.can_edit_project(user, obj)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # The team changes through leads.services.project_reassign, which records the
            # TeamChange and admits only those who may hold projects: anyone made owner or
            # collaborator here would read the deal, confidential or not.
            readonly += ["owner", "collaborators"]
        return readonly


class FollowUpIssueInline(admin.TabularInline):
    model = FollowUpIssue
    extra = 0


@admin.register(FollowUp)
class FollowUpAdmin(AccessRuleAdmin, SimpleHistoryAdmin):
    list_display = ("date", "project", "kind", "leader_attended", "next_contact_on")
    list_filter = ("kind", "leader_attended")
    raw_id_fields = ("project", "our_participants", "created_by")
    inlines = [FollowUpIssueInline]

    def may_change(self, user, obj) -> bool:
        return permissions.can_log_followup(user, obj.project)


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ("original_name", "kind", "status", "uploaded_by", "created_at",
                    "created_count", "updated_count")
    list_filter = ("kind", "status")
