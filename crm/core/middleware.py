from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.http import HttpResponseBadRequest
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

from .exceptions import BadParameter


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


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    """Chinese unless the user chose otherwise. Django's LocaleMiddleware would follow the
    browser's Accept-Language, so an office PC with an English Windows would show English;
    here only the language switch (its cookie) changes the language."""

    def process_request(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class BadParameterMiddleware:
    """A page's BadParameter becomes a 400 that says which parameter and why (Django's own
    400 page says nothing, and in DEBUG it would be the technical page): the product's 400
    page, or for an htmx fragment the bare reason."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, BadParameter):
            if getattr(request, "htmx", False):  # a fragment: the reason alone, no page
                return HttpResponseBadRequest(exception.message,
                                              content_type="text/plain; charset=utf-8")
            from .views import bad_request  # the product's 400 page, with the reason

            return bad_request(request, exception)
        return None
