"""Accounts in the admin, without a way up (issue "Hardening").

Administrators manage accounts: they create them, activate and deactivate them (is_active),
open the admin to them (is_staff: what a user then sees there is bounded by their roles'
permissions and the access rules of crm.core.admin) and give them roles, the five groups of
roles.Role. Only a superuser grants superuser status or raw permissions, edits a superuser
(their password included), edits the groups' permissions, or changes their own roles. The
form leaves those fields read-only and save_model refuses a crafted POST that slips past it.
"""

from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from knox.models import AuthToken
from simple_history.admin import SimpleHistoryAdmin

from crm.core.admin import AccessRuleAdmin

from .models import User
from .roles import Role

# What only a superuser may set on a user.
SUPERUSER_ONLY_FIELDS = ("is_superuser", "user_permissions")


@admin.register(User)
class UserAdmin(AccessRuleAdmin, BaseUserAdmin, SimpleHistoryAdmin):
    list_display = ("username", "full_name", "email", "is_active", "is_staff")
    list_filter = ("is_active", "is_staff", "groups")
    search_fields = ("username", "full_name", "email")
    fieldsets = BaseUserAdmin.fieldsets + (
        (_("Profile"), {"fields": ("full_name", "phone", "title")}),
    )
    actions = ["revoke_api_tokens"]

    def has_revoke_tokens_permission(self, request):
        return request.user.has_perm("knox.delete_authtoken")

    @admin.action(description=_("Revoke the selected users' API tokens"),
                  permissions=["revoke_tokens"])
    def revoke_api_tokens(self, request, queryset):
        from .services import tokens_revoke_all

        if not request.user.is_superuser:
            # Like every other change to a superuser, theirs is a superuser's business.
            queryset = queryset.filter(is_superuser=False)
        revoked = sum(tokens_revoke_all(user=user) for user in queryset)
        self.message_user(request, ngettext("%(n)d API token revoked.",
                                            "%(n)d API tokens revoked.", revoked) % {"n": revoked},
                          messages.SUCCESS)

    def may_change(self, user, obj) -> bool:
        # Nobody but a superuser edits a superuser (nor sets their password: Django's
        # password page asks this too).
        return not obj.is_superuser

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        if allowed and obj is not None and not request.user.is_superuser:
            return not obj.is_superuser
        return allowed

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += [f for f in SUPERUSER_ONLY_FIELDS if f not in readonly]
            if obj is not None and obj.pk == request.user.pk and "groups" not in readonly:
                # An administrator who made themselves a leader would read every
                # confidential deal: another administrator gives them a role.
                readonly.append("groups")
        return readonly

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups" and not request.user.is_superuser:
            # Roles are the groups of roles.Role; other groups are a superuser's business.
            kwargs["queryset"] = Group.objects.filter(name__in=Role.values).order_by("name")
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "groups" and field is not None:
            labels = dict(Role.choices)
            field.label_from_instance = lambda group: str(labels.get(group.name, group.name))
        return field

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser:
            # The fields are read-only for them; this is the guarantee behind the form.
            stored = (User.objects.filter(pk=obj.pk).values("is_superuser").first()
                      if change else None) or {"is_superuser": False}
            if obj.is_superuser != stored["is_superuser"]:
                raise PermissionDenied
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        kept = []
        if change and not request.user.is_superuser and "groups" in form.fields:
            # The form offers role groups only; keep any other group a superuser gave.
            kept = list(form.instance.groups.exclude(name__in=Role.values))
        super().save_related(request, form, formsets, change)
        if kept:
            form.instance.groups.add(*kept)


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin):
    """The roles' permissions are declared in code (roles.grant, synced after migrate). An
    administrator who could edit a group here could give their own role any permission, so
    groups are read-only to everyone but superusers."""

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class AuthTokenAdmin(admin.ModelAdmin):
    """API tokens, to revoke (delete) them: a leaver's or a lost laptop's. knox's own admin also
    creates tokens and shows the new token in a message; here tokens come only from a user's
    own sign-in, so an administrator never holds a working token of someone else."""

    list_display = ("token_key", "user", "created", "expiry")
    list_select_related = ("user",)
    search_fields = ("token_key", "user__username", "user__full_name")
    date_hierarchy = "created"
    ordering = ("-created",)
    fields = ("token_key", "user", "created", "expiry")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        if allowed and obj is not None and not request.user.is_superuser:
            return not obj.user.is_superuser
        return allowed
