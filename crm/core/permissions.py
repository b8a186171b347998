"""The two shapes every permission takes, written once.

- Write services decide: `require(allowed, message)` raises PermissionDenied (403 on a page,
  403 in the API) with a reason a person can act on. The services import their app's
  predicates (leads/permissions.py, parks/permissions.py ...) and call this; views and the API
  never decide, they call the service.
- Role-only screens (a leader's report, an administrator's settings page) are gated by one
  decorator, `role_required(...)`, so the 403 a park manager gets on the leader dashboard and
  the entry hidden from their navigation come from the same list of roles.
"""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.permissions import BasePermission

from crm.accounts.roles import has_role


def require(allowed: bool, message: str | None = None) -> None:
    """Raise PermissionDenied(message) unless `allowed`."""
    if not allowed:
        raise PermissionDenied(message or _("You are not allowed to do this."))


def role_required(*roles: str):
    """A view decorator: only users holding one of `roles` get past; others get 403."""
    wanted = frozenset(str(role) for role in roles)

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            require(has_role(request.user, *wanted),
                    _("This page is for another role."))
            return view(request, *args, **kwargs)

        wrapper.required_roles = wanted
        return wrapper

    return decorator


def role_permission(*roles: str):
    """The API's counterpart of role_required: a DRF permission class admitting `roles`."""
    wanted = frozenset(str(role) for role in roles)

    class HasRole(BasePermission):
        message = gettext_lazy("This endpoint is for another role.")

        def has_permission(self, request, view) -> bool:
            return has_role(request.user, *wanted)

    HasRole.required_roles = wanted
    return HasRole
