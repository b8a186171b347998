from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

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
)


@admin.register(Stage)
class StageAdmin(SimpleHistoryAdmin):
    list_display = ("order", "code", "name", "kind", "probability", "milestone",
                    "requires_agreement", "requires_uscc", "is_active")
    list_display_links = ("code",)
    list_editable = ("order", "name", "probability", "is_active")
    ordering = ("order",)


@admin.register(LostReason)
class LostReasonAdmin(admin.ModelAdmin):
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
class CompanyAdmin(SimpleHistoryAdmin):
    list_display = ("name", "uscc", "industry", "source_region", "created_at")
    list_filter = ("source_region",)
    search_fields = ("name", "uscc", "name_initials")
    list_select_related = ("industry",)
    inlines = [ChainLinkInline, ContactInline, QualificationInline]
    raw_id_fields = ("industry", "created_by")


class StageEventInline(admin.TabularInline):
    model = StageEvent
    extra = 0
    fk_name = "project"
    readonly_fields = ("from_stage", "to_stage", "at", "by", "note", "lost_reason")
    can_delete = False


@admin.register(Project)
class ProjectAdmin(SimpleHistoryAdmin):
    list_display = ("name", "company", "stage", "owner", "agreed_investment_wan", "next_step_on",
                    "confidential")
    list_filter = ("stage", "channel", "confidential")
    search_fields = ("name", "company__name")
    list_select_related = ("company", "stage", "owner")
    raw_id_fields = ("company", "owner", "collaborators")
    readonly_fields = ("stage", "stage_entered_at", "signed_on", "last_contact_on")
    inlines = [StageEventInline]

    def get_queryset(self, request):
        # The admin obeys the same access rule as every other read.
        return super().get_queryset(request).visible_to(request.user)


class FollowUpIssueInline(admin.TabularInline):
    model = FollowUpIssue
    extra = 0


@admin.register(FollowUp)
class FollowUpAdmin(SimpleHistoryAdmin):
    list_display = ("date", "project", "kind", "leader_attended", "next_contact_on")
    list_filter = ("kind", "leader_attended")
    raw_id_fields = ("project", "our_participants", "created_by")
    inlines = [FollowUpIssueInline]

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ("original_name", "kind", "status", "uploaded_by", "created_at",
                    "created_count", "updated_count")
    list_filter = ("kind", "status")
