from django.contrib import admin

from .models import AccessRecord, DeniedAttempt


class ReadOnlyAdmin(admin.ModelAdmin):
    """The audit is append-only: readable in the admin, never added to, changed or deleted."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AccessRecord)
class AccessRecordAdmin(ReadOnlyAdmin):
    list_display = ("at", "user", "action", "content_type", "object_id", "ip", "path")
    list_filter = ("action", "content_type")
    date_hierarchy = "at"


@admin.register(DeniedAttempt)
class DeniedAttemptAdmin(ReadOnlyAdmin):
    list_display = ("at", "user", "method", "path", "reason", "ip")
    date_hierarchy = "at"
