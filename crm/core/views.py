from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token
from django.views.i18n import set_language as django_set_language

from .exceptions import BadParameter
from .navigation import nav

# The roof plugs in the page each role sees first (crm.dashboards registers its view in
# AppConfig.ready()); the floor keeps only the hook, so it never imports an app. A registered
# view returns a response, or None to pass (a user with no role that has a dashboard).
home_pages: list = []


def register_home_page(view) -> None:
    if view not in home_pages:
        home_pages.append(view)


def home(request):
    for view in home_pages:
        response = view(request)
        if response is not None:
            return response
    sections = nav.for_user(request.user, request.path)
    return render(request, "crm/home.html", {"sections": sections})


# The language switch is offered on the login page too, before anyone has signed in.
set_language = login_not_required(django_set_language)


# --- Error pages (crm/urls.py: handler400; settings: CSRF_FAILURE_VIEW) -------------------------
# Django's own 400 view renders its template without the request (so without the navigation or
# the user) and its CSRF failure page is an English one of its own. These render the product's
# pages. 403 and 404 need no view of ours: Django's render 403.html and 404.html with the
# request; 500.html is rendered with no context at all and is written for that.

@login_not_required
@requires_csrf_token
def bad_request(request, exception=None):
    """A 400: a BadParameter says which parameter and why (its message is written for the
    user); any other BadRequest or SuspiciousOperation says nothing about the input."""
    reason = exception.message if isinstance(exception, BadParameter) else ""
    return render(request, "400.html", {"reason": reason}, status=400)


@login_not_required
def csrf_failure(request, reason=""):
    """A form sent without a valid CSRF token: most often one left open past a sign-out or a
    session's end. Django's `reason` is for developers; the page says what to do."""
    return render(request, "403.html", {
        "exception": _("This form has expired or was not sent from this site, so nothing was "
                       "saved."),
        "csrf_failed": True,
    }, status=403)
