from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from . import services
from .models import Delivery, Preference, Reminder, ReminderRule
from .registry import rule_kinds


@admin.register(ReminderRule)
class ReminderRuleAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "kind", "days", "severity", "recipients", "is_active")
    list_editable = ("days", "severity", "is_active")
    list_filter = ("kind", "is_active")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "kind":
            from django import forms

            return forms.ChoiceField(choices=[(k.kind, f"{k.kind} · {k.label}")
                                              for k in rule_kinds()], label=db_field.verbose_name)
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ("title", "recipient", "rule", "severity", "due_on", "created_at", "read_at")
    list_filter = ("rule", "severity")
    list_select_related = ("recipient", "rule")
    raw_id_fields = ("recipient",)


@admin.action(description=_("Retry the selected failed deliveries"))
def retry_deliveries(modeladmin, request, queryset):
    failed = queryset.filter(status=Delivery.Status.FAILED)
    for delivery in failed:
        services.delivery_retry(delivery=delivery)
    messages.success(request, _("%(n)s deliveries queued again.") % {"n": failed.count()})


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("reminder", "channel", "status", "attempts", "sent_at", "last_error")
    list_filter = ("status", "channel")
    list_select_related = ("reminder",)
    actions = [retry_deliveries]
    # The key, to match a delivery with a robot gateway's log (channels.idempotency_key).
    readonly_fields = ("reminder", "channel", "status", "attempts", "last_error", "claimed_at",
                       "sent_at", "key")


admin.site.register(Preference)
