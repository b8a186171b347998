"""Response headers and request limits that every door shares (issue "Hardening", 9 and 10).

The Content-Security-Policy itself is django-csp's (CONTENT_SECURITY_POLICY in settings); what
lives here is what it does not do: the Permissions-Policy header, the request body cap, and
nonces for the one third-party page whose template carries an inline script.
"""

from django.conf import settings
from django.http import HttpResponse
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _


class PermissionsPolicyMiddleware:
    """Sends PERMISSIONS_POLICY as the Permissions-Policy header (Django 5.2 has no setting for
    it). A feature mapped to an empty list is off for the page and every frame in it."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = ", ".join(
            f"{feature}=({' '.join(allow)})"
            for feature, allow in getattr(settings, "PERMISSIONS_POLICY", {}).items())

    def __call__(self, request):
        response = self.get_response(request)
        if self.header:
            response.headers.setdefault("Permissions-Policy", self.header)
        return response


class RequestBodyLimitMiddleware:
    """Refuses with 413 a request whose declared body is over MAX_REQUEST_BODY_SIZE, before
    anything reads it: the upload checks (crm.core.uploads) only run once the whole body has
    been read, spooled to disk and parsed.

    Only Content-Length needs checking. Under WSGI (gunicorn) a chunked request carries no
    Content-Length, and Django then reads no body at all (its LimitedStream is bounded by the
    declared length), so a chunked body can never be read past the cap; a body longer than
    its Content-Length is cut at that length the same way. Fields outside files are further
    bounded by DATA_UPLOAD_MAX_MEMORY_SIZE while parsing. nginx's client_max_body_size, set to
    the same number (README), stops the bytes before they reach the app at all.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.MAX_REQUEST_BODY_SIZE
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0  # Django itself reads no body from an unparseable length.
        if limit and declared > limit:
            return HttpResponse(
                _("The request is too large: %(size)s, over the limit of %(limit)s.")
                % {"size": filesizeformat(declared), "limit": filesizeformat(limit)},
                status=413, content_type="text/plain; charset=utf-8",
                # The unread body would otherwise be taken for the next request's start.
                headers={"Connection": "close"})
        return self.get_response(request)


class NonceTemplateMiddleware:
    """Renders drf-spectacular's Swagger UI (/api/docs/) with our copy of its template, which
    puts the CSP nonce on the page's inline init script and style, so the policy needs no
    'unsafe-inline' there either. Its own template cannot be overridden the usual way because
    drf_spectacular comes before crm.core in INSTALLED_APPS; a DRF Response is still a template
    response at this point, so its template name can be swapped before it renders."""

    overrides = {"drf_spectacular/swagger_ui.html": "crm/csp/swagger_ui.html"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_template_response(self, request, response):
        name = getattr(response, "template_name", None)
        if isinstance(name, str) and name in self.overrides:
            response.template_name = self.overrides[name]
        return response
