from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired


class LoginRequiredMiddleware(DjangoLoginRequired):
    """Every page requires a signed-in user unless its view says @login_not_required.

    The API is left to DRF, which authenticates tokens as well as sessions and answers
    401/403 instead of redirecting to a login page a script cannot use; its default
    permission class is IsAuthenticated, so nothing there is open either.
    """

    exempt_prefixes = ("/api/", settings.STATIC_URL)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith(self.exempt_prefixes):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
