from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render
from django.views.i18n import set_language as django_set_language

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
