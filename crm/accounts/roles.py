"""The five roles of the product, kept as Django groups with exactly these names.

The groups themselves are created by a data migration (so a fresh install has them). Which
model permissions each role holds is declared by each app in its AppConfig.ready() through
grant(); after every migrate, sync_role_permissions() gives the groups what was declared. This
way the floor never needs to know the apps' models, and a new app's permissions arrive with
its first migration.
"""

from collections import defaultdict

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    INVESTMENT_STAFF = "investment_staff", _("Investment staff")
    PARK_MANAGER = "park_manager", _("Park manager")
    LEADER = "leader", _("Leader")
    FUND_REVIEWER = "fund_reviewer", _("Fund reviewer")
    ADMINISTRATOR = "administrator", _("Administrator")


_declared: dict[str, set[str]] = defaultdict(set)


def grant(role: str, *permissions: str) -> None:
    """Declare that `role` holds the given "app_label.codename" permissions."""
    _declared[str(role)].update(permissions)


def sync_role_permissions(sender=None, **kwargs) -> None:
    from django.contrib.auth.models import Group, Permission

    for role in Role.values:
        group, _created = Group.objects.get_or_create(name=role)
        wanted = _declared.get(role, set())
        perms = []
        for dotted in sorted(wanted):
            app_label, codename = dotted.split(".", 1)
            perm = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if perm is not None:  # the model may not be migrated yet in this run
                perms.append(perm)
        group.permissions.add(*perms)


def user_roles(user) -> frozenset[str]:
    """The role names of `user`, cached on the instance for the request."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_role_cache", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        if user.is_superuser:
            names.add(Role.ADMINISTRATOR)
        cached = frozenset(names & set(Role.values))
        user._role_cache = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(user_roles(user) & {str(r) for r in roles})


def role_labels(user) -> list[str]:
    labels = dict(Role.choices)
    return [str(labels[r]) for r in Role.values if r in user_roles(user)]
