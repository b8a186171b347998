from crm.accounts.roles import role_labels

from .navigation import nav


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_sections": nav.for_user(user, request.path),
        "user_role_labels": role_labels(user),
    }
